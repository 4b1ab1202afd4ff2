"""Tags: FAST wins over SLOW, tags expire, later detections extend them."""

from __future__ import annotations

from app.detection import DetectionTags
from app.domain.detection import Detection, DetectionKind

FAST, SLOW = DetectionKind.FAST, DetectionKind.SLOW


def detection(symbol: str, kind: DetectionKind, until_ns: int) -> Detection:
    return Detection(
        symbol=symbol,
        kind=kind,
        ts_ns=0,
        until_ns=until_ns,
        window_s=60,
        move_pct=1.0,
        volume_ratio=1.0,
    )


def test_fast_wins_over_slow_until_it_expires() -> None:
    tags = DetectionTags()
    tags.record(detection("ABC", SLOW, 300))
    tags.record(detection("ABC", FAST, 100))

    assert tags.active("ABC", 99) is FAST
    assert tags.active("ABC", 100) is SLOW
    assert tags.active("ABC", 300) is None
    assert tags.active("XYZ", 0) is None


def test_a_later_detection_extends_a_tag_and_never_shortens_it() -> None:
    tags = DetectionTags()
    tags.record(detection("ABC", FAST, 100))
    tags.record(detection("ABC", FAST, 200))
    tags.record(detection("ABC", FAST, 150))

    assert tags.active("ABC", 199) is FAST
    assert tags.active("ABC", 200) is None


def test_tagged_lists_the_symbols_tagged_now_and_forgets_expired_ones() -> None:
    tags = DetectionTags()
    tags.record(detection("A", FAST, 100))
    tags.record(detection("A", SLOW, 500))
    tags.record(detection("B", SLOW, 200))
    tags.record(detection("C", FAST, 50))

    assert sorted(tags.tagged(60)) == [("A", FAST), ("B", SLOW)]
    assert sorted(tags.tagged(150)) == [("A", SLOW), ("B", SLOW)]
    assert tags.tagged(500) == []
    assert tags.active("A", 10) is None  # forgotten once expired and listed
