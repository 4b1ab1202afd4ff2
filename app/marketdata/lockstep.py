"""A feed that moves simulated time in fixed data steps, with the pipeline settled between
steps, so a paper session on the simulated venue is reproducible to the fill."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from app.domain.market import TickBatch
from app.marketdata.synthetic import SyntheticTape


class SteppedClock(Protocol):
    """A clock this feed moves (a SimClock)."""

    def now_ns(self) -> int: ...

    def advance_to(self, ts_ns: int) -> None: ...


class StepDriver(Protocol):
    async def before_step(self) -> None:
        """Everything from the last step is done; the periodic duties run at this time."""
        ...

    async def on_market(self, batch: TickBatch) -> None:
        """The venue sees the step's prints first, and what they fill is booked."""
        ...


class LockstepFeed:
    """Each step: settle and run the periodic duties at the step's start; move the clock to its
    end; give the venue the step's prints; then yield them to the strategies.

    The venue always matches a step before the strategies see it, and an order decided on a
    step goes live one venue latency after the step's end, so what fills when depends on the
    data and the step size alone, never on scheduling.
    """

    def __init__(
        self,
        tape: SyntheticTape,
        clock: SteppedClock,
        *,
        step_ns: int,
        end_ns: int,
        driver: StepDriver,
    ) -> None:
        if step_ns <= 0:
            raise ValueError(f"step_ns must be positive, got {step_ns}")
        self._tape = tape
        self._clock = clock
        self._step_ns = step_ns
        self._end_ns = end_ns
        self._driver = driver
        self._closed = False

    async def stream(self) -> AsyncIterator[TickBatch]:
        while not self._closed and self._clock.now_ns() < self._end_ns:
            await self._driver.before_step()
            self._clock.advance_to(min(self._clock.now_ns() + self._step_ns, self._end_ns))
            batch = self._tape.batch_until(self._clock.now_ns())
            await self._driver.on_market(batch)
            if batch.ticks:
                yield batch
        await self._driver.before_step()

    async def close(self) -> None:
        self._closed = True
