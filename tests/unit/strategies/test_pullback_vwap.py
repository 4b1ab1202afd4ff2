"""A pullback to a rising VWAP."""

import pytest

from app.domain.market import Session
from app.indicators import VWAP
from app.strategies.pullback_vwap import PullbackVwap, PullbackVwapParams
from tests.unit.strategies.feed import Feed, assert_entry, at, held

PARAMS = PullbackVwapParams(min_bars_above=3, touch_pct=0.3, band_mult=1.0, slope_bars=2)


def _ride(feed: Feed) -> float:
    """A heavy opening bar at 10, then four bars riding well above VWAP; returns VWAP."""
    assert feed(at(0, o=10.0, c=10.0, h=10.05, low=9.95, volume=5000)) is None
    feed.quiet(
        at(i, o=c - 0.03, c=c, h=c + 0.02, low=c - 0.05, volume=1000)
        for i, c in enumerate((10.15, 10.2, 10.25, 10.3), start=1)
    )
    return feed.book["ABC"].value(VWAP())


def test_fires_on_a_green_close_after_a_dip_to_vwap() -> None:
    feed = Feed(PullbackVwap(PARAMS))
    vwap = _ride(feed)
    signal = assert_entry(
        feed(at(5, o=10.12, c=10.2, h=10.22, low=vwap + 0.01)),
        strategy="pullback_vwap",
        price=10.2,
    )
    assert signal.indicators["closes_above_vwap"] == 4
    assert "rising vwap" in signal.reason


def test_near_miss_the_dip_stays_out_of_the_touch_zone() -> None:
    feed = Feed(PullbackVwap(PARAMS))
    vwap = _ride(feed)
    assert feed(at(5, o=10.12, c=10.2, h=10.22, low=vwap * 1.004)) is None


def test_not_on_a_red_bar_or_a_close_under_vwap() -> None:
    feed = Feed(PullbackVwap(PARAMS))
    vwap = _ride(feed)
    assert feed(at(5, o=10.25, c=10.2, h=10.26, low=vwap + 0.01)) is None
    feed = Feed(PullbackVwap(PARAMS))
    vwap = _ride(feed)
    assert feed(at(5, o=vwap - 0.03, c=vwap - 0.01, low=vwap - 0.04)) is None


def test_not_through_the_lower_band() -> None:
    feed = Feed(PullbackVwap(PARAMS))
    vwap = _ride(feed)
    assert feed(at(5, o=10.12, c=10.2, h=10.22, low=vwap - 0.5)) is None


def test_each_ride_gives_one_pullback() -> None:
    feed = Feed(PullbackVwap(PARAMS))
    vwap = _ride(feed)
    assert feed(at(5, o=10.12, c=10.2, h=10.22, low=vwap + 0.01)) is not None
    assert feed(at(6, o=10.12, c=10.2, h=10.22, low=vwap + 0.01)) is None


def test_not_when_holding_outside_the_session_or_cold() -> None:
    feed = Feed(PullbackVwap(PARAMS))
    vwap = _ride(feed)
    assert feed(at(5, o=10.12, c=10.2, low=vwap + 0.01), held("pullback_vwap")) is None
    feed = Feed(PullbackVwap(PARAMS))
    vwap = _ride(feed)
    assert feed(at(5, o=10.12, c=10.2, low=vwap + 0.01, session=Session.PRE)) is None
    cold = Feed(PullbackVwap(PullbackVwapParams(min_bars_above=3, slope_bars=10)))
    vwap = _ride(cold)
    assert cold(at(5, o=10.12, c=10.2, low=vwap + 0.01)) is None


def test_params_are_validated() -> None:
    with pytest.raises(ValueError, match="band_mult"):
        PullbackVwapParams(band_mult=0.0)
