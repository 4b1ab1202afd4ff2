"""The arbiter: ties, windows, detection filtering, per-strategy switches and the overlap guard."""

from __future__ import annotations

import math

import pytest

from app.arbitration import Arbiter, ArbiterConfig, Holdings, StrategyPolicy, Verdict
from app.domain.detection import DetectionKind
from app.domain.signal import Side, Signal, SignalKind
from tests.builders import OPEN_NS

MINUTE = 60_000_000_000


def sig(
    strategy: str,
    *,
    symbol: str = "ABC",
    priority: int = 10,
    confidence: float = 0.5,
    ts: int = OPEN_NS,
    detection: str = "",
    kind: SignalKind = SignalKind.ENTRY,
    returns: tuple[float, ...] = (),
) -> Signal:
    return Signal(
        strategy=strategy,
        symbol=symbol,
        side=Side.BUY if kind is SignalKind.ENTRY else Side.SELL,
        kind=kind,
        ts_ns=ts,
        price=10.0,
        dedup_key=f"{strategy}:{symbol}:{ts}",
        confidence=confidence,
        priority=priority,
        detection=detection,
        returns=returns,
    )


def holdings(held: dict[str, list[str]] | None = None) -> Holdings:
    book = held or {}
    return Holdings(lambda symbol: book.get(symbol, []), lambda: book.keys())


def by_strategy(verdicts: list[Verdict]) -> dict[str, Verdict]:
    return {v.signal.strategy: v for v in verdicts}


def test_higher_priority_wins_and_every_loser_says_why() -> None:
    verdicts = Arbiter().offer(
        [sig("a", priority=10, confidence=0.9), sig("b", priority=20, confidence=0.1)],
        now_ns=OPEN_NS,
        holdings=holdings(),
    )
    v = by_strategy(verdicts)
    assert v["b"].chosen and v["b"].reason == "chosen over 1 rival(s)"
    assert not v["a"].chosen
    assert v["a"].reason == "arbitration: lost to b (priority 20 > 10)"
    assert v["a"].audit["arbitration.candidates"] == "a(p=10, c=0.90), b(p=20, c=0.10)"


def test_priority_tie_goes_to_confidence_then_to_the_name() -> None:
    v = by_strategy(
        Arbiter().offer(
            [sig("a", confidence=0.4), sig("b", confidence=0.8)],
            now_ns=OPEN_NS,
            holdings=holdings(),
        )
    )
    assert v["b"].chosen and "confidence 0.80 > 0.40" in v["a"].reason
    v = by_strategy(Arbiter().offer([sig("z"), sig("m")], now_ns=OPEN_NS, holdings=holdings()))
    assert v["m"].chosen and v["z"].reason.endswith("(same priority 10 and confidence, name order)")


def test_a_lone_signal_is_unopposed_and_symbols_are_resolved_independently() -> None:
    verdicts = Arbiter().offer(
        [sig("a", symbol="ABC"), sig("b", symbol="XYZ")], now_ns=OPEN_NS, holdings=holdings()
    )
    assert [(v.signal.symbol, v.chosen, v.reason) for v in verdicts] == [
        ("ABC", True, "unopposed"),
        ("XYZ", True, "unopposed"),
    ]


def test_zero_window_resolves_each_bar_on_its_own() -> None:
    arbiter = Arbiter()
    first = arbiter.offer([sig("a", priority=5)], now_ns=OPEN_NS, holdings=holdings())
    later = arbiter.offer(
        [sig("b", priority=50, ts=OPEN_NS + MINUTE)], now_ns=OPEN_NS + MINUTE, holdings=holdings()
    )
    assert [v.chosen for v in first + later] == [True, True]


def test_a_window_holds_an_entry_for_later_rivals_and_releases_it_when_it_closes() -> None:
    arbiter = Arbiter(ArbiterConfig(window_ns=2_000_000_000))
    assert arbiter.offer([sig("a", priority=5)], now_ns=OPEN_NS, holdings=holdings()) == []
    assert arbiter.waiting == 1
    late = sig("b", priority=9, ts=OPEN_NS + 1_000_000_000)
    assert arbiter.offer([late], now_ns=OPEN_NS + 1_000_000_000, holdings=holdings()) == []
    assert arbiter.due(OPEN_NS + 1_999_999_999, holdings=holdings()) == []
    v = by_strategy(arbiter.due(OPEN_NS + 2_000_000_000, holdings=holdings()))
    assert v["b"].chosen and v["a"].reason == "arbitration: lost to b (priority 9 > 5)"
    assert arbiter.waiting == 0


def test_a_signal_past_the_window_closes_the_open_group_first() -> None:
    arbiter = Arbiter(ArbiterConfig(window_ns=2_000_000_000))
    arbiter.offer([sig("a")], now_ns=OPEN_NS, holdings=holdings())
    verdicts = arbiter.offer(
        [sig("b", ts=OPEN_NS + 5_000_000_000)], now_ns=OPEN_NS, holdings=holdings()
    )
    assert [(v.signal.strategy, v.chosen) for v in verdicts] == [("a", True)]
    assert arbiter.waiting == 1


