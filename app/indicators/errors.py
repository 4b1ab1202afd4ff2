"""What can go wrong when indicators are declared, parsed or planned."""

from __future__ import annotations


class IndicatorError(Exception):
    """Base class: a problem with an indicator declaration (never with market data)."""


class IndicatorParamError(IndicatorError, ValueError):
    """A spec was given parameters it cannot work with (period < 1, unknown source...)."""


class IndicatorSyntaxError(IndicatorError, ValueError):
    """A `name:params` string names no indicator, or its parameters do not parse."""


class IndicatorCycleError(IndicatorError):
    """Specs depend on each other in a loop; raised when the plan is built."""
