"""The first pullback to the EMA after a run."""

import pytest

from app.domain.market import Session
from app.strategies.pullback_ema import PullbackEma, PullbackEmaParams
from tests.unit.strategies.feed import Feed, assert_entry, at, held

PARAMS = PullbackEmaParams(ema_period=5, min_run_pct=3.0, min_higher_closes=4)


def _run(feed: Feed) -> None:
    """From a 9.9 session low, six higher closes up to 10.5 on 2,000 shares a bar."""
    assert feed(at(0, o=10.0, c=10.0, h=10.05, low=9.9, volume=2000)) is None
    feed.quiet(
        at(i, o=c - 0.08, c=c, h=c + 0.02, low=c - 0.1, volume=2000)
        for i, c in enumerate((10.1, 10.2, 10.3, 10.4, 10.5), start=1)
    )


def test_fires_on_the_first_dip_to_the_ema_closing_back_above_on_light_volume() -> None:
    feed = Feed(PullbackEma(PARAMS))
    _run(feed)
    signal = assert_entry(
        feed(at(6, o=10.45, c=10.42, h=10.48, low=10.28, volume=800)),
        strategy="pullback_ema",
        price=10.42,
    )
    assert signal.indicators["run_low"] == 9.9
    assert signal.indicators["run_high"] == pytest.approx(10.52)
    assert signal.stop_price is not None and signal.stop_price < 10.28
    assert "first pullback" in signal.reason


def test_only_the_first_pullback() -> None:
    feed = Feed(PullbackEma(PARAMS))
    _run(feed)
    # The first touch comes on heavy volume: the setup is spent, a later clean touch is not it.
    assert feed(at(6, o=10.45, c=10.42, h=10.48, low=10.28, volume=2500)) is None
    assert feed(at(7, o=10.45, c=10.44, h=10.48, low=10.3, volume=500)) is None


def test_not_when_the_bar_closes_under_the_ema() -> None:
    feed = Feed(PullbackEma(PARAMS))
    _run(feed)
    assert feed(at(6, o=10.45, c=10.2, h=10.48, low=10.15, volume=800)) is None


def test_near_miss_without_a_run() -> None:
    feed = Feed(PullbackEma(PullbackEmaParams(ema_period=5, min_run_pct=8, min_higher_closes=6)))
    _run(feed)
    assert feed(at(6, o=10.45, c=10.42, h=10.48, low=10.28, volume=800)) is None


def test_a_bar_that_stays_above_the_ema_is_no_pullback() -> None:
    feed = Feed(PullbackEma(PARAMS))
    _run(feed)
    assert feed(at(6, o=10.5, c=10.55, h=10.6, low=10.48, volume=800)) is None


def test_not_when_holding_outside_the_session_or_cold() -> None:
    feed = Feed(PullbackEma(PARAMS))
    _run(feed)
    pullback = at(6, o=10.45, c=10.42, h=10.48, low=10.28, volume=800)
    assert feed(pullback, held("pullback_ema")) is None
    feed = Feed(PullbackEma(PARAMS))
    _run(feed)
    assert feed(at(6, o=10.45, c=10.42, h=10.48, low=10.28, session=Session.POST)) is None
    cold = Feed(PullbackEma(PullbackEmaParams(ema_period=20, min_run_pct=3.0)))
    _run(cold)
    assert cold(pullback) is None


def test_a_new_session_starts_over() -> None:
    feed = Feed(PullbackEma(PARAMS))
    _run(feed)
    # Next day: the first bar only opens the session, whatever yesterday's run was.
    assert feed(at(0, day=1, o=10.45, c=10.42, h=10.48, low=10.28, volume=800)) is None


def test_params_are_validated() -> None:
    with pytest.raises(ValueError, match="ema_period"):
        PullbackEmaParams(ema_period=0)
    with pytest.raises(ValueError, match="touch_pct"):
        PullbackEmaParams(touch_pct=-1)
