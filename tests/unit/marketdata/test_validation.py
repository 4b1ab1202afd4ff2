from __future__ import annotations

import math

import pytest

from app.domain.market import Quote, Tick, TickBatch
from app.marketdata.validation import GapEvent, Reason, TickValidator, ValidationConfig

NS = 1_000_000_000
T0 = 1_780_000_000 * NS
NOW = T0 + 3_600 * NS


def tick(ts: int, price: float, size: int = 100, seq: int = 0, symbol: str = "AAA") -> Tick:
    return Tick(symbol=symbol, ts_ns=ts, price=price, size=size, seq=seq)


def quote(ts: int, bid: float, ask: float, symbol: str = "AAA") -> Quote:
    return Quote(symbol=symbol, ts_ns=ts, bid=bid, ask=ask, bid_size=100, ask_size=200)


def check(validator: TickValidator, *ticks: Tick, quotes: tuple[Quote, ...] = ()) -> TickBatch:
    return validator.check_batch(TickBatch(ticks=list(ticks), quotes=list(quotes)), now_ns=NOW)


def nonzero(validator: TickValidator) -> dict[str, int]:
    return {reason: n for reason, n in validator.counts.items() if n}


def test_a_clean_batch_passes_untouched() -> None:
    validator = TickValidator()
    batch = TickBatch(ticks=[tick(T0, 5.0), tick(T0 + 1, 5.01, seq=1)], quotes=[quote(T0, 5, 5.01)])
    assert validator.check_batch(batch, now_ns=NOW) is batch
    assert nonzero(validator) == {}
    assert set(validator.counts) == {reason.value for reason in Reason}


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (tick(T0 + 5, math.nan), Reason.NON_FINITE),
        (tick(T0 + 5, math.inf), Reason.NON_FINITE),
        (tick(T0 + 5, -math.inf), Reason.NON_FINITE),
        (tick(T0 + 5, 0.0), Reason.NON_POSITIVE),
        (tick(T0 + 5, -5.0), Reason.NON_POSITIVE),
        (tick(T0 + 5, 5.0, size=0), Reason.ZERO_SIZE),
        (tick(T0 + 5, 5.0, size=-100), Reason.ZERO_SIZE),
        (tick(T0 + 5, 5.0, size=5_000_001), Reason.ABSURD_SIZE),
        (tick(T0 + 5, 5.0, seq=2**63), Reason.BAD_SEQ),
        (tick(T0 + 5, 5.0, seq=-(2**63) - 1), Reason.BAD_SEQ),
        (tick(NOW + 2 * NS + 1, 5.0), Reason.FUTURE),
        (tick(T0 - 1, 5.0, seq=9), Reason.OUT_OF_ORDER),
        (tick(T0, 5.0, seq=1), Reason.DUPLICATE),
        (tick(T0 + 5, 6.01), Reason.JUMP),
        (tick(T0 + 5, 3.99), Reason.JUMP),
        (tick(T0 + 5, 5.0, symbol="ZZZ"), Reason.UNKNOWN_SYMBOL),
    ],
)
def test_each_bad_class_is_counted_and_quarantined(bad: Tick, reason: Reason) -> None:
    validator = TickValidator(ValidationConfig(universe=frozenset({"AAA"})))
    first = tick(T0, 5.0, seq=1)
    after = tick(T0 + 10, 5.5, seq=2)
    out = check(validator, first, bad, after)
    assert out.ticks == [first, after]
    assert nonzero(validator) == {reason.value: 1}
    assert validator.quarantine == ((reason, bad),)


def test_future_tolerance_and_equal_timestamps_are_fine() -> None:
    validator = TickValidator()
    edge = tick(NOW + 2 * NS, 5.0, seq=1)
    same_time = tick(NOW + 2 * NS, 5.0, seq=2)
    assert check(validator, edge, same_time).ticks == [edge, same_time]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (quote(T0, math.nan, 5.0), Reason.NON_FINITE),
        (quote(T0, 4.99, math.inf), Reason.NON_FINITE),
        (quote(T0, 0.0, 5.0), Reason.NON_POSITIVE),
        (quote(T0, 5.02, 5.01), Reason.CROSSED),
        (quote(NOW + 3 * NS, 5.0, 5.01), Reason.FUTURE),
        (quote(T0 - 1, 5.0, 5.01), Reason.OUT_OF_ORDER),
        (quote(T0, 5.0, 5.01, symbol="ZZZ"), Reason.UNKNOWN_SYMBOL),
        (Quote("AAA", T0, 5.0, 5.01, -1, 100), Reason.ABSURD_SIZE),
    ],
)
def test_quotes_are_checked_too(bad: Quote, reason: Reason) -> None:
    validator = TickValidator(ValidationConfig(universe=frozenset({"AAA"})))
    good = quote(T0, 5.0, 5.0)  # locked is not crossed
    out = check(validator, quotes=(good, bad))
    assert out.quotes == [good]
    assert nonzero(validator) == {reason.value: 1}


