"""The Strategy protocol: pure, synchronous, blind to mode, broker and wall clock."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from app.domain.detection import DetectionKind
from app.domain.market import Bar
from app.domain.position import Lot
from app.domain.signal import Signal
from app.exits.config import ExitConfig
from app.indicators import IndicatorSet, Ref


class Strategy(Protocol):
    name: str
    priority: int
    interval_s: int
    exit: ExitConfig
    accepts: frozenset[DetectionKind]  # detection tags it trades; empty: any symbol

    @property
    def indicators(self) -> tuple[Ref, ...]:
        """What it reads; the shard computes exactly these (and their inputs), once per bar."""
        ...

    def on_bar(self, bar: Bar, ind: IndicatorSet, lots: Sequence[Lot]) -> Signal | None:
        """React to a closed bar of `interval_s`; `ind` already includes this bar, `lots` are this
        strategy's open lots in the symbol."""
        ...
