"""The Strategy protocol: pure, synchronous, blind to mode, broker and wall clock."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from app.domain.market import Bar
from app.domain.position import Lot
from app.domain.signal import Signal
from app.exits.config import ExitConfig


class Strategy(Protocol):
    name: str
    priority: int
    interval_s: int
    exit: ExitConfig

    def on_bar(self, bar: Bar, lots: Sequence[Lot]) -> Signal | None:
        """React to a closed bar of `interval_s`; `lots` are this strategy's open lots there."""
        ...
