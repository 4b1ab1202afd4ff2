from decimal import Decimal

from app.domain.position import Trade
from app.domain.signal import Side
from app.ports.risk_state import GLOBAL, BreakerState, HaltKind
from app.risk.book import RiskBook, RiskLimits
from app.risk.breaker import BreakerConfig, FailureBreaker
from tests.builders import MINUTE, OPEN_NS, SECOND


def _trade(pnl: str, *, entry: str = "e1", strategy: str = "s", at: int = OPEN_NS) -> Trade:
    return Trade(
        strategy=strategy,
        symbol="ABC",
        side=Side.BUY,
        entry_order_id=entry,
        exit_order_id=f"x-{entry}",
        exit_execution_id=f"ex-{entry}-{pnl}",
        qty=Decimal(1),
        entry_price=Decimal(10),
        exit_price=Decimal(10),
        entry_ns=at - MINUTE,
        exit_ns=at,
        realized_pnl=Decimal(pnl),
    )


def test_loss_streak_starts_a_cooldown_counted_per_round_trip() -> None:
    book = RiskBook(RiskLimits(loss_streak=2, cooldown_ns=600 * SECOND))
    book.on_trade(_trade("-5", entry="a"), lot_closed=False, now_ns=OPEN_NS)  # partial exit
    book.on_trade(_trade("-5", entry="a"), lot_closed=True, now_ns=OPEN_NS)
    assert book.strategy_state("s").loss_streak == 1
    book.on_trade(_trade("-1", entry="b"), lot_closed=True, now_ns=OPEN_NS + MINUTE)
    state = book.strategy_state("s")
    assert state.cooldown_until_ns == OPEN_NS + MINUTE + 600 * SECOND
    assert state.loss_streak == 0
    book.on_trade(_trade("3", entry="c"), lot_closed=True, now_ns=OPEN_NS + 2 * MINUTE)
    assert book.strategy_state("s").loss_streak == 0


def test_drawdown_breakers_trip_once_per_scope_and_persist_as_halts() -> None:
    book = RiskBook(RiskLimits(max_drawdown=Decimal("100"), global_max_drawdown=Decimal("150")))
    book.on_trade(_trade("50", entry="a"), lot_closed=True, now_ns=OPEN_NS)
    changes = book.on_trade(_trade("-149.99", entry="b"), lot_closed=True, now_ns=OPEN_NS)
    assert [h.scope for h in changes.halts] == ["s"]
    assert changes.halts[0].kind is HaltKind.DRAWDOWN
    other = book.on_trade(_trade("-0.01", entry="c", strategy="t"), lot_closed=True, now_ns=OPEN_NS)
    assert [h.scope for h in other.halts] == [GLOBAL]
    again = book.on_trade(_trade("-10", entry="d"), lot_closed=True, now_ns=OPEN_NS)
    assert again.halts == ()
    assert book.halt_for("anything") is not None


def test_daily_counters_are_per_trading_day() -> None:
    book = RiskBook(RiskLimits())
    book.on_entry_fill("a", ts_ns=OPEN_NS - MINUTE)
    book.on_trade(_trade("-20", entry="a"), lot_closed=True, now_ns=OPEN_NS)
    assert book.realized_today() == Decimal("-20")
    assert book.day_trades() == 1
    next_day = OPEN_NS + 3 * 86_400 * SECOND  # Monday
    book.on_trade(_trade("5", entry="b", at=next_day), lot_closed=True, now_ns=next_day)
    assert book.day == "2026-11-23"
    assert book.realized_today() == Decimal("5")
    assert book.strategy_state("s").cumulative_pnl == Decimal("-15")


def test_breaker_opens_after_failures_and_probes_once_per_cooldown() -> None:
    breaker = FailureBreaker(BreakerConfig(threshold=3, cooldown_ns=10), BreakerState("b"))
    for t in range(3):
        assert breaker.allow(t)
        breaker.record_failure(t)
    assert breaker.state.state == "open"
    assert not breaker.allow(5)
    assert breaker.allow(12)  # the one probe
    assert not breaker.allow(13)
    breaker.record_failure(13)
    assert breaker.state.state == "open" and not breaker.allow(20)
    assert breaker.allow(23)
    breaker.record_success()
    assert breaker.state == BreakerState("b") and breaker.allow(24)
