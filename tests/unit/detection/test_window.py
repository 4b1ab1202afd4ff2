"""The shared-sample windows and the fast detector agree with brute-force recomputation."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.detection import FastMoverConfig, FastMoverDetector, FastWindow, MoveWindows
from app.detection.baseline import SeededEwma
from app.detection.window import CUT_MIN
from app.domain.market import Tick
from tests.builders import OPEN_NS, SECOND

PRICES = st.sampled_from([9.5, 9.9, 10.0, 10.0, 10.1, 10.5, 11.0])  # repeats make ties


def brute_move(prices: list[float], price: float) -> float:
    low, high = min(prices), max(prices)
    up = (price - low) / low * 100.0
    down = (price - high) / high * 100.0
    return up if up >= -down else down


@given(
    spans=st.lists(st.sampled_from([1, 2, 5, 30]), min_size=1, max_size=3),
    prints=st.lists(
        st.tuples(st.integers(0, 4), PRICES, st.integers(0, 1000), st.booleans()),
        min_size=1,
        max_size=200,
    ),
)
def test_every_window_equals_a_brute_force_recomputation(
    spans: list[int], prints: list[tuple[int, float, int, bool]]
) -> None:
    """Asked after some prints only (as the detector asks after the volume test), and with
    gaps longer than every window, each window still knows its low, high, volume and move."""
    windows = MoveWindows(spans)
    seen: list[tuple[int, float, int]] = []
    second = 0
    for step, price, size, ask in prints:
        second += step if step < 4 else 45  # 45 s: past every window
        windows.push(second, price, size)
        seen.append((second, price, size))
        for i, span in enumerate(spans):
            inside = [(p, v) for s, p, v in seen if s > second - span]
            assert windows.volumes[i] == sum(v for _, v in inside)
            if ask:
                assert windows.low(i) == min(p for p, _ in inside)
                assert windows.high(i) == max(p for p, _ in inside)
                assert windows.move_pct(i, price) == brute_move([p for p, _ in inside], price)
        samples = max(spans) + 1 + max(CUT_MIN, max(spans) // 8)
        assert len(windows) <= samples + sum(2 * (span + 1) for span in spans)


@settings(max_examples=200)
@given(
    seconds=st.integers(1, 20),
    prints=st.lists(
        st.tuples(st.integers(-2 * SECOND, 5 * SECOND), PRICES, st.integers(1, 500)),
        min_size=1,
        max_size=120,
    ),
)
def test_every_detection_matches_brute_force_on_unordered_streams(
    seconds: int, prints: list[tuple[int, float, int]]
) -> None:
    """With the volume test and cooldown out of the way, a print fires exactly when the brute
    force move over the clamped timestamps clears the threshold once a minute has closed."""
    config = FastMoverConfig(
        windows=(FastWindow(seconds, 0.5),),
        volume_mult=1e-9,
        min_baseline_minutes=1,
        cooldown_s=0,
        min_price=0.0,
    )
    detector = FastMoverDetector(config)
    ts = newest = OPEN_NS + 50 * SECOND
    first_minute = newest // (60 * SECOND)
    seen: list[tuple[int, float]] = []
    for delta, price, size in prints:
        ts += delta
        newest = max(newest, ts)
        second = newest // SECOND
        seen.append((second, price))
        move = brute_move([p for s, p in seen if s > second - seconds], price)
        seeded = newest // (60 * SECOND) > first_minute

        d = detector.on_tick(Tick("ABC", ts, price, size))

        if seeded and abs(move) >= 0.5:
            assert d is not None
            assert (d.ts_ns, d.move_pct, d.window_s) == (newest, move, seconds)
            assert d.volume_ratio > 0
        else:
            assert d is None


@given(
    seed=st.integers(1, 10),
    ops=st.lists(st.one_of(st.floats(0, 1e6), st.integers(0, 40)), max_size=60),
)
def test_adding_zeros_at_once_equals_adding_them_one_by_one(
    seed: int, ops: list[float | int]
) -> None:
    at_once, one_by_one = SeededEwma(span=20, seed=seed), SeededEwma(span=20, seed=seed)
    for op in ops:
        if isinstance(op, int):
            at_once.add_zeros(op)
            for _ in range(op):
                one_by_one.add(0.0)
        else:
            at_once.add(op)
            one_by_one.add(op)
        assert at_once.ready == one_by_one.ready
        assert abs(at_once.value - one_by_one.value) <= 1e-9 * max(1.0, one_by_one.value)
