"""Reclaiming VWAP after a stretch under it."""

import pytest

from app.domain.market import Session
from app.strategies.vwap_reclaim import VwapReclaim, VwapReclaimParams
from tests.unit.strategies.feed import Feed, assert_entry, at, held

PARAMS = VwapReclaimParams(min_bars_below=3, rvol_period=5, min_rvol=1.5)
RECLAIM = at(9, o=10.05, c=10.3, h=10.32, low=10.0, volume=3000)


def _stretch(feed: Feed, below: int = 4) -> None:
    """Five heavy bars at 10.2 anchor VWAP, then `below` closes under it down to 9.85."""
    feed.quiet(at(i, o=10.2, c=10.2, h=10.25, low=10.15, volume=4000) for i in range(5))
    closes = (10.0, 9.95, 9.9, 9.88)[:below]
    feed.quiet(
        at(i, o=c + 0.03, c=c, h=c + 0.05, low=c - 0.03) for i, c in enumerate(closes, start=5)
    )


def test_fires_on_a_volume_close_back_above_vwap() -> None:
    feed = Feed(VwapReclaim(PARAMS))
    _stretch(feed)
    signal = assert_entry(feed(RECLAIM), strategy="vwap_reclaim", price=10.3)
    assert signal.indicators["closes_below_vwap"] == 4
    assert signal.indicators["stretch_low"] == pytest.approx(9.85)
    assert signal.priority == 10


def test_near_miss_a_stretch_one_bar_short() -> None:
    feed = Feed(VwapReclaim(PARAMS))
    _stretch(feed, below=2)  # the minimum is 3
    assert feed(RECLAIM) is None


def test_needs_volume() -> None:
    feed = Feed(VwapReclaim(PARAMS))
    _stretch(feed)
    assert feed(at(9, o=10.05, c=10.3, volume=1000)) is None


def test_not_when_holding_outside_the_session_or_cold() -> None:
    feed = Feed(VwapReclaim(PARAMS))
    _stretch(feed)
    assert feed(RECLAIM, held("vwap_reclaim")) is None
    feed = Feed(VwapReclaim(PARAMS))
    _stretch(feed)
    assert feed(at(9, o=10.05, c=10.3, volume=3000, session=Session.PRE)) is None
    cold = Feed(VwapReclaim(VwapReclaimParams(min_bars_below=3, rvol_period=20)))
    _stretch(cold)
    assert cold(RECLAIM) is None


def test_params_are_validated() -> None:
    with pytest.raises(ValueError, match="min_bars_below"):
        VwapReclaimParams(min_bars_below=0)