def test_exits_are_never_arbitrated_nor_filtered() -> None:
    arbiter = Arbiter(policies={"a": StrategyPolicy(enabled=False)})
    verdicts = arbiter.offer(
        [sig("a", kind=SignalKind.EXIT)], now_ns=OPEN_NS, holdings=holdings({"ABC": ["a"]})
    )
    assert [(v.chosen, v.reason) for v in verdicts] == [(True, "exit: not arbitrated")]


def test_detection_filter_and_disabled_strategies_are_refused_before_the_contest() -> None:
    arbiter = Arbiter(
        policies={
            "fast_only": StrategyPolicy(accepts=frozenset({DetectionKind.FAST}), priority=99),
            "off": StrategyPolicy(enabled=False, priority=98),
            "any": StrategyPolicy(priority=1),
        }
    )
    v = by_strategy(
        arbiter.offer(
            [sig("fast_only", detection="slow"), sig("off"), sig("any")],
            now_ns=OPEN_NS,
            holdings=holdings(),
        )
    )
    assert v["any"].chosen
    assert v["fast_only"].reason == (
        "arbitration: detection filter: trades fast movers, symbol is slow"
    )
    assert v["off"].reason == "arbitration: strategy disabled"
    tagged = by_strategy(
        arbiter.offer(
            [sig("fast_only", detection="fast", ts=OPEN_NS + MINUTE)],
            now_ns=OPEN_NS + MINUTE,
            holdings=holdings(),
        )
    )
    assert tagged["fast_only"].chosen


def test_configured_priority_overrides_the_signal_priority() -> None:
    arbiter = Arbiter(policies={"a": StrategyPolicy(priority=1)})
    v = by_strategy(
        arbiter.offer(
            [sig("a", priority=50), sig("b", priority=10)], now_ns=OPEN_NS, holdings=holdings()
        )
    )
    assert v["b"].chosen and v["a"].reason == "arbitration: lost to b (priority 10 > 1)"
    arbiter.set_policies({})
    v = by_strategy(
        arbiter.offer(
            [
                sig("a", priority=50, ts=OPEN_NS + MINUTE),
                sig("b", priority=10, ts=OPEN_NS + MINUTE),
            ],
            now_ns=OPEN_NS + MINUTE,
            holdings=holdings(),
        )
    )
    assert v["a"].chosen


def test_overlap_guard_refuses_a_symbol_held_or_entering_by_any_strategy() -> None:
    v = by_strategy(
        Arbiter().offer([sig("a"), sig("b")], now_ns=OPEN_NS, holdings=holdings({"ABC": ["other"]}))
    )
    assert not v["a"].chosen and not v["b"].chosen
    assert v["a"].reason == "arbitration: overlap: ABC already held or entering by other"


def _wave(n: int, phase: float) -> tuple[float, ...]:
    return tuple(0.01 * math.sin(i / 2 + phase) for i in range(n))


def test_correlation_guard_refuses_a_symbol_moving_with_one_already_held() -> None:
    arbiter = Arbiter(ArbiterConfig(correlation_threshold=0.8))
    # XYZ was entered a minute ago; its returns series ends one minute before ABC's.
    held = sig("a", symbol="XYZ", returns=_wave(30, 0.0), ts=OPEN_NS)
    arbiter.offer([held], now_ns=OPEN_NS, holdings=holdings())
    shifted = (*_wave(30, 0.0)[1:], 0.01 * math.sin(30 / 2))  # the same path, one minute on
    twin = sig("b", symbol="ABC", returns=shifted, ts=OPEN_NS + MINUTE)
    v = by_strategy(
        arbiter.offer([twin], now_ns=OPEN_NS + MINUTE, holdings=holdings({"XYZ": ["a"]}))
    )
    assert not v["b"].chosen
    assert v["b"].reason.startswith(
        "arbitration: overlap: returns correlate with held XYZ (rho 1.00"
    )
    unrelated = sig("c", symbol="QQQ", returns=_wave(30, 1.7), ts=OPEN_NS + MINUTE)
    v = by_strategy(
        arbiter.offer([unrelated], now_ns=OPEN_NS + MINUTE, holdings=holdings({"XYZ": ["a"]}))
    )
    assert v["c"].chosen


def test_correlation_needs_enough_shared_minutes() -> None:
    arbiter = Arbiter(ArbiterConfig(correlation_threshold=0.5, correlation_min_points=10))
    arbiter.offer(
        [sig("a", symbol="XYZ", returns=_wave(30, 0.0))], now_ns=OPEN_NS, holdings=holdings()
    )
    far = sig("b", symbol="ABC", returns=_wave(30, 0.0), ts=OPEN_NS + 25 * MINUTE)
    v = by_strategy(arbiter.offer([far], now_ns=far.ts_ns, holdings=holdings({"XYZ": ["a"]})))
    assert v["b"].chosen  # only 5 shared minutes


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"window_ns": -1}, "window_ns must be >= 0"),
        ({"correlation_threshold": 1.5}, "correlation_threshold must be in"),
        ({"correlation_min_points": 2}, "correlation_min_points must be >= 3"),
    ],
)
def test_bad_config_is_refused_with_a_clear_message(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ArbiterConfig(**kwargs)  # type: ignore[arg-type]
