"""What the executor knows about each strategy: enabled, priority, the detection tags it
trades (the arbiter's business), and whether its entries go out as brackets."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.bracket import BracketSpec
from app.domain.detection import DetectionKind


@dataclass(frozen=True, slots=True)
class StrategyPolicy:
    enabled: bool = True
    priority: int | None = None  # None: the priority the signal carries
    accepts: frozenset[DetectionKind] = frozenset()  # empty: any symbol
    bracket: BracketSpec | None = None  # exit legs the venue holds for its entries

    def refusal(self, detection: str) -> str | None:
        """Why an entry of this strategy on a symbol tagged `detection` is refused, if it is."""
        if not self.enabled:
            return "strategy disabled"
        if self.accepts and detection not in self.accepts:
            wanted = "/".join(sorted(k.value for k in self.accepts))
            return f"detection filter: trades {wanted} movers, symbol is {detection or 'untagged'}"
        return None


@dataclass(frozen=True, slots=True)
class ArbiterConfig:
    """`window_ns` 0 resolves the signals of the same bar; a longer window holds the first
    entry signal of a symbol that long for rivals. `correlation_threshold` None disables the
    correlation guard."""

    window_ns: int = 0
    correlation_threshold: float | None = 0.9
    correlation_min_points: int = 10

    def __post_init__(self) -> None:
        if self.window_ns < 0:
            raise ValueError(f"window_ns must be >= 0, got {self.window_ns}")
        if self.correlation_threshold is not None and not 0 < self.correlation_threshold <= 1:
            raise ValueError(
                f"correlation_threshold must be in (0, 1], got {self.correlation_threshold}"
            )
        if self.correlation_min_points < 3:
            raise ValueError(
                f"correlation_min_points must be >= 3, got {self.correlation_min_points}"
            )
