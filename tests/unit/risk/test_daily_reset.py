"""When the daily reset is due (New York pre-open, trading days only, DST-safe) and what it does."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.calendar import is_trading_day, local_time_ns
from app.ports.risk_state import (
    GLOBAL,
    AuditEntry,
    BreakerState,
    DailyCounters,
    Halt,
    HaltKind,
    StrategyState,
)
from app.risk.daily_reset import reset_due, run_daily_reset

NS = 1_000_000_000


def utc_ns(iso: str) -> int:
    """ns since the epoch of a UTC wall-clock time, e.g. "2026-03-09T08:00"."""
    moment = dt.datetime.fromisoformat(iso).replace(tzinfo=dt.UTC)
    return (moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1) * 1_000


def ny_ns(iso_day: str, hour: int, minute: int = 0) -> int:
    return local_time_ns(dt.date.fromisoformat(iso_day), hour, minute)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        # 2026-03-09, the Monday after clocks went forward: 04:00 EDT is 08:00 UTC.
        (utc_ns("2026-03-09T07:59:59.999999"), None),
        (utc_ns("2026-03-09T08:00"), "2026-03-09"),
        # 2026-11-02, the Monday after clocks went back: 04:00 EST is 09:00 UTC.
        (utc_ns("2026-11-02T08:30"), None),
        (utc_ns("2026-11-02T09:00"), "2026-11-02"),
        # The Sundays the clocks change and a Saturday: never.
        (ny_ns("2026-03-08", 12), None),
        (ny_ns("2026-11-01", 12), None),
        (ny_ns("2026-03-07", 4), None),
        # Holidays: MLK, Good Friday, Independence Day observed, Thanksgiving, Christmas.
        (ny_ns("2026-01-19", 4), None),
        (ny_ns("2026-04-03", 10), None),
        (ny_ns("2026-07-03", 10), None),
        (ny_ns("2026-11-26", 10), None),
        (ny_ns("2026-12-25", 10), None),
        # An early-close day is a trading day; a reset is due from 04:00 until midnight.
        (ny_ns("2026-11-27", 4), "2026-11-27"),
        (ny_ns("2026-03-09", 3, 59), None),
        (ny_ns("2026-03-09", 23, 59), "2026-03-09"),
        (ny_ns("2026-03-10", 0, 30), None),
    ],
)
def test_reset_due_from_pre_open_on_trading_days(now: int, expected: str | None) -> None:
    assert reset_due(None, now) == expected


def test_reset_due_once_per_day() -> None:
    now = ny_ns("2026-03-09", 4, 1)
    assert reset_due("2026-03-06", now) == "2026-03-09"
    assert reset_due("2026-03-09", now) is None
    assert reset_due("2026-03-10", now) is None  # a later day already reset: nothing to redo
    assert reset_due("2026-03-09", ny_ns("2026-03-10", 3, 59)) is None
    assert reset_due("2026-03-09", ny_ns("2026-03-10", 4)) == "2026-03-10"
    with pytest.raises(ValueError):
        reset_due("last monday", now)


@given(st.dates(min_value=dt.date(1998, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_a_reset_is_due_exactly_from_four_new_york_on_trading_days(day: dt.date) -> None:
    pre_open = local_time_ns(day, 4)
    midnight_after = local_time_ns(day + dt.timedelta(days=1), 0)
    if is_trading_day(day):
        assert reset_due(None, pre_open - 1) is None
        assert reset_due(None, pre_open) == day.isoformat()
        assert reset_due(None, midnight_after - 1) == day.isoformat()
    else:
        assert reset_due(None, pre_open) is None
        assert reset_due(None, midnight_after - 1) is None


class MemoryRiskState:
    """A hand-written RiskStateStore in memory, enough to watch what the reset touches."""

    def __init__(self) -> None:
        self.halted: dict[tuple[str, HaltKind], Halt] = {}
        self.states: dict[str, StrategyState] = {}
        self.counters: dict[tuple[str, str], DailyCounters] = {}
        self.breakers: dict[str, BreakerState] = {}
        self.resets: dict[str, str] = {}
        self.entries: list[AuditEntry] = []

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def halts(self) -> list[Halt]:
        return list(self.halted.values())

    async def halt(self, halt: Halt) -> bool:
        if (halt.scope, halt.kind) in self.halted:
            return False
        self.halted[halt.scope, halt.kind] = halt
        return True

    async def resume(self, scope: str, *, actor: str, reason: str, now_ns: int) -> list[Halt]:
        cleared = [h for h in self.halted.values() if h.scope == scope]
        for h in cleared:
            del self.halted[h.scope, h.kind]
        self.entries.append(AuditEntry(now_ns, actor, "resume", scope, reason))
        return cleared

    async def strategy_states(self) -> list[StrategyState]:
        return sorted(self.states.values(), key=lambda s: s.strategy)

    async def save_strategy_state(self, state: StrategyState) -> None:
        self.states[state.strategy] = state

    async def daily_counters(self, trading_day: str) -> list[DailyCounters]:
        return [c for (day, _), c in sorted(self.counters.items()) if day == trading_day]

    async def save_daily_counters(self, counters: DailyCounters) -> None:
        self.counters[counters.trading_day, counters.strategy] = counters

    async def breaker(self, name: str) -> BreakerState | None:
        return self.breakers.get(name)

    async def save_breaker(self, state: BreakerState) -> None:
        self.breakers[state.name] = state

    async def claim_daily_reset(self, trading_day: str, *, actor: str, now_ns: int) -> bool:
        if trading_day in self.resets:
            return False
        self.resets[trading_day] = actor
        return True

    async def audit(self, entry: AuditEntry) -> None:
        self.entries.append(entry)

    async def audit_log(self, limit: int) -> list[AuditEntry]:
        return sorted(self.entries, key=lambda e: -e.ts_ns)[:limit]


async def test_the_reset_starts_the_days_counters_and_keeps_everything_else() -> None:
    store = MemoryRiskState()
    halts = [
        Halt(GLOBAL, HaltKind.DRAWDOWN, "drawdown 5%", 1, "breaker"),
        Halt("breakout", HaltKind.DAILY_LOSS, "lost 500", 2, "risk"),
    ]
    for halt in halts:
        await store.halt(halt)
    states = [
        StrategyState("breakout", Decimal("-500.00"), Decimal("120.00"), 3, 7),
        StrategyState("vwap", Decimal("10.00"), Decimal("10.00")),
    ]
    for state in states:
        await store.save_strategy_state(state)
    yesterday = DailyCounters("2026-03-06", "breakout", Decimal("-500.00"), 4, 2)
    already_trading = DailyCounters("2026-03-09", "vwap", Decimal("1.50"), 1, 0)
    broker = BreakerState("broker", "open", 5, 99)
    for counters in (yesterday, already_trading):
        await store.save_daily_counters(counters)
    await store.save_breaker(broker)

    assert await run_daily_reset(store, now_ns=ny_ns("2026-03-09", 4), actor="host-a")

    assert store.resets == {"2026-03-09": "host-a"}
    assert await store.daily_counters("2026-03-09") == [already_trading]
    assert await store.daily_counters("2026-03-06") == [yesterday]
    assert await store.halts() == halts
    assert await store.strategy_states() == states
    assert await store.breaker("broker") == broker


async def test_the_reset_runs_once_and_only_when_due() -> None:
    store = MemoryRiskState()
    await store.save_strategy_state(StrategyState("breakout"))
    assert not await run_daily_reset(store, now_ns=ny_ns("2026-03-09", 3, 59), actor="early")
    assert not await run_daily_reset(store, now_ns=ny_ns("2026-03-08", 12), actor="sunday")
    assert store.resets == {}
    assert store.counters == {}

    assert await run_daily_reset(store, now_ns=ny_ns("2026-03-09", 4, 2), actor="a")
    store.counters["2026-03-09", "breakout"] = DailyCounters("2026-03-09", "breakout", trades=3)
    assert not await run_daily_reset(store, now_ns=ny_ns("2026-03-09", 9, 45), actor="b")
    assert store.resets == {"2026-03-09": "a"}
    assert await store.daily_counters("2026-03-09") == [
        DailyCounters("2026-03-09", "breakout", trades=3)
    ]
