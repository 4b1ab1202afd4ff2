"""A breakout from a tight box."""

import pytest

from app.domain.market import Session
from app.strategies.consolidation_breakout import (
    ConsolidationBreakout,
    ConsolidationBreakoutParams,
)
from tests.unit.strategies.feed import Feed, assert_entry, at, held

PARAMS = ConsolidationBreakoutParams(
    lookback=5, atr_period=3, max_range_atr=2.0, max_range_pct=3.0, volume_mult=2.0
)
BREAKOUT = at(8, o=10.03, c=10.18, h=10.2, low=10.02, volume=2500)


def _box(feed: Feed, *, wide: bool = False) -> None:
    """Three loose bars, then five inside 9.98-10.05 (one spiking to 10.4 when `wide`)."""
    feed.quiet(at(i, o=10.0, c=10.0, h=10.1, low=9.9) for i in range(3))
    feed.quiet(
        at(i, o=10.0, c=10.02, h=10.4 if wide and i == 5 else 10.05, low=9.98) for i in range(3, 8)
    )


def test_fires_on_a_volume_close_above_a_tight_box() -> None:
    feed = Feed(ConsolidationBreakout(PARAMS))
    _box(feed)
    signal = assert_entry(feed(BREAKOUT), strategy="consolidation_breakout", price=10.18)
    assert signal.indicators["box_high"] == 10.05
    assert signal.indicators["box_low"] == 9.98
    assert signal.priority == 20


def test_near_miss_the_box_is_not_tight() -> None:
    feed = Feed(ConsolidationBreakout(PARAMS))
    _box(feed, wide=True)
    assert feed(at(8, o=10.3, c=10.45, h=10.5, low=10.3, volume=2500)) is None


def test_needs_volume_and_a_close_above_the_box() -> None:
    feed = Feed(ConsolidationBreakout(PARAMS))
    _box(feed)
    assert feed(at(8, o=10.03, c=10.18, h=10.2, low=10.02, volume=1900)) is None
    assert feed(at(9, o=10.0, c=10.04, h=10.3, low=9.99, volume=5000)) is None


def test_not_when_holding_outside_the_session_or_cold() -> None:
    feed = Feed(ConsolidationBreakout(PARAMS))
    _box(feed)
    assert feed(BREAKOUT, held("consolidation_breakout")) is None
    feed = Feed(ConsolidationBreakout(PARAMS))
    _box(feed)
    assert feed(at(8, o=10.03, c=10.18, volume=2500, session=Session.POST)) is None
    cold = Feed(ConsolidationBreakout(ConsolidationBreakoutParams(lookback=5, atr_period=14)))
    _box(cold)
    assert cold(BREAKOUT) is None


def test_params_are_validated() -> None:
    with pytest.raises(ValueError, match="lookback"):
        ConsolidationBreakoutParams(lookback=1)
    with pytest.raises(ValueError, match="max_range_pct"):
        ConsolidationBreakoutParams(max_range_pct=float("nan"))
