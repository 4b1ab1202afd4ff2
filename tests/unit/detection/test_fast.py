"""The fast-mover detector on crafted tapes: what fires, what does not, and for how long."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable

from app.detection import FastMoverConfig, FastMoverDetector, FastWindow
from app.domain.detection import Detection, DetectionKind
from app.domain.market import Tick
from tests.builders import MINUTE, SECOND
from tests.unit.detection.tapes import BASE_SIZE, BURST_NS, EVERY_S, ramp, steady

DEFAULT = FastMoverConfig()


def run(ticks: Iterable[Tick], config: FastMoverConfig = DEFAULT) -> list[Detection]:
    detector = FastMoverDetector(config)
    return [d for t in ticks if (d := detector.on_tick(t)) is not None]


def test_a_five_percent_minute_on_four_times_the_volume_fires_the_one_minute_window() -> None:
    found = run(steady() + ramp(end=10.5, size=4 * BASE_SIZE))

    assert len(found) == 1
    (d,) = found
    assert (d.symbol, d.kind, d.window_s) == ("ABC", DetectionKind.FAST, 60)
    assert 3.0 <= d.move_pct <= 5.0
    assert d.volume_ratio >= 3.0
    assert BURST_NS < d.ts_ns <= BURST_NS + MINUTE
    assert d.until_ns == d.ts_ns + 900 * SECOND
    assert d.reason.startswith("up ")


def test_the_same_move_on_baseline_volume_does_not_fire() -> None:
    assert run(steady() + ramp(end=10.5, size=BASE_SIZE)) == []


def test_a_big_move_before_the_baseline_is_seeded_does_not_fire() -> None:
    early = steady(minutes=10) + ramp(start_ns=steady(minutes=10)[-1].ts_ns, end=10.5, size=4000)
    assert run(early) == []


def test_a_slow_drift_on_heavy_volume_does_not_fire() -> None:
    # +0.05% a minute for 200 minutes (about +10% in all) at four times the usual volume.
    drift = [
        Tick("ABC", BURST_NS + i * EVERY_S * SECOND, 10.0 * 1.0005 ** (i / 12), 4 * BASE_SIZE)
        for i in range(1, 200 * 12)
    ]
    assert drift[-1].price > 11.0
    assert run(steady() + drift) == []


def test_a_down_move_fires_with_a_negative_move() -> None:
    (d,) = run(steady() + ramp(end=9.5, size=4 * BASE_SIZE))

    assert d.window_s == 60
    assert -5.0 <= d.move_pct <= -3.0
    assert d.reason.startswith("down ")


def test_the_tag_holds_until_the_ttl_and_then_expires() -> None:
    detector = FastMoverDetector(DEFAULT)
    found = [d for t in steady() + ramp(end=10.5, size=400) if (d := detector.on_tick(t))]
    (d,) = found

    assert detector.tag("ABC", d.ts_ns) is DetectionKind.FAST
    assert detector.tag("ABC", d.until_ns - 1) is DetectionKind.FAST
    assert detector.tag("ABC", d.until_ns) is None
    assert detector.tag("XYZ", d.ts_ns) is None


def test_the_cooldown_stops_a_window_refiring_on_every_tick() -> None:
    config = FastMoverConfig(windows=(FastWindow(60, 3.0),), cooldown_s=120)
    climb = [
        Tick("ABC", BURST_NS + k * EVERY_S * SECOND, 10.0 * 1.005**k, 6 * BASE_SIZE)
        for k in range(1, 6 * 12 + 1)
    ]  # +0.5% every five seconds for six minutes: every print after the first few qualifies

    found = run(steady() + climb, config)

    assert 2 <= len(found) <= 3
    assert [b.ts_ns - a.ts_ns for a, b in itertools.pairwise(found)] == [120 * SECOND] * (
        len(found) - 1
    )


def test_each_window_has_its_own_cooldown() -> None:
    climb = [
        Tick("ABC", BURST_NS + k * EVERY_S * SECOND, 10.0 * 1.005**k, 6 * BASE_SIZE)
        for k in range(1, 3 * 12 + 1)
    ]  # three minutes, +20% in all: the 60 s window fires first, the 300 s window later

    found = run(steady() + climb)

    assert [d.window_s for d in found] == [60, 300]
    assert found[0].ts_ns < found[1].ts_ns


def test_windows_crossing_on_the_same_print_give_one_event() -> None:
    config = FastMoverConfig(windows=(FastWindow(60, 3.0), FastWindow(120, 3.0)))
    # both windows see the same low and the same move; the volume clears both by far
    tape = steady() + ramp(end=10.5, size=100 * BASE_SIZE)
    (alone,) = run(tape, FastMoverConfig(windows=(FastWindow(120, 3.0),)))

    found = run(tape, config)

    assert [(d.window_s, d.ts_ns) for d in found] == [(60, alone.ts_ns)]


def test_out_of_order_and_duplicate_timestamps_do_not_break_it() -> None:
    burst = ramp(end=10.5, size=4 * BASE_SIZE)
    shuffled: list[Tick] = []
    for i in range(0, len(burst), 2):
        pair = burst[i : i + 2]
        shuffled.extend(reversed(pair))  # each pair arrives newest first
        shuffled.append(pair[0])  # and one print repeats a timestamp
    detector = FastMoverDetector(DEFAULT)

    found = [d for t in steady() + shuffled if (d := detector.on_tick(t))]

    assert [d.window_s for d in found] == [60]
    assert found[0].move_pct >= 3.0
    assert detector.late_ticks > 0


def test_bad_prints_are_ignored() -> None:
    detector = FastMoverDetector(DEFAULT)
    for t in steady():
        detector.on_tick(t)
    bad = [
        Tick("ABC", BURST_NS, float("nan"), 100),
        Tick("ABC", BURST_NS, float("inf"), 100),
        Tick("ABC", BURST_NS, 0.0, 100),
        Tick("ABC", BURST_NS, -1.0, 100),
        Tick("ABC", BURST_NS, 10.0, -5),
    ]

    assert [detector.on_tick(t) for t in bad] == [None] * len(bad)
    assert detector.ignored_ticks == len(bad)
    assert [d.window_s for t in ramp(end=10.5, size=400) if (d := detector.on_tick(t))] == [60]


def test_prices_under_the_minimum_never_fire() -> None:
    cheap = steady(price=0.50) + ramp(start=0.50, end=0.60, size=4 * BASE_SIZE)
    assert run(cheap) == []
    assert run(cheap, FastMoverConfig(min_price=0.10)) != []


def test_symbols_are_independent() -> None:
    a = steady("A") + ramp("A", end=10.5, size=4 * BASE_SIZE)
    b = steady("B", price=3.0) + steady("B", start_ns=BURST_NS, minutes=1, price=3.0)
    interleaved = sorted(a + b, key=lambda t: (t.ts_ns, t.symbol))
    detector = FastMoverDetector(DEFAULT)

    found = [d for t in interleaved if (d := detector.on_tick(t))]

    assert found == run(a)
    assert detector.tag("B", found[0].ts_ns) is None


def test_per_symbol_state_stays_bounded_over_a_long_tape() -> None:
    rng = random.Random(7)
    detector = FastMoverDetector(DEFAULT)
    longest = max(w.seconds for w in DEFAULT.windows)
    bound = 2 * (longest + 1) + sum(2 * (w.seconds + 1) for w in DEFAULT.windows)
    ts, price, peak = BURST_NS, 10.0, 0
    for i in range(100_000):
        ts += rng.randrange(0, 2 * SECOND)
        price = max(1.0, price * (1 + rng.gauss(0, 0.002)))
        detector.on_tick(Tick("ABC", ts, price, rng.randrange(1, 1000)))
        if i % 1000 == 0:
            peak = max(peak, detector.samples("ABC"))

    assert 0 < peak <= bound
    assert detector.samples("ABC") <= bound
