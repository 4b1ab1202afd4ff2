"""Keeps the executor's risk state in step with the database and the broker.

Loads it before the first decision, persists every change a fill makes before trading on,
picks up halts engaged elsewhere (the CLI, the API), keeps the broker's buying power fresh,
runs the once-a-day reset, and persists the broker-failure breaker.
"""

from __future__ import annotations

import asyncio
import datetime

import structlog

from app.bus.codec import encode
from app.bus.topics import UI_EVENTS
from app.domain.calendar import previous_trading_day, trading_day
from app.engine.execution import ExecutionEngine
from app.engine.portfolio import FillEffect
from app.ports.broker import Broker, BrokerError
from app.ports.bus import MessageBus
from app.ports.clock import Clock
from app.ports.risk_state import Halt, RiskStateStore
from app.risk.breaker import FailureBreaker
from app.risk.daily_reset import reset_due, run_daily_reset

log = structlog.get_logger()

PDT_WINDOW_DAYS = 5


class RiskKeeper:
    def __init__(
        self,
        *,
        engine: ExecutionEngine,
        store: RiskStateStore,
        broker: Broker,
        breaker: FailureBreaker,
        bus: MessageBus,
        clock: Clock,
        actor: str,
        refresh_s: float = 1.0,
    ) -> None:
        self._engine = engine
        self._store = store
        self._broker = broker
        self.breaker = breaker
        self._bus = bus
        self._clock = clock
        self._actor = actor
        self._refresh_s = refresh_s
        self._last_reset: str | None = None

    async def load(self) -> None:
        now = self._clock.now_ns()
        day = trading_day(now)
        self._engine.risk_book.load(
            day=day.isoformat(),
            halts=await self._store.halts(),
            states=await self._store.strategy_states(),
            counters=await self._store.daily_counters(day.isoformat()),
            prior_day_trades=await self._prior_day_trades(day),
        )
        saved = await self._store.breaker(self.breaker.state.name)
        if saved is not None:
            self.breaker.state = saved
        await self._refresh_account()
        log.info("risk_state_loaded", halts=len(self._engine.risk_book.halts), day=day.isoformat())

    async def _prior_day_trades(self, day: datetime.date) -> int:
        total, cursor = 0, day
        for _ in range(PDT_WINDOW_DAYS - 1):
            cursor = previous_trading_day(cursor)
            total += sum(c.day_trades for c in await self._store.daily_counters(cursor.isoformat()))
        return total

    async def after_fill(self, effect: FillEffect) -> None:
        """Book the fill's risk consequences and persist them; a tripped breaker halts at once."""
        book = self._engine.risk_book
        if effect.order.is_entry:
            book.on_entry_fill(effect.lot.entry_order_id, ts_ns=effect.fill.ts_ns)
        if effect.trade is None:
            return
        changes = book.on_trade(
            effect.trade, lot_closed=effect.lot.qty_open == 0, now_ns=self._clock.now_ns()
        )
        for state in changes.states:
            await self._store.save_strategy_state(state)
        for counters in changes.counters:
            await self._store.save_daily_counters(counters)
        for halt in changes.halts:
            await self._halted(halt)

    async def _halted(self, halt: Halt) -> None:
        if await self._store.halt(halt):
            log.warning(
                "breaker_tripped", scope=halt.scope, kind=halt.kind.value, reason=halt.reason
            )
            await self._bus.broadcast(UI_EVENTS, encode(halt))

    async def record_submit(self, *, ok: bool) -> None:
        before = self.breaker.state
        if ok:
            self.breaker.record_success()
        else:
            self.breaker.record_failure(self._clock.now_ns())
        if self.breaker.state != before:
            await self._store.save_breaker(self.breaker.state)
            if self.breaker.state.state != before.state:
                log.warning("broker_breaker_changed", state=self.breaker.state.state)

    async def _refresh_account(self) -> None:
        """A venue that cannot be read right now (its connection dropped and is being
        re-established, an error answer) leaves the last reading in place until the next poll;
        before any reading, entries are refused for want of buying power. It never stops the
        executor: a reconnect storm is ridden out, not fatal (S16)."""
        try:
            account = await self._broker.account()
        except BrokerError as exc:
            log.warning("account_refresh_failed", error=repr(exc))
            return
        self._engine.view.set_account(account, now_ns=self._clock.now_ns())

    async def run(self) -> None:
        """Poll halts and the account, and run the daily reset when one is due."""
        while True:
            await asyncio.sleep(self._refresh_s)
            await self.step()

    async def step(self) -> None:
        """One poll: halts edited elsewhere, the broker account, a due daily reset."""
        self._engine.risk_book.set_halts(await self._store.halts())
        await self._refresh_account()
        await self._daily_reset()

    async def _daily_reset(self) -> None:
        now = self._clock.now_ns()
        day = reset_due(self._last_reset, now)
        if day is None:
            return
        did = await run_daily_reset(self._store, now_ns=now, actor=self._actor)
        self._last_reset = day
        self._engine.risk_book.new_day(
            day, prior_day_trades=await self._prior_day_trades(datetime.date.fromisoformat(day))
        )
        log.info("daily_reset", day=day, ran_here=did)
