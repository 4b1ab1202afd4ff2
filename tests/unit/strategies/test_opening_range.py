"""Opening-range breakout."""

import pytest

from app.domain.market import Session
from app.strategies.opening_range import OpeningRange, OpeningRangeParams
from tests.unit.strategies.feed import Feed, assert_entry, at, held

PARAMS = OpeningRangeParams(range_minutes=5, cutoff_minutes=30, volume_mult=1.5)


def _range(feed: Feed) -> None:
    """A pre-market spike (not part of the range), then a 5-minute range of 9.9-10.2."""
    assert feed(at(-5, o=10.5, c=10.5, h=11.0, low=10.4, volume=9000)) is None
    feed.quiet(at(i, o=10.0, c=10.1, h=10.2 if i == 2 else 10.15, low=9.9) for i in range(5))
    assert feed(at(5, o=10.1, c=10.12)) is None


def test_fires_on_a_volume_close_above_the_range_high() -> None:
    feed = Feed(OpeningRange(PARAMS))
    _range(feed)
    signal = assert_entry(
        feed(at(6, o=10.12, c=10.3, volume=2000)), strategy="opening_range", price=10.3
    )
    assert signal.indicators["or_high"] == 10.2
    assert signal.indicators["or_low"] == 9.9
    assert signal.indicators["or_mean_volume"] == 1000
    assert signal.stop_price == pytest.approx(9.9)  # the range low, under the 3 % stop


def test_once_per_session() -> None:
    feed = Feed(OpeningRange(PARAMS))
    _range(feed)
    assert feed(at(6, o=10.12, c=10.3, volume=2000)) is not None
    assert feed(at(7, o=10.3, c=10.1)) is None
    assert feed(at(8, o=10.1, c=10.35, volume=3000)) is None


def test_needs_volume_and_a_fresh_cross() -> None:
    feed = Feed(OpeningRange(PARAMS))
    _range(feed)
    assert feed(at(6, o=10.12, c=10.3, volume=1400)) is None
    # Already above the high: the next volume bar is no fresh break.
    assert feed(at(7, o=10.3, c=10.4, volume=5000)) is None


def test_not_after_the_cutoff() -> None:
    feed = Feed(OpeningRange(PARAMS))
    _range(feed)
    feed.quiet(at(i, o=10.1, c=10.1) for i in range(6, 30))
    assert feed(at(30, o=10.12, c=10.3, volume=5000)) is None


def test_no_range_observed_no_trade() -> None:
    feed = Feed(OpeningRange(PARAMS))
    feed.quiet(at(i, o=10.0, c=10.1) for i in range(10, 12))
    assert feed(at(12, o=10.12, c=10.5, volume=5000)) is None


def test_not_when_holding_or_outside_the_session() -> None:
    feed = Feed(OpeningRange(PARAMS))
    _range(feed)
    assert feed(at(6, o=10.12, c=10.3, volume=2000), held("opening_range")) is None
    feed = Feed(OpeningRange(PARAMS))
    _range(feed)
    assert feed(at(6, o=10.12, c=10.3, volume=2000, session=Session.POST)) is None


def test_each_session_has_its_own_range() -> None:
    feed = Feed(OpeningRange(PARAMS))
    _range(feed)
    assert feed(at(6, o=10.12, c=10.3, volume=2000)) is not None
    feed.quiet(at(i, day=1, o=10.0, c=10.05, h=10.1, low=9.95) for i in range(5))
    assert feed(at(5, day=1, o=10.05, c=10.15, volume=2000)) is not None


def test_params_are_validated() -> None:
    with pytest.raises(ValueError, match="cutoff_minutes"):
        OpeningRangeParams(range_minutes=15, cutoff_minutes=10)
