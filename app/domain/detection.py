"""What the detectors say about a symbol: it is moving fast, or waking up slowly."""

from __future__ import annotations

import enum

import msgspec


class DetectionKind(enum.StrEnum):
    FAST = "fast"  # a rapid percentage move over a short rolling window, on volume
    SLOW = "slow"  # a volume-regime change with range expansion, before any big move


FAST_AND_SLOW = frozenset({DetectionKind.FAST, DetectionKind.SLOW})
ANY_SYMBOL: frozenset[DetectionKind] = frozenset()  # a strategy that needs no detection


class Detection(msgspec.Struct, frozen=True):
    """One detection event; the symbol stays tagged with `kind` until `until_ns`."""

    symbol: str
    kind: DetectionKind
    ts_ns: int
    until_ns: int
    window_s: int
    move_pct: float
    volume_ratio: float
    reason: str = ""
