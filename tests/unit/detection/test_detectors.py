"""The facade the engine holds: both detectors, the tags, events to publish, counts."""

from __future__ import annotations

from app.detection import Detectors, FastMoverConfig, SlowMoverConfig
from app.domain.detection import DetectionKind
from app.domain.market import Bar, Tick
from tests.builders import MINUTE, OPEN_NS
from tests.unit.detection.tapes import BASE_SIZE, WARM, quiet, ramp, steady, waking

FAST, SLOW = DetectionKind.FAST, DetectionKind.SLOW
TICKS_NS = OPEN_NS + WARM * MINUTE  # ticks start after the warm-up bars
BURST_MINUTE = WARM + 20  # after 20 steady minutes of ticks


def burst(symbol: str) -> list[Tick]:
    """20 steady minutes, then +5% in a minute on four times the volume: FAST."""
    return steady(symbol, start_ns=TICKS_NS) + ramp(
        symbol, start_ns=OPEN_NS + BURST_MINUTE * MINUTE, end=10.5, size=4 * BASE_SIZE
    )


def wakes(symbol: str) -> list[Bar]:
    """Warm-up bars, then three bars right after the burst that would be SLOW on their own."""
    return quiet(symbol) + waking(BURST_MINUTE + 1, symbol=symbol)


def detectors() -> Detectors:
    return Detectors(FastMoverConfig(), SlowMoverConfig())


def test_a_symbol_moving_fast_is_not_also_tagged_slow() -> None:
    det = detectors()
    fast = [d for t in burst("ABC") if (d := det.on_tick(t))]
    slow = [d for b in wakes("ABC") + wakes("XYZ") if (d := det.on_bar(b))]

    assert [(d.symbol, d.kind) for d in fast] == [("ABC", FAST)]
    assert [(d.symbol, d.kind) for d in slow] == [("XYZ", SLOW)]
    now = slow[0].ts_ns
    assert det.active("ABC", now) is FAST
    assert det.active("XYZ", now) is SLOW
    assert sorted(det.tagged(now)) == [("ABC", FAST), ("XYZ", SLOW)]
    assert det.active("ABC", fast[0].until_ns) is None


def test_fast_wins_over_an_earlier_slow_tag_and_slow_shows_again_when_fast_expires() -> None:
    det = Detectors(FastMoverConfig(), SlowMoverConfig(ttl_s=3600))
    (slow,) = [d for b in quiet("ABC") + waking(symbol="ABC") if (d := det.on_bar(b))]
    assert det.active("ABC", slow.ts_ns) is SLOW

    (fast,) = [d for t in burst("ABC") if (d := det.on_tick(t))]

    assert det.active("ABC", fast.ts_ns) is FAST
    assert fast.until_ns < slow.until_ns
    assert det.active("ABC", fast.until_ns) is SLOW
    assert det.active("ABC", slow.until_ns) is None


def test_drain_hands_over_each_event_once_and_counts_add_up() -> None:
    det = detectors()
    for t in burst("ABC"):
        det.on_tick(t)
    for b in wakes("XYZ"):
        det.on_bar(b)
    det.on_tick(Tick("ABC", OPEN_NS, float("nan"), 100))

    drained = det.drain()

    assert [(d.symbol, d.kind) for d in drained] == [("ABC", FAST), ("XYZ", SLOW)]
    assert det.drain() == []
    counts = det.counts()
    assert (counts.fast, counts.slow) == (1, 1)
    assert counts.ticks == len(burst("ABC")) + 1
    assert counts.bars == len(wakes("XYZ"))
    assert (counts.ignored_ticks, counts.late_ticks, counts.dropped_events) == (1, 0, 0)


def test_an_undrained_buffer_keeps_the_newest_events_and_counts_the_dropped() -> None:
    det = Detectors(FastMoverConfig(), SlowMoverConfig(), max_pending=1)
    for t in burst("ABC") + burst("XYZ"):
        det.on_tick(t)

    assert [d.symbol for d in det.drain()] == ["XYZ"]
    assert det.counts().dropped_events == 1
