"""Where prices come from."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from app.domain.market import TickBatch


class MarketDataFeed(Protocol):
    def stream(self) -> AsyncIterator[TickBatch]:
        """Batches of raw ticks and quotes, in arrival order, until the feed ends or is closed."""
        ...

    async def close(self) -> None: ...
