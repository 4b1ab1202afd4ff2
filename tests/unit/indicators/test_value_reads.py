"""Reading a value answers for the ref asked, whether a strategy keeps its spec objects or
builds fresh equal ones on every read (the set remembers refs by identity, safely)."""

from __future__ import annotations

import math

from app.indicators import MACD, SMA, IndicatorPlan, IndicatorSet, Output, Ref
from tests.unit.indicators.builders import random_bars


def test_readiness_answers_for_the_ref_asked() -> None:
    indicators = IndicatorSet(IndicatorPlan.of(SMA(2), SMA(30)), symbol="ABC")
    for bar in random_bars(5, 10):
        indicators.update(bar)
    for _ in range(3_000):
        assert indicators.ready(SMA(2)) and not indicators.ready(SMA(30))


def _warm_set() -> IndicatorSet:
    indicators = IndicatorSet(IndicatorPlan.of(SMA(2), SMA(3), MACD(3, 5, 2)), symbol="ABC")
    for bar in random_bars(5, 40):
        indicators.update(bar)
    return indicators


def test_kept_and_fresh_refs_read_the_same_values() -> None:
    indicators = _warm_set()
    kept: dict[str, Ref] = {
        "sma2": SMA(2),
        "sma3": SMA(3),
        "signal": Output(MACD(3, 5, 2), "signal"),
    }
    fresh: dict[str, Ref] = {
        "sma2": SMA(2),
        "sma3": SMA(3),
        "signal": Output(MACD(3, 5, 2), "signal"),
    }
    for name in kept:
        assert indicators.value(kept[name]) == indicators.value(fresh[name])
    assert len({indicators.value(ref) for ref in kept.values()}) == 3
    assert not any(math.isnan(indicators.value(ref)) for ref in kept.values())


def test_thousands_of_fresh_refs_never_read_another_refs_value() -> None:
    """Fresh refs die after each read, so their ids come back for other objects; a read must
    still answer for the object asked about, past the memo's limit too."""
    indicators = _warm_set()
    expected = {2: indicators.value(SMA(2)), 3: indicators.value(SMA(3))}
    for i in range(5_000):
        period = 2 + i % 2
        assert indicators.value(SMA(period)) == expected[period]
        assert indicators.ready(SMA(period))
