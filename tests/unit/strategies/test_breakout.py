"""The breakout on crafted bar sequences, fed through the indicator registry as a shard does."""

from decimal import Decimal

from app.domain.market import Bar, Session
from app.domain.position import Lot
from app.domain.signal import Side, Signal, SignalKind
from app.indicators import IndicatorBook, IndicatorPlan
from app.strategies.breakout import Breakout, BreakoutParams
from tests.builders import MINUTE, OPEN_NS, bar

PARAMS = BreakoutParams(lookback=5, volume_mult=2.0, min_minutes_into_session=2)


class Feed:
    def __init__(self, strategy: Breakout) -> None:
        self.strategy = strategy
        self.book = IndicatorBook(IndicatorPlan.of(*strategy.indicators))

    def __call__(self, b: Bar, lots: list[Lot] | None = None) -> Signal | None:
        return self.strategy.on_bar(b, self.book.update(b), lots or [])


def _quiet(feed: Feed, n: int) -> int:
    for i in range(n):
        assert feed(bar(ts_ns=OPEN_NS + i * MINUTE, o=10, h=10.1, c=10, volume=1000)) is None
    return OPEN_NS + n * MINUTE


def test_fires_on_a_volume_confirmed_new_high() -> None:
    feed = Feed(Breakout(PARAMS))
    t = _quiet(feed, 6)
    signal = feed(bar(ts_ns=t, o=10.05, h=10.4, c=10.35, volume=2500))
    assert signal is not None
    assert signal.kind is SignalKind.ENTRY and signal.side is Side.BUY
    assert signal.ts_ns == t + MINUTE
    assert signal.stop_price is not None and signal.stop_price < 10.35
    assert signal.indicators["high_n_before"] == 10.1
    assert signal.indicators["max_5_high"] == 10.4  # the audit snapshot, this bar included


def test_no_fire_without_volume() -> None:
    feed = Feed(Breakout(PARAMS))
    t = _quiet(feed, 6)
    assert feed(bar(ts_ns=t, o=10.05, h=10.4, c=10.35, volume=1500)) is None


def test_no_fire_below_the_high_or_on_a_down_bar() -> None:
    feed = Feed(Breakout(PARAMS))
    t = _quiet(feed, 6)
    assert feed(bar(ts_ns=t, o=10.0, h=10.1, c=10.08, volume=5000)) is None
    assert feed(bar(ts_ns=t + MINUTE, o=10.5, h=10.6, c=10.3, volume=5000)) is None


def test_no_fire_when_holding_or_outside_regular_session() -> None:
    feed = Feed(Breakout(PARAMS))
    t = _quiet(feed, 6)
    held = Lot("e", "breakout", "ABC", Side.BUY, 0, Decimal(1), Decimal(1), Decimal(10))
    assert feed(bar(ts_ns=t, o=10.05, h=10.4, c=10.35, volume=3000), [held]) is None
    pre = bar(ts_ns=t + MINUTE, o=10.05, h=10.9, c=10.8, volume=9000, session=Session.PRE)
    assert feed(pre) is None


def test_not_in_the_first_minutes_of_the_session() -> None:
    feed = Feed(Breakout(BreakoutParams(lookback=2, min_minutes_into_session=5)))
    _quiet(feed, 3)
    t = OPEN_NS + 3 * MINUTE
    assert feed(bar(ts_ns=t, o=10.05, h=10.4, c=10.35, volume=9000)) is None


def test_it_demands_only_what_it_reads() -> None:
    assert [ref.key for ref in Breakout(PARAMS).indicators] == [
        "max_5_high",
        "sma_5_volume",
        "minutes_since_open",
    ]
