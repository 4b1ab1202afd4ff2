"""A failure breaker: consecutive failures open it; one probe per cool-down may close it."""

from __future__ import annotations

from dataclasses import dataclass

from msgspec.structs import replace

from app.ports.risk_state import BreakerState

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    threshold: int = 5
    cooldown_ns: int = 30_000_000_000


class FailureBreaker:
    """Pure state machine; `state` is what to persist after each change."""

    def __init__(self, config: BreakerConfig, state: BreakerState) -> None:
        self._config = config
        self.state = state

    def allow(self, now_ns: int) -> bool:
        """May a request go out now? While open, one probe per cool-down is let through (another
        only if the last one never resolved within the cool-down)."""
        match self.state.state:
            case "closed":
                return True
            case "open" | "half_open" if now_ns >= self.state.opened_ns + self._config.cooldown_ns:
                self.state = replace(self.state, state=HALF_OPEN, opened_ns=now_ns)
                return True
            case _:
                return False

    def record_success(self) -> None:
        self.state = replace(self.state, state=CLOSED, failures=0, opened_ns=0)

    def record_failure(self, now_ns: int) -> None:
        failures = self.state.failures + 1
        if self.state.state == HALF_OPEN or failures >= self._config.threshold:
            self.state = replace(self.state, state=OPEN, failures=failures, opened_ns=now_ns)
        else:
            self.state = replace(self.state, failures=failures)
