"""Validation of strategy parameters, shared so every strategy explains a bad value the same way.

Parameters come from the database and the CLI as well as from code, so each check names the
parameter and shows the value it refused (the catalog adds which strategy it was for).
"""

from __future__ import annotations

import math


def require_count(label: str, value: object, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{label} must be an integer >= {minimum}, got {value!r}")


def require_positive(label: str, value: object) -> None:
    if not _number(value) > 0.0:
        raise ValueError(f"{label} must be a finite number > 0, got {value!r}")


def require_non_negative(label: str, value: object) -> None:
    if not _number(value) >= 0.0:
        raise ValueError(f"{label} must be a finite number >= 0, got {value!r}")


def _number(value: object) -> float:
    """The value as a float, or NaN (which fails every bound) when it is not a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return math.nan
    return float(value)