def test_a_split_is_not_a_jump() -> None:
    validator = TickValidator()
    check(validator, tick(T0, 400.0, seq=1))
    validator.register_split("AAA", 4, 1, effective_ns=T0 + 100)
    pre_split = tick(T0 + 50, 401.0, seq=2)
    post_split = tick(T0 + 100, 100.0, seq=3)
    assert check(validator, pre_split, post_split).ticks == [pre_split, post_split]
    assert nonzero(validator) == {}
    assert validator.gaps() == []


def test_a_split_registered_late_still_re_anchors() -> None:
    validator = TickValidator()
    check(validator, tick(T0, 400.0, seq=1))
    assert check(validator, tick(T0 + 100, 100.0, seq=2)).ticks == []
    validator.register_split("AAA", 4, 1, effective_ns=T0 + 50)
    assert check(validator, tick(T0 + 200, 100.5, seq=3)).ticks == [tick(T0 + 200, 100.5, seq=3)]


def test_a_split_does_not_rescale_a_post_split_reference() -> None:
    validator = TickValidator()
    check(validator, tick(T0 + 100, 100.0, seq=1))
    validator.register_split("AAA", 4, 1, effective_ns=T0 + 50)
    assert len(check(validator, tick(T0 + 200, 100.5, seq=2)).ticks) == 1
    with pytest.raises(ValueError, match="ratio"):
        validator.register_split("AAA", 0, 1, effective_ns=T0)


def test_jump_without_corporate_action_re_anchors_after_confirmations() -> None:
    validator = TickValidator()
    check(validator, tick(T0, 10.0, seq=1))
    confirming = [tick(T0 + k, 13.0 + 0.05 * k, seq=1 + k) for k in (1, 2, 3)]
    assert check(validator, *confirming).ticks == []
    assert validator.gaps() == [GapEvent("AAA", T0 + 3, 10.0, 13.15)]
    assert validator.gaps() == []
    later = tick(T0 + 4, 13.2, seq=5)
    assert check(validator, later).ticks == [later]
    assert nonzero(validator) == {"jump": 3}
    assert check(validator, tick(T0 + 5, 10.0, seq=6)).ticks == []  # the old level is a jump now


def test_a_normal_print_or_disagreeing_jumps_reset_the_confirmation() -> None:
    validator = TickValidator()
    check(validator, tick(T0, 10.0, seq=1))
    stream = [
        tick(T0 + 1, 13.0, seq=2),
        tick(T0 + 2, 13.0, seq=3),
        tick(T0 + 3, 10.1, seq=4),  # normal: accepted, streak reset
        tick(T0 + 4, 13.0, seq=5),
        tick(T0 + 5, 7.0, seq=6),  # a jump the other way does not agree
        tick(T0 + 6, 13.0, seq=7),
        tick(T0 + 7, 14.0, seq=8),  # 7.7% away from 13.0: outside the 5% band
    ]
    assert check(validator, *stream).ticks == [stream[2]]
    assert validator.gaps() == []
    assert nonzero(validator) == {"jump": 6}


def test_quarantine_is_bounded_and_keeps_the_latest() -> None:
    validator = TickValidator(ValidationConfig(quarantine_size=2))
    bad = [tick(T0 + k, -1.0, seq=k) for k in range(5)]
    check(validator, *bad)
    assert validator.quarantine == ((Reason.NON_POSITIVE, bad[3]), (Reason.NON_POSITIVE, bad[4]))
    assert validator.counts["non_positive"] == 5


def test_duplicates_are_remembered_within_the_window() -> None:
    validator = TickValidator(ValidationConfig(dedup_window=2))
    first = [tick(T0 + k, 5.0, seq=k) for k in range(3)]
    check(validator, *first)
    assert check(validator, first[2], first[1]).ticks == []
    assert nonzero(validator) == {"duplicate": 2}
    assert check(validator, first[0]).ticks == []  # forgotten, but still older than the last
    assert nonzero(validator) == {"duplicate": 2, "out_of_order": 1}


@pytest.mark.parametrize(
    "config",
    [
        {"max_size": 0},
        {"jump_pct": 0.0},
        {"jump_confirmations": 0},
        {"future_tolerance_ns": -1},
        {"quarantine_size": 0},
    ],
)
def test_config_is_checked(config: dict[str, int | float]) -> None:
    with pytest.raises(ValueError, match="must"):
        ValidationConfig(**config)  # type: ignore[arg-type]
