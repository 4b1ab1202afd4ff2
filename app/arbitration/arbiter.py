"""Many signals per symbol -> one decision, with the written reason for every signal.

Exits are never arbitrated: getting out is not a contest. Entries for one symbol that arrive
within the window (by default: of the same bar) are resolved in this order:

1. per-strategy policy: a disabled strategy, or one that does not trade the symbol's
   detection tag, is refused;
2. the overlap guard: a symbol already held, or with an entry working, by any strategy is
   refused, and so is one whose recent returns correlate with a held symbol's beyond the
   threshold;
3. priority, then confidence, then the strategy name (so ties resolve the same way every run).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from app.arbitration.correlation import aligned_correlation
from app.arbitration.policy import ArbiterConfig, StrategyPolicy
from app.domain.signal import Signal, SignalKind

_DEFAULT = StrategyPolicy()


@dataclass(frozen=True, slots=True)
class Verdict:
    """The arbiter's word on one signal: `chosen` goes on to risk; the audit says why."""

    signal: Signal
    chosen: bool
    reason: str
    audit: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Holdings:
    """What the overlap guard asks of the book: which strategies hold or are entering a
    symbol, and which symbols are held at all (for the correlation guard)."""

    holders: Callable[[str], Sequence[str]]
    held_symbols: Callable[[], Iterable[str]]


class Arbiter:
    def __init__(
        self,
        config: ArbiterConfig | None = None,
        policies: Mapping[str, StrategyPolicy] | None = None,
    ) -> None:
        self.config = config or ArbiterConfig()
        self._policies = dict(policies or {})
        self._pending: dict[str, list[Signal]] = {}  # symbol -> entries waiting for the window
        self._latest: dict[str, Signal] = {}  # symbol -> latest entry signal with returns

    def set_policies(self, policies: Mapping[str, StrategyPolicy]) -> None:
        """Apply edited strategy configuration; takes effect for the next resolution."""
        self._policies = dict(policies)

    def policy(self, strategy: str) -> StrategyPolicy:
        return self._policies.get(strategy, _DEFAULT)

    def offer(self, signals: Iterable[Signal], *, now_ns: int, holdings: Holdings) -> list[Verdict]:
        """Take new signals; return every verdict that is final now, in a stable order."""
        verdicts: list[Verdict] = []
        for signal in sorted(signals, key=lambda s: (s.ts_ns, s.symbol, s.strategy)):
            if signal.returns:
                self._latest[signal.symbol] = signal
            if signal.kind is SignalKind.EXIT:
                verdicts.append(Verdict(signal, True, "exit: not arbitrated"))
                continue
            group = self._pending.get(signal.symbol)
            if group and signal.ts_ns >= group[0].ts_ns + max(self.config.window_ns, 1):
                verdicts.extend(self._resolve(self._pending.pop(signal.symbol), holdings))
            self._pending.setdefault(signal.symbol, []).append(signal)
        verdicts.extend(self.due(now_ns, holdings=holdings, flush_bar=self.config.window_ns == 0))
        return verdicts

    def due(self, now_ns: int, *, holdings: Holdings, flush_bar: bool = False) -> list[Verdict]:
        """Resolve every group whose window has closed by `now_ns` (all of them for a zero
        window when `flush_bar`: the signals of one bar arrive together)."""
        ready = [
            symbol
            for symbol, group in self._pending.items()
            if flush_bar or now_ns >= group[0].ts_ns + self.config.window_ns
        ]
        verdicts: list[Verdict] = []
        for symbol in sorted(ready):
            verdicts.extend(self._resolve(self._pending.pop(symbol), holdings))
        return verdicts

    @property
    def waiting(self) -> int:
        return sum(len(group) for group in self._pending.values())

    def _resolve(self, group: list[Signal], holdings: Holdings) -> list[Verdict]:
        candidates = ", ".join(
            f"{s.strategy}(p={self._priority(s)}, c={s.confidence:.2f})" for s in group
        )
        base = {"arbitration.candidates": candidates}
        verdicts: list[Verdict] = []
        eligible: list[Signal] = []
        for signal in group:
            refusal = self.policy(signal.strategy).refusal(signal.detection)
            if refusal is None:
                eligible.append(signal)
            else:
                verdicts.append(_refused(signal, refusal, base))
        if not eligible:
            return verdicts
        overlap = self._overlap(eligible[0].symbol, holdings)
        if overlap is not None:
            return verdicts + [_refused(s, overlap, base) for s in eligible]
        ranked = sorted(eligible, key=lambda s: (-self._priority(s), -s.confidence, s.strategy))
        winner = ranked[0]
        correlated = self._correlated(winner, holdings)
        if correlated is not None:
            return verdicts + [_refused(s, correlated, base) for s in ranked]
        chosen = f"chosen over {len(ranked) - 1} rival(s)" if len(ranked) > 1 else "unopposed"
        verdicts.append(Verdict(winner, True, chosen, {**base, "arbitration": chosen}))
        verdicts.extend(_refused(s, self._lost(s, winner), base) for s in ranked[1:])
        return verdicts

    def _priority(self, signal: Signal) -> int:
        configured = self.policy(signal.strategy).priority
        return signal.priority if configured is None else configured

    def _lost(self, loser: Signal, winner: Signal) -> str:
        lp, wp = self._priority(loser), self._priority(winner)
        if lp != wp:
            why = f"priority {wp} > {lp}"
        elif loser.confidence != winner.confidence:
            why = f"same priority {wp}, confidence {winner.confidence:.2f} > {loser.confidence:.2f}"
        else:
            why = f"same priority {wp} and confidence, name order"
        return f"lost to {winner.strategy} ({why})"

    @staticmethod
    def _overlap(symbol: str, holdings: Holdings) -> str | None:
        holders = holdings.holders(symbol)
        if holders:
            return f"overlap: {symbol} already held or entering by {', '.join(sorted(holders))}"
        return None

    def _correlated(self, signal: Signal, holdings: Holdings) -> str | None:
        threshold = self.config.correlation_threshold
        if threshold is None or not signal.returns:
            return None
        for held in sorted(holdings.held_symbols()):
            other = self._latest.get(held)
            if held == signal.symbol or other is None:
                continue
            rho = aligned_correlation(signal, other, min_points=self.config.correlation_min_points)
            if rho is not None and rho >= threshold:
                return f"overlap: returns correlate with held {held} (rho {rho:.2f} >= {threshold})"
        return None


def _refused(signal: Signal, reason: str, base: dict[str, str]) -> Verdict:
    return Verdict(signal, False, f"arbitration: {reason}", {**base, "arbitration": reason})
