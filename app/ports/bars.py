"""Where historical bars come from: a venue's bar history, for warming a shard that has no ticks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from app.domain.market import Bar


class BarSource(Protocol):
    async def fetch_bars(
        self, symbols: Sequence[str], *, start_ns: int, end_ns: int, interval_s: int
    ) -> list[Bar]:
        """Bars of `interval_s` starting in [start_ns, end_ns], ordered by time then symbol."""
        ...
