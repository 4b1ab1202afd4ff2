from decimal import Decimal

from app.domain.market import Session
from app.domain.position import Lot
from app.domain.signal import Side, SignalKind
from app.strategies.breakout import Breakout, BreakoutParams
from tests.builders import MINUTE, OPEN_NS, bar

PARAMS = BreakoutParams(lookback=5, volume_mult=2.0, min_bars_into_session=2)


def _feed_quiet(strategy: Breakout, n: int) -> int:
    for i in range(n):
        assert (
            strategy.on_bar(bar(ts_ns=OPEN_NS + i * MINUTE, o=10, h=10.1, c=10, volume=1000), [])
            is None
        )
    return OPEN_NS + n * MINUTE


def test_fires_on_a_volume_confirmed_new_high() -> None:
    strategy = Breakout(PARAMS)
    t = _feed_quiet(strategy, 6)
    signal = strategy.on_bar(bar(ts_ns=t, o=10.05, h=10.4, c=10.35, volume=2500), [])
    assert signal is not None
    assert signal.kind is SignalKind.ENTRY and signal.side is Side.BUY
    assert signal.ts_ns == t + MINUTE
    assert signal.stop_price is not None and signal.stop_price < 10.35
    assert signal.indicators["high_n"] == 10.1


def test_no_fire_without_volume() -> None:
    strategy = Breakout(PARAMS)
    t = _feed_quiet(strategy, 6)
    assert strategy.on_bar(bar(ts_ns=t, o=10.05, h=10.4, c=10.35, volume=1500), []) is None


def test_no_fire_below_the_high_or_on_a_down_bar() -> None:
    strategy = Breakout(PARAMS)
    t = _feed_quiet(strategy, 6)
    assert strategy.on_bar(bar(ts_ns=t, o=10.0, h=10.1, c=10.08, volume=5000), []) is None
    assert strategy.on_bar(bar(ts_ns=t + MINUTE, o=10.5, h=10.6, c=10.3, volume=5000), []) is None


def test_no_fire_when_holding_or_outside_regular_session() -> None:
    strategy = Breakout(PARAMS)
    t = _feed_quiet(strategy, 6)
    held = Lot("e", "breakout", "ABC", Side.BUY, 0, Decimal(1), Decimal(1), Decimal(10))
    assert strategy.on_bar(bar(ts_ns=t, o=10.05, h=10.4, c=10.35, volume=3000), [held]) is None
    pre = bar(ts_ns=t + MINUTE, o=10.05, h=10.9, c=10.8, volume=9000, session=Session.PRE)
    assert strategy.on_bar(pre, []) is None


def test_not_in_the_first_bars_of_the_session() -> None:
    strategy = Breakout(BreakoutParams(lookback=2, min_bars_into_session=5))
    _feed_quiet(strategy, 3)
    t = OPEN_NS + 3 * MINUTE
    assert strategy.on_bar(bar(ts_ns=t, o=10.05, h=10.4, c=10.35, volume=9000), []) is None
