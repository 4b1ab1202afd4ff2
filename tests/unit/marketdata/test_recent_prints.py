from __future__ import annotations

from collections import deque

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.marketdata.recent_prints import Key, RecentPrints

PRICES = (1.0, 1.5, 2.25)

remembers = st.tuples(
    st.just("remember"),
    st.integers(0, 2),
    st.sampled_from(PRICES),
    st.integers(1, 2),
    st.integers(0, 2),
)
advances = st.tuples(st.just("advance"), st.integers(0, 2), st.just(0.0), st.just(0), st.just(0))
lookups = st.tuples(
    st.just("seen"),
    st.integers(-4, 2),
    st.sampled_from(PRICES),
    st.integers(1, 2),
    st.integers(0, 2),
)
recalls = st.tuples(st.just("recall"), st.integers(1, 8), st.just(0.0), st.just(0), st.just(0))


@given(
    st.integers(1, 5),
    st.lists(st.one_of(remembers, advances, lookups, recalls), max_size=120),
)
def test_seen_is_membership_in_the_last_window_remembered(
    window: int, steps: list[tuple[str, int, float, int, int]]
) -> None:
    """Against a plain model: the last `window` keys in a deque. Keys not seen are remembered at or
    after the floor (as the validator does) and looked up anywhere, before the floor too; a recall
    looks up the key remembered that many keys ago."""
    recent, model = RecentPrints(window), deque[Key](maxlen=window)
    floor, history = 0, list[Key]()
    for op, offset, price, size, seq in steps:
        key = (floor + offset, price, size, seq)
        match op:
            case "remember" if key not in model:  # as the validator: only a print not seen
                recent.remember(key)
                model.append(key)
                history.append(key)
            case "advance":
                floor += offset
                recent.advance(floor)
            case "recall" if history:
                key = history[-min(offset, len(history))]
                assert recent.seen(key) == (key in model), (key, list(model))
            case "seen":
                assert recent.seen(key) == (key in model), (key, list(model))


def test_a_key_forgotten_past_the_window_is_not_seen_even_at_the_floor() -> None:
    recent = RecentPrints(2)
    first, second, third = (10, 1.0, 1, 1), (10, 1.0, 1, 2), (10, 1.0, 1, 3)
    for key in (first, second, third):
        recent.remember(key)
    assert not recent.seen(first)
    assert recent.seen(second) and recent.seen(third)


def test_window_must_be_positive() -> None:
    with pytest.raises(ValueError, match="window"):
        RecentPrints(0)


def test_a_key_ahead_of_the_floor_stays_seen_when_the_floor_reaches_it() -> None:
    recent = RecentPrints(4)
    early, ahead = (10, 1.0, 1, 1), (12, 1.0, 1, 2)
    recent.remember(early)
    recent.remember(ahead)
    recent.advance(11)
    assert recent.seen(ahead) and recent.seen(early)
    recent.advance(12)
    assert recent.seen(ahead) and recent.seen(early)
