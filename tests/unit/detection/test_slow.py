"""The slow-mover detector on crafted one-minute bars."""

from __future__ import annotations

from collections.abc import Iterable

from app.detection import SlowMoverConfig, SlowMoverDetector
from app.domain.detection import Detection, DetectionKind
from app.domain.market import Bar
from tests.builders import MINUTE, OPEN_NS, SECOND, bar
from tests.unit.detection.tapes import WARM, at, quiet, waking

DEFAULT = SlowMoverConfig()


def run(
    bars: Iterable[Bar], config: SlowMoverConfig = DEFAULT, *, moving_fast: bool = False
) -> list[Detection]:
    detector = SlowMoverDetector(config)
    return [d for b in bars if (d := detector.on_bar(b, moving_fast=moving_fast)) is not None]


def test_a_quiet_symbol_whose_volume_triples_with_range_expansion_for_three_bars_fires() -> None:
    regime = waking()

    found = run(quiet() + regime)

    (d,) = found
    assert (d.symbol, d.kind, d.window_s) == ("ABC", DetectionKind.SLOW, 180)
    assert d.ts_ns == regime[-1].end_ns
    assert d.until_ns == d.ts_ns + 1800 * SECOND
    assert 0.0 < d.move_pct < 1.0
    assert d.volume_ratio >= 2.0


def test_two_bars_are_not_enough() -> None:
    assert run(quiet() + waking(n=2)) == []


def test_volume_alone_without_range_expansion_does_not_fire() -> None:
    assert run(quiet() + waking(span=0.10)) == []


def test_range_alone_without_volume_does_not_fire() -> None:
    assert run(quiet() + waking(volume=1000)) == []


def test_nothing_fires_before_the_baseline_is_warm() -> None:
    assert run(quiet()[:20] + waking(20)) == []


def test_a_symbol_already_moving_fast_is_not_tagged_slow() -> None:
    assert run(quiet() + waking(), moving_fast=True) == []


def test_a_move_past_the_quiet_limit_is_not_slow() -> None:
    jumping = [
        at(WARM + k, volume=3000, span=0.40, o=10.0 * 1.015**k, c=10.0 * 1.015 ** (k + 1))
        for k in range(3)
    ]  # +4.6% over the run
    assert run(quiet() + jumping) == []


def test_a_missing_minute_breaks_the_run() -> None:
    a, b, c, d = waking(n=4)
    assert run([*quiet(), a, b, d]) == []
    assert len(run([*quiet(), a, b, c])) == 1


def test_the_cooldown_spaces_detections_of_a_symbol() -> None:
    config = SlowMoverConfig(sustain_bars=1, cooldown_s=120)
    regime = waking(n=5, volume=4000)

    found = run(quiet() + regime, config)

    assert [d.ts_ns for d in found] == [regime[0].end_ns, regime[2].end_ns, regime[4].end_ns]


def test_other_intervals_late_and_bad_bars_are_ignored() -> None:
    detector = SlowMoverDetector(DEFAULT)
    for b in quiet():
        detector.on_bar(b)
    one_second = bar(ts_ns=OPEN_NS + WARM * MINUTE, interval_s=1, volume=10**6, h=20.0)
    broken = bar(ts_ns=OPEN_NS + WARM * MINUTE, low=float("nan"), volume=10**6)

    assert detector.on_bar(one_second) is None
    assert detector.on_bar(broken) is None
    assert detector.on_bar(quiet()[-1]) is None  # a straggler
    assert (detector.late_bars, detector.ignored_bars) == (1, 1)
    assert [d.window_s for b in waking() if (d := detector.on_bar(b))] == [180]


def test_symbols_are_independent() -> None:
    mixed = sorted(
        quiet("A") + quiet("B") + waking(symbol="A") + waking(symbol="B", span=0.10),
        key=lambda b: (b.ts_ns, b.symbol),
    )

    found = run(mixed)

    assert found == run(quiet("A") + waking(symbol="A"))
    assert [d.symbol for d in found] == ["A"]
