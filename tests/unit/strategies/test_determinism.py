"""Strategies are pure: the same bars through fresh instances give the same signals."""

import random

from app.domain.market import Bar, Session
from app.domain.signal import Signal
from app.indicators import IndicatorBook, IndicatorPlan
from app.strategies.base import Strategy
from app.strategies.catalog import build_strategy, default_suite
from tests.unit.strategies.feed import at

MINED = {
    "name": "mined_1",
    "conditions": [{"left": "rsi:5", "op": "<", "right": 40}],
    "phases": [
        {
            "min_gap": 1,
            "max_gap": 8,
            "conditions": [{"left": "close", "op": "crosses_above", "right": "ema:5"}],
        }
    ],
}


def _sessions(seed: int) -> list[Bar]:
    """Three days of two symbols: a pre-market, then a regular session alternating up and
    down legs with occasional volume bursts, each day opening under the prior close."""
    rng = random.Random(seed)
    bars: list[Bar] = []
    for symbol in ("ABC", "XYZ"):
        price = 10.0
        for day in range(3):
            price *= 0.96
            for minute in range(-20, 390):
                drift = 0.002 if (minute // 40) % 2 == 0 else -0.0015
                o = price
                c = max(1.0, o * (1 + drift + rng.gauss(0, 0.004)))
                burst = 4 * rng.random() ** 4
                bars.append(
                    at(
                        minute,
                        day=day,
                        symbol=symbol,
                        o=o,
                        c=c,
                        h=max(o, c) * (1 + abs(rng.gauss(0, 0.002))),
                        low=min(o, c) * (1 - abs(rng.gauss(0, 0.002))),
                        volume=int(1000 * (1 + burst)),
                        session=Session.PRE if minute < 0 else Session.REGULAR,
                    )
                )
                price = c
    return sorted(bars, key=lambda b: (b.ts_ns, b.symbol))


def _run(strategies: list[Strategy], bars: list[Bar]) -> list[Signal]:
    book = IndicatorBook(IndicatorPlan.of(*(ref for s in strategies for ref in s.indicators)))
    signals: list[Signal] = []
    for b in bars:
        ind = book.update(b)
        signals.extend(s for s in (st.on_bar(b, ind, []) for st in strategies) if s is not None)
    return signals


def _suite() -> list[Strategy]:
    return [*default_suite(), build_strategy("rule", MINED)]


def test_the_same_bars_through_fresh_instances_give_identical_signals() -> None:
    bars = _sessions(seed=7)
    first = _run(_suite(), bars)
    second = _run(_suite(), bars)
    assert first == second
    fired = {s.strategy for s in first}
    assert len(fired) >= 6, fired  # the scenario exercises most of the suite
    assert all(s.stop_price is not None and s.stop_price < s.price for s in first)
    assert len({s.dedup_key for s in first}) == len(first)
