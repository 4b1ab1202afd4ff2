"""Full-jitter reconnect delays."""

from __future__ import annotations

import random

import pytest

from app.brokers.alpaca.backoff import FullJitter


def test_delays_are_uniform_below_a_doubling_capped_ceiling() -> None:
    backoff = FullJitter(base_s=0.5, cap_s=4.0, rng=random.Random(3))
    assert [backoff.ceiling(n) for n in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    reference = random.Random(3)
    for attempt in range(50):
        delay = backoff.delay(attempt)
        assert delay == reference.uniform(0.0, backoff.ceiling(attempt))
        assert 0.0 <= delay <= backoff.ceiling(attempt)


def test_a_cap_below_the_base_is_refused() -> None:
    with pytest.raises(ValueError, match="base"):
        FullJitter(base_s=2.0, cap_s=1.0, rng=random.Random(0))
