"""S19: bad market data mixed into a clean stream is counted, quarantined, and changes nothing."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.calendar import session_open_ns
from app.domain.market import Bar, Quote, Tick, TickBatch
from app.engine.bars import BarAggregator
from app.marketdata.validation import Reason, TickValidator, ValidationConfig
from tests.unit.test_bars import assert_same_bars, reference_bars

NS = 1_000_000_000
OPEN = session_open_ns(dt.date(2026, 3, 9))
SYMBOLS = ("AAA", "BBB", "CCC")
CONFIG = ValidationConfig(universe=frozenset(SYMBOLS))
TICK_CLASSES = sorted(
    {
        Reason.NON_FINITE,
        Reason.NON_POSITIVE,
        Reason.ZERO_SIZE,
        Reason.ABSURD_SIZE,
        Reason.BAD_SEQ,
        Reason.FUTURE,
        Reason.OUT_OF_ORDER,
        Reason.DUPLICATE,
        Reason.JUMP,
        Reason.UNKNOWN_SYMBOL,
    }
)
QUOTE_CLASSES = sorted({Reason.NON_FINITE, Reason.NON_POSITIVE, Reason.CROSSED})

Item = Tick | Quote


@st.composite
def clean_streams(draw: st.DrawFn) -> list[Item]:
    """Per-symbol ordered prints that move at most 5% at a time, each with a sane quote."""
    last = {s: draw(st.floats(min_value=1.0, max_value=50.0)) for s in SYMBOLS}
    seqs = dict.fromkeys(SYMBOLS, 0)
    ts = OPEN
    items: list[Item] = []
    steps = st.tuples(
        st.sampled_from(SYMBOLS),
        st.integers(min_value=0, max_value=3 * NS),
        st.floats(min_value=0.95, max_value=1.05),
        st.integers(min_value=1, max_value=1_000_000),
        st.booleans(),
    )
    for symbol, step, move, size, with_quote in draw(st.lists(steps, min_size=1, max_size=80)):
        ts += step
        last[symbol] = max(1.0, round(last[symbol] * move, 2))
        seqs[symbol] += 1
        items.append(Tick(symbol, ts, last[symbol], size, seqs[symbol]))
        if with_quote:
            items.append(Quote(symbol, ts, last[symbol] - 0.01, last[symbol] + 0.01, 100, 300))
    return items


def bad_tick(reason: Reason, good: Tick, variant: int, now_ns: int) -> Tick:
    """A print of class `reason`, made to be rejected right after `good` was accepted."""
    seq = -1 - variant  # never the seq of a clean print
    match reason:
        case Reason.NON_FINITE:
            price = (math.nan, math.inf, -math.inf)[variant % 3]
            return Tick(good.symbol, good.ts_ns, price, good.size, seq)
        case Reason.NON_POSITIVE:
            return Tick(good.symbol, good.ts_ns, -good.price * (variant % 2), good.size, seq)
        case Reason.ZERO_SIZE:
            return Tick(good.symbol, good.ts_ns, good.price, -variant, seq)
        case Reason.ABSURD_SIZE:
            return Tick(good.symbol, good.ts_ns, good.price, CONFIG.max_size + 1 + variant, seq)
        case Reason.BAD_SEQ:
            return Tick(good.symbol, good.ts_ns, good.price, good.size, 2**63 + variant)
        case Reason.FUTURE:
            ts = now_ns + CONFIG.future_tolerance_ns + 1 + variant
            return Tick(good.symbol, ts, good.price, good.size, seq)
        case Reason.OUT_OF_ORDER:
            return Tick(good.symbol, good.ts_ns - 1 - variant, good.price, good.size, seq)
        case Reason.DUPLICATE:
            return good
        case Reason.JUMP:
            factor = 1.5 if variant % 2 else 0.6
            return Tick(good.symbol, good.ts_ns, round(good.price * factor, 2), good.size, seq)
        case _:
            return Tick("ZZZ", good.ts_ns, good.price, good.size, seq)


def bad_quote(reason: Reason, good: Tick) -> Quote:
    match reason:
        case Reason.NON_FINITE:
            return Quote(good.symbol, good.ts_ns, math.nan, good.price, 100, 100)
        case Reason.NON_POSITIVE:
            return Quote(good.symbol, good.ts_ns, 0.0, good.price, 100, 100)
        case _:
            return Quote(good.symbol, good.ts_ns, good.price + 0.02, good.price, 100, 100)


@settings(max_examples=150, deadline=None)
@given(
    clean=clean_streams(),
    data=st.data(),
    inserts=st.lists(
        st.tuples(st.integers(min_value=0), st.sampled_from(TICK_CLASSES + QUOTE_CLASSES)),
        max_size=40,
    ),
    cuts=st.lists(st.integers(min_value=0), max_size=10),
)
def test_bad_data_is_quarantined_and_bars_equal_the_clean_reference(
    clean: list[Item], data: st.DataObject, inserts: list[tuple[int, Reason]], cuts: list[int]
) -> None:
    clean_ticks = [item for item in clean if isinstance(item, Tick)]
    clean_quotes = [item for item in clean if isinstance(item, Quote)]
    now = max(t.ts_ns for t in clean_ticks)
    positions = [i for i, item in enumerate(clean) if isinstance(item, Tick)]
    after: dict[int, list[Item]] = {}
    expected: Counter[str] = Counter()
    jumped: set[int] = set()
    for variant, (slot, reason) in enumerate(inserts):
        position = positions[slot % len(positions)]
        good = clean[position]
        assert isinstance(good, Tick)
        bucket = after.setdefault(position, [])
        is_quote = data.draw(st.booleans()) if reason in QUOTE_CLASSES else False
        if reason is Reason.CROSSED or is_quote:
            bucket.append(bad_quote(reason, good))
        else:
            if reason is Reason.JUMP:
                if position in jumped:
                    continue  # one jump per accepted print: never enough in a row to re-anchor
                jumped.add(position)
            bucket.append(bad_tick(reason, good, variant, now))
        expected[reason.value] += 1
    mixed = [x for i, item in enumerate(clean) for x in (item, *after.get(i, []))]

    validator = TickValidator(CONFIG)
    edges = sorted({0, len(mixed), *(c % (len(mixed) + 1) for c in cuts)})
    accepted_ticks: list[Tick] = []
    accepted_quotes: list[Quote] = []
    for lo, hi in itertools.pairwise(edges):
        chunk = mixed[lo:hi]
        batch = TickBatch(
            ticks=[x for x in chunk if isinstance(x, Tick)],
            quotes=[x for x in chunk if isinstance(x, Quote)],
        )
        out = validator.check_batch(batch, now_ns=now)
        accepted_ticks += out.ticks
        accepted_quotes += out.quotes

    assert accepted_ticks == clean_ticks
    assert accepted_quotes == clean_quotes
    assert {k: v for k, v in validator.counts.items() if v} == dict(expected)
    assert len(validator.quarantine) == sum(expected.values())
    assert validator.gaps() == []

    aggregator = BarAggregator(intervals=(1, 60))
    bars: list[Bar] = []
    for t in accepted_ticks:
        bars += aggregator.add(t)
    bars += aggregator.flush_all()
    bars.sort(key=lambda b: (b.end_ns, b.interval_s, b.symbol))
    assert_same_bars(bars, reference_bars(clean_ticks, (1, 60)))
