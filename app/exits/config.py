"""Each strategy carries its own exit configuration; one exit engine serves them all."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ExitReason(enum.StrEnum):
    STOP = "stop"
    TARGET = "target"
    TIME = "time"
    SESSION_END = "session_end"


@dataclass(frozen=True, slots=True)
class ExitConfig:
    """Percent stop and target from the entry, a maximum hold, and flattening before the close."""

    stop_pct: float = 3.0
    target_pct: float = 6.0
    max_hold_s: int = 1800
    flatten_before_close_s: int | None = 300

    def __post_init__(self) -> None:
        if not 0 < self.stop_pct < 100:
            raise ValueError(f"stop_pct must be in (0, 100), got {self.stop_pct}")
        if self.target_pct <= 0:
            raise ValueError(f"target_pct must be positive, got {self.target_pct}")
        if self.max_hold_s <= 0:
            raise ValueError(f"max_hold_s must be positive, got {self.max_hold_s}")

    def stop_price(self, entry: float, *, long: bool) -> float:
        return entry * (1 - self.stop_pct / 100) if long else entry * (1 + self.stop_pct / 100)

    def target_price(self, entry: float, *, long: bool) -> float:
        return entry * (1 + self.target_pct / 100) if long else entry * (1 - self.target_pct / 100)
