"""Fast and slow momentum on crafted sessions."""

import dataclasses

import pytest

from app.domain.detection import DetectionKind
from app.domain.market import Session
from app.exits.config import ExitConfig
from app.strategies.momentum import Momentum, MomentumParams, SlowMomentum, SlowMomentumParams
from tests.unit.strategies.feed import Feed, assert_entry, at, held

FAST = MomentumParams(
    roc_period=3, min_roc_pct=2.0, fast_ema=3, slow_ema=6, rvol_period=5, min_rvol=2.0
)


def _fast_setup(feed: Feed) -> None:
    """Ten flat bars, then three rising bars on ordinary volume (not yet enough)."""
    feed.quiet(at(i, o=10.0, c=10.0, h=10.05, low=9.95) for i in range(10))
    feed.quiet(at(10 + i, o=c - 0.1, c=c) for i, c in enumerate((10.1, 10.2, 10.35)))


def test_fast_fires_on_a_surge_above_vwap_with_the_emas_stacked() -> None:
    feed = Feed(Momentum(FAST))
    _fast_setup(feed)
    signal = assert_entry(
        feed(at(13, o=10.36, c=10.6, volume=3000)), strategy="momentum_fast", price=10.6
    )
    assert signal.priority == 25
    assert "roc_3" in signal.reason and "rvol" in signal.reason
    assert signal.indicators["ema_3"] > signal.indicators["ema_6"]


def test_fast_fires_once_per_move_not_on_every_qualifying_bar() -> None:
    feed = Feed(Momentum(FAST))
    _fast_setup(feed)
    assert feed(at(13, o=10.36, c=10.6, volume=3000)) is not None
    assert feed(at(14, o=10.6, c=10.9, volume=9000)) is None


def test_fast_needs_relative_volume() -> None:
    feed = Feed(Momentum(FAST))
    _fast_setup(feed)
    assert feed(at(13, o=10.36, c=10.6, volume=1500)) is None


def test_fast_near_miss_on_rate_of_change() -> None:
    feed = Feed(Momentum(FAST))
    _fast_setup(feed)
    # 10.3 / 10.1 - 1 = 1.98 %: just under the 2 % threshold.
    assert feed(at(13, o=10.2, c=10.3, volume=5000)) is None


def test_fast_not_when_holding_or_outside_the_regular_session() -> None:
    feed = Feed(Momentum(FAST))
    _fast_setup(feed)
    assert feed(at(13, o=10.36, c=10.6, volume=3000), held("momentum_fast")) is None
    feed = Feed(Momentum(FAST))
    _fast_setup(feed)
    assert feed(at(13, o=10.36, c=10.6, volume=3000, session=Session.PRE)) is None


def test_fast_not_before_its_indicators_are_ready() -> None:
    feed = Feed(Momentum(FAST))
    feed.quiet(at(i, o=10.0, c=10.0) for i in range(3))
    assert feed(at(3, o=10.1, c=10.8, volume=9000)) is None


def test_fast_trades_fast_movers_and_reads_what_it_declares() -> None:
    strategy = Momentum(FAST)
    assert strategy.accepts == frozenset({DetectionKind.FAST})
    assert [r.key for r in strategy.indicators] == ["roc_3", "vwap", "ema_3", "ema_6", "rvol_5_5"]


def test_fast_params_are_validated() -> None:
    with pytest.raises(ValueError, match="fast_ema"):
        MomentumParams(fast_ema=20, slow_ema=9)
    with pytest.raises(ValueError, match="min_rvol"):
        MomentumParams(min_rvol=0)


SLOW = SlowMomentumParams(higher_lows=3, roc_period=3, min_roc_pct=0.5, rvol_period=5)


def _slow_setup(feed: Feed) -> None:
    """Flat bars, then a staircase of higher lows on swelling volume."""
    feed.quiet(at(i, o=10.0, c=10.0, h=10.05, low=9.95) for i in range(8))
    for i, (low, c, v) in enumerate(((9.97, 10.02, 1100), (10.0, 10.05, 1200))):
        assert feed(at(8 + i, o=low + 0.01, c=c, low=low, volume=v)) is None


def test_slow_fires_on_a_staircase_above_vwap_with_rising_volume() -> None:
    feed = Feed(SlowMomentum(SLOW))
    _slow_setup(feed)
    signal = assert_entry(
        feed(at(10, o=10.04, c=10.1, low=10.03, volume=1400)), strategy="momentum_slow", price=10.1
    )
    assert "3 higher lows" in signal.reason
    assert signal.indicators["staircase_base_low"] == 9.95
    assert signal.stop_price == pytest.approx(10.1 * 0.97)  # the configured stop lies lower


def test_slow_sizes_by_the_staircase_base_when_it_lies_under_the_configured_stop() -> None:
    tight = dataclasses.replace(SLOW, exit=ExitConfig(stop_pct=0.5))
    feed = Feed(SlowMomentum(tight))
    _slow_setup(feed)
    signal = feed(at(10, o=10.04, c=10.1, low=10.03, volume=1400))
    assert signal is not None
    assert signal.stop_price == pytest.approx(9.95 * 0.998)


def test_slow_needs_relative_volume() -> None:
    feed = Feed(SlowMomentum(SLOW))
    _slow_setup(feed)
    assert feed(at(10, o=10.04, c=10.1, low=10.03, volume=1150)) is None


def test_slow_near_miss_one_higher_low_short() -> None:
    feed = Feed(SlowMomentum(SLOW))
    _slow_setup(feed)
    assert feed(at(10, o=10.04, c=10.1, low=9.99, volume=1400)) is None


def test_slow_not_when_holding_outside_the_session_or_cold() -> None:
    feed = Feed(SlowMomentum(SLOW))
    _slow_setup(feed)
    assert feed(at(10, o=10.04, c=10.1, low=10.03, volume=1400), held("momentum_slow")) is None
    feed = Feed(SlowMomentum(SLOW))
    _slow_setup(feed)
    pre = at(10, o=10.04, c=10.1, low=10.03, volume=1400, session=Session.PRE)
    assert feed(pre) is None
    cold = Feed(SlowMomentum(SlowMomentumParams(higher_lows=3, roc_period=30)))
    _slow_setup(cold)
    assert cold(at(10, o=10.04, c=10.1, low=10.03, volume=1400)) is None


def test_slow_trades_slow_movers() -> None:
    assert SlowMomentum().accepts == frozenset({DetectionKind.SLOW})
    assert SlowMomentum().name == "momentum_slow"
