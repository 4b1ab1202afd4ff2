"""New high of day on volume above VWAP."""

import pytest

from app.domain.detection import FAST_AND_SLOW
from app.domain.market import Session
from app.strategies.high_of_day import HighOfDay, HighOfDayParams
from tests.unit.strategies.feed import Feed, assert_entry, at, held

PARAMS = HighOfDayParams(min_minutes_into_session=3, rvol_period=5, min_rvol=2.0)


def _morning(feed: Feed, *, premarket_volume: int = 500, premarket_price: float = 10.3) -> None:
    """Pre-market up to `premarket_price` + 0.2, then eight regular bars inside 9.95-10.3."""
    assert (
        feed(
            at(
                -10,
                o=premarket_price,
                c=premarket_price,
                h=premarket_price + 0.2,
                low=premarket_price - 0.1,
                volume=premarket_volume,
            )
        )
        is None
    )
    feed.quiet(
        at(i, o=10.0, c=10.1, h=10.3 if i == 4 else 10.15, low=9.95, volume=1000) for i in range(8)
    )


def test_fires_on_a_close_above_the_high_of_day_including_the_pre_market() -> None:
    feed = Feed(HighOfDay(PARAMS))
    _morning(feed)
    # Above the regular-session high (10.3) but not the pre-market one (10.5): not yet.
    assert feed(at(8, o=10.1, c=10.4, volume=3000)) is None
    signal = assert_entry(
        feed(at(9, o=10.4, c=10.6, volume=3000)), strategy="high_of_day", price=10.6
    )
    assert signal.indicators["high_of_day_before"] == 10.5
    assert signal.priority == 30


def test_regular_session_high_only_when_asked() -> None:
    feed = Feed(HighOfDay(HighOfDayParams(include_premarket=False, rvol_period=5)))
    _morning(feed)
    signal = feed(at(8, o=10.1, c=10.4, volume=3000))
    assert signal is not None
    assert signal.indicators["high_of_day_before"] == 10.3


def test_near_miss_volume() -> None:
    feed = Feed(HighOfDay(PARAMS))
    _morning(feed)
    assert feed(at(8, o=10.4, c=10.6, volume=1900)) is None


def test_not_under_vwap() -> None:
    # A heavy pre-market at 11 holds VWAP above the regular session's new high.
    feed = Feed(HighOfDay(HighOfDayParams(include_premarket=False, rvol_period=5)))
    _morning(feed, premarket_volume=50_000, premarket_price=11.0)
    assert feed(at(8, o=10.1, c=10.4, volume=3000)) is None


def test_not_in_the_first_minutes() -> None:
    feed = Feed(HighOfDay(HighOfDayParams(min_minutes_into_session=10, rvol_period=5)))
    _morning(feed)
    assert feed(at(8, o=10.4, c=10.6, volume=3000)) is None


def test_not_when_holding_outside_the_session_or_cold() -> None:
    feed = Feed(HighOfDay(PARAMS))
    _morning(feed)
    assert feed(at(8, o=10.4, c=10.6, volume=3000), held("high_of_day")) is None
    feed = Feed(HighOfDay(PARAMS))
    _morning(feed)
    assert feed(at(8, o=10.4, c=10.6, volume=3000, session=Session.POST)) is None
    cold = Feed(HighOfDay(HighOfDayParams(min_minutes_into_session=3, rvol_period=30)))
    _morning(cold)
    assert cold(at(8, o=10.4, c=10.6, volume=3000)) is None


def test_trades_detected_movers() -> None:
    assert HighOfDay().accepts == FAST_AND_SLOW


def test_params_are_validated() -> None:
    with pytest.raises(ValueError, match="min_rvol"):
        HighOfDayParams(min_rvol=-2)
