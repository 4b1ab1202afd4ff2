"""Playing a synthetic tape through a FakeAlpaca as its market: each print goes out on the
market-data stream once the clock reaches it, and the last print of each symbol becomes the
venue's price, so orders fill where the tape trades."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from app.marketdata.synthetic import SyntheticTape
from app.ports.clock import Clock
from tests.fakes.alpaca.venue import FakeAlpaca


class TapePump:
    def __init__(
        self, venue: FakeAlpaca, tape: SyntheticTape, clock: Clock, *, step_s: float = 0.05
    ) -> None:
        self._venue = venue
        self._tape = tape
        self._clock = clock
        self._step_s = step_s
        self.prints = 0

    async def run(self) -> None:
        while True:
            batch = self._tape.batch_until(self._clock.now_ns())
            if batch.ticks:
                await self._venue.data_stream.publish_batch(batch)
                last = {tick.symbol: tick.price for tick in batch.ticks}
                for symbol, price in last.items():
                    self._venue.ledger.set_price(symbol, Decimal(str(price)))
                self.prints += len(batch.ticks)
            await asyncio.sleep(self._step_s)
