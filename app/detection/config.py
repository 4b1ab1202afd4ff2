"""Frozen configs of the two detectors, with small-cap defaults and checks that fail at startup.

The defaults assume a thin US small cap: a 3% move within a minute, 6% within five or 10% within
fifteen is fast when at least three times the usual volume traded in that time; a symbol whose
one-minute bars carry twice their usual volume and half again their usual range for three bars
running, while the price has not yet moved 3%, is waking up slowly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

_MAX_WINDOW_S = 3600  # per-second samples: a longer window holds too many per symbol


def _check_positive(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be finite and positive, got {value}")


def _check_not_negative(name: str, value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be finite and not negative, got {value}")


@dataclass(frozen=True, slots=True)
class FastWindow:
    """A rolling window of `seconds` in which a move of at least `move_pct` percent is fast."""

    seconds: int
    move_pct: float

    def __post_init__(self) -> None:
        if not 1 <= self.seconds <= _MAX_WINDOW_S:
            raise ValueError(f"a window must be 1..{_MAX_WINDOW_S} seconds, got {self.seconds}")
        _check_positive("a window's move_pct", self.move_pct)


def _default_windows() -> tuple[FastWindow, ...]:
    return (FastWindow(60, 3.0), FastWindow(300, 6.0), FastWindow(900, 10.0))


@dataclass(frozen=True, slots=True, kw_only=True)
class FastMoverConfig:
    """When a symbol is moving fast (see app.detection.fast for how each figure is measured).

    volume_mult: the volume traded in the window must be at least this many times the baseline
    volume for a window that long.
    baseline_minutes: span of the EWMA of the symbol's per-minute volume (the baseline).
    min_baseline_minutes: closed minutes seen before the baseline is trusted; no detection before.
    max_idle_minutes: a silence longer than this (a halt, the night) counts as only this many
    empty minutes, so time the symbol does not trade cannot drain its baseline to nothing.
    ttl_s: how long a detection keeps the symbol tagged.
    cooldown_s: the least time between two detections of one symbol in one window.
    min_price: prints below this price never fire.
    """

    windows: tuple[FastWindow, ...] = field(default_factory=_default_windows)
    volume_mult: float = 3.0
    baseline_minutes: int = 120
    min_baseline_minutes: int = 15
    max_idle_minutes: int = 30
    ttl_s: int = 900
    cooldown_s: int = 300
    min_price: float = 1.0

    def __post_init__(self) -> None:
        seconds = [w.seconds for w in self.windows]
        if not seconds or seconds != sorted(set(seconds)):
            raise ValueError(f"windows must be non-empty and strictly increasing, got {seconds}")
        _check_positive("volume_mult", self.volume_mult)
        if self.baseline_minutes < 1:
            raise ValueError(f"baseline_minutes must be at least 1, got {self.baseline_minutes}")
        if self.min_baseline_minutes < 1:
            raise ValueError(
                f"min_baseline_minutes must be at least 1, got {self.min_baseline_minutes}"
            )
        if self.max_idle_minutes < 0:
            raise ValueError(f"max_idle_minutes must not be negative, got {self.max_idle_minutes}")
        if self.ttl_s < 1:
            raise ValueError(f"ttl_s must be at least 1, got {self.ttl_s}")
        if self.cooldown_s < 0:
            raise ValueError(f"cooldown_s must not be negative, got {self.cooldown_s}")
        _check_not_negative("min_price", self.min_price)


@dataclass(frozen=True, slots=True, kw_only=True)
class SlowMoverConfig:
    """When a symbol is waking up slowly, judged on its closed one-minute bars.

    baseline_bars: bars averaged (plain mean while warming up, then an EWMA of this span) into
    the symbol's usual bar volume and bar range; no detection before that many bars.
    rel_volume: a bar's volume over the usual bar volume must reach this.
    range_expansion: a bar's high-low range over the usual range must reach this.
    sustain_bars: consecutive bars (no missing minute) that must meet both before it fires.
    max_move_pct: the run's move from its first open must stay below this (it is still quiet;
    match it to the shortest fast window's threshold).
    ttl_s, cooldown_s, min_price: as for the fast detector, per symbol.
    """

    baseline_bars: int = 30
    rel_volume: float = 2.0
    range_expansion: float = 1.5
    sustain_bars: int = 3
    max_move_pct: float = 3.0
    ttl_s: int = 1800
    cooldown_s: int = 600
    min_price: float = 1.0

    def __post_init__(self) -> None:
        if self.baseline_bars < 1:
            raise ValueError(f"baseline_bars must be at least 1, got {self.baseline_bars}")
        _check_positive("rel_volume", self.rel_volume)
        _check_positive("range_expansion", self.range_expansion)
        if self.sustain_bars < 1:
            raise ValueError(f"sustain_bars must be at least 1, got {self.sustain_bars}")
        _check_positive("max_move_pct", self.max_move_pct)
        if self.ttl_s < 1:
            raise ValueError(f"ttl_s must be at least 1, got {self.ttl_s}")
        if self.cooldown_s < 0:
            raise ValueError(f"cooldown_s must not be negative, got {self.cooldown_s}")
        _check_not_negative("min_price", self.min_price)
