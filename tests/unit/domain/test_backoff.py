from __future__ import annotations

import random

import pytest

from app.domain.backoff import FullJitterBackoff


def test_ceiling_doubles_from_base_up_to_the_cap() -> None:
    backoff = FullJitterBackoff(base_s=0.5, cap_s=5.0, random=lambda: 0.0)
    assert [backoff.ceiling(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    assert backoff.ceiling(10_000) == 5.0


@pytest.mark.parametrize("draw", [0.0, 0.25, 0.999])
def test_delay_is_the_random_draw_over_the_whole_window(draw: float) -> None:
    backoff = FullJitterBackoff(base_s=0.5, cap_s=5.0, random=lambda: draw)
    assert [backoff.delay(n) for n in range(5)] == [draw * c for c in (0.5, 1.0, 2.0, 4.0, 5.0)]


@pytest.mark.parametrize(("base", "cap"), [(0.0, 1.0), (2.0, 1.0), (-1.0, 1.0)])
def test_nonsense_windows_are_refused(base: float, cap: float) -> None:
    with pytest.raises(ValueError, match="0 < base <= cap"):
        FullJitterBackoff(base_s=base, cap_s=cap, random=lambda: 0.0)


def test_negative_attempts_are_refused() -> None:
    with pytest.raises(ValueError, match="attempt"):
        FullJitterBackoff(base_s=1.0, cap_s=2.0, random=lambda: 0.0).ceiling(-1)


def test_a_seeded_source_gives_uniform_delays_under_the_ceiling() -> None:
    backoff = FullJitterBackoff(base_s=0.5, cap_s=4.0, random=random.Random(3).random)
    reference = random.Random(3)
    for attempt in range(50):
        delay = backoff.delay(attempt)
        assert delay == reference.uniform(0.0, backoff.ceiling(attempt))
        assert 0.0 <= delay <= backoff.ceiling(attempt)
