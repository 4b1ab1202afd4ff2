"""Gap-down reclaim of the prior session's close."""

import pytest

from app.domain.market import Session
from app.strategies.prior_close_reclaim import PriorCloseReclaim, PriorCloseReclaimParams
from tests.unit.strategies.feed import Feed, assert_entry, at, held

PARAMS = PriorCloseReclaimParams(min_gap_pct=2.0, min_bars_below=3, rvol_period=5, min_rvol=1.5)
RECLAIM = at(4, day=1, o=9.85, c=10.1, h=10.12, low=9.84, volume=3000)


def _gap_down(feed: Feed, *, open_at: float = 9.7, below: int = 4) -> None:
    """A session closing at 10.00 (then an after-hours print that does not count), and the next
    one opening at `open_at` with `below` closes under 10.00."""
    feed.quiet(at(i, o=10.0, c=10.0, h=10.05, low=9.95) for i in range(6))
    assert feed(at(400, o=9.0, c=9.0, session=Session.POST)) is None
    closes = (open_at + 0.02, 9.8, 9.82, 9.84)[:below]
    feed.quiet(
        at(i, day=1, o=c - 0.02, c=c, h=c + 0.02, low=c - 0.04)
        for i, c in enumerate(closes, start=4 - below)
    )


def test_fires_on_a_volume_close_back_above_the_prior_close() -> None:
    feed = Feed(PriorCloseReclaim(PARAMS))
    _gap_down(feed)
    signal = assert_entry(feed(RECLAIM), strategy="prior_close_reclaim", price=10.1)
    assert signal.indicators["prior_close"] == 10.0
    assert signal.indicators["gap_pct"] == pytest.approx(-3.0)
    assert signal.indicators["session_low"] == pytest.approx(9.68)


def test_once_per_session() -> None:
    feed = Feed(PriorCloseReclaim(PARAMS))
    _gap_down(feed)
    assert feed(RECLAIM) is not None
    feed.quiet([at(5, day=1, o=10.0, c=9.9), at(6, day=1, o=9.9, c=9.85)])
    feed.quiet([at(7, day=1, o=9.85, c=9.8), at(8, day=1, o=9.8, c=10.2, volume=5000)])


def test_near_miss_the_gap_is_too_small() -> None:
    feed = Feed(PriorCloseReclaim(PARAMS))
    _gap_down(feed, open_at=9.85)
    assert feed(RECLAIM) is None


def test_needs_time_under_the_close_and_volume() -> None:
    feed = Feed(PriorCloseReclaim(PARAMS))
    _gap_down(feed, below=2)
    assert feed(RECLAIM) is None
    feed = Feed(PriorCloseReclaim(PARAMS))
    _gap_down(feed)
    assert feed(at(4, day=1, o=9.85, c=10.1, volume=1000)) is None


def test_no_prior_session_no_trade() -> None:
    feed = Feed(PriorCloseReclaim(PARAMS))
    feed.quiet(at(i, day=1, o=9.7, c=9.72) for i in range(4))
    assert feed(RECLAIM) is None


def test_not_when_holding_or_outside_the_session() -> None:
    feed = Feed(PriorCloseReclaim(PARAMS))
    _gap_down(feed)
    assert feed(RECLAIM, held("prior_close_reclaim")) is None
    feed = Feed(PriorCloseReclaim(PARAMS))
    _gap_down(feed)
    assert feed(at(4, day=1, o=9.85, c=10.1, volume=3000, session=Session.POST)) is None


def test_not_before_relative_volume_is_ready() -> None:
    feed = Feed(PriorCloseReclaim(PriorCloseReclaimParams(rvol_period=30)))
    _gap_down(feed)
    assert feed(RECLAIM) is None


def test_params_are_validated() -> None:
    with pytest.raises(ValueError, match="min_gap_pct"):
        PriorCloseReclaimParams(min_gap_pct=0)
