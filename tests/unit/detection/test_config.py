"""Configs refuse nonsense with a message that names the field."""

from __future__ import annotations

from typing import Any

import pytest

from app.detection import FastMoverConfig, FastWindow, SlowMoverConfig


def test_the_defaults_are_the_documented_small_cap_ones() -> None:
    fast, slow = FastMoverConfig(), SlowMoverConfig()

    assert [(w.seconds, w.move_pct) for w in fast.windows] == [(60, 3.0), (300, 6.0), (900, 10.0)]
    assert (fast.volume_mult, fast.ttl_s, fast.min_baseline_minutes) == (3.0, 900, 15)
    assert (slow.baseline_bars, slow.rel_volume, slow.sustain_bars) == (30, 2.0, 3)
    assert (slow.range_expansion, slow.max_move_pct) == (1.5, 3.0)


@pytest.mark.parametrize(
    ("seconds", "move_pct", "message"),
    [
        (0, 3.0, "window must be"),
        (3601, 3.0, "window must be"),
        (60, 0.0, "move_pct"),
        (60, float("nan"), "move_pct"),
    ],
)
def test_a_bad_window_is_refused(seconds: int, move_pct: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FastWindow(seconds, move_pct)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"windows": ()}, "windows"),
        ({"windows": (FastWindow(300, 6.0), FastWindow(60, 3.0))}, "windows"),
        ({"windows": (FastWindow(60, 3.0), FastWindow(60, 5.0))}, "windows"),
        ({"volume_mult": 0.0}, "volume_mult"),
        ({"volume_mult": float("inf")}, "volume_mult"),
        ({"baseline_minutes": 0}, "baseline_minutes"),
        ({"min_baseline_minutes": 0}, "min_baseline_minutes"),
        ({"max_idle_minutes": -1}, "max_idle_minutes"),
        ({"ttl_s": 0}, "ttl_s"),
        ({"cooldown_s": -1}, "cooldown_s"),
        ({"min_price": -0.01}, "min_price"),
    ],
)
def test_a_bad_fast_config_is_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FastMoverConfig(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"baseline_bars": 0}, "baseline_bars"),
        ({"rel_volume": 0.0}, "rel_volume"),
        ({"range_expansion": float("nan")}, "range_expansion"),
        ({"sustain_bars": 0}, "sustain_bars"),
        ({"max_move_pct": -1.0}, "max_move_pct"),
        ({"ttl_s": 0}, "ttl_s"),
        ({"cooldown_s": -5}, "cooldown_s"),
        ({"min_price": float("nan")}, "min_price"),
    ],
)
def test_a_bad_slow_config_is_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SlowMoverConfig(**kwargs)
