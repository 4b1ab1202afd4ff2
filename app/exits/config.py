"""Each strategy carries its own exit configuration; one exit engine serves them all."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field

from app.domain.bracket import BracketSpec


class ExitReason(enum.StrEnum):
    STOP = "stop"
    TRAILING_STOP = "trailing_stop"
    TARGET = "target"
    TIME = "time"
    SESSION_END = "session_end"


@dataclass(frozen=True, slots=True)
class Target:
    """Take `fraction` of the original quantity off at `pct` beyond the entry price."""

    pct: float
    fraction: float

    def __post_init__(self) -> None:
        if self.pct <= 0 or not 0 < self.fraction <= 1:
            raise ValueError(f"a target needs pct > 0 and fraction in (0, 1], got {self}")


@dataclass(frozen=True, slots=True)
class ExitConfig:
    """Fixed and trailing stops, scaled targets, a maximum hold, flattening before the close.

    The last target closes whatever is left. `stale_after_s` refuses exit decisions on a bar
    older than that against the shard's data time.

    `bracket` sends the stop and the single target with each entry as legs the venue holds
    (app.domain.bracket), so they work even while this process is down. The exit engine still
    watches the lot: its stop and target exits are refused while the legs work, and a time or
    session-end exit cancels the legs first. A trailing stop or a ladder of targets cannot be
    a bracket.
    """

    stop_pct: float = 3.0
    trailing_pct: float | None = None
    trailing_atr: float | None = None  # trail by this many ATRs of the strategy's bars
    atr_period: int = 14
    targets: tuple[Target, ...] = field(default_factory=lambda: (Target(6.0, 1.0),))
    max_hold_s: int = 1800
    flatten_before_close_s: int | None = 300
    stale_after_s: float = 5.0
    bracket: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.stop_pct < 100:
            raise ValueError(f"stop_pct must be in (0, 100), got {self.stop_pct}")
        if self.trailing_pct is not None and not 0 < self.trailing_pct < 100:
            raise ValueError(f"trailing_pct must be in (0, 100), got {self.trailing_pct}")
        if self.trailing_atr is not None and self.trailing_atr <= 0:
            raise ValueError(f"trailing_atr must be positive, got {self.trailing_atr}")
        if not self.targets or list(self.targets) != sorted(self.targets, key=lambda t: t.pct):
            raise ValueError("targets must be non-empty and in increasing pct order")
        if self.max_hold_s <= 0:
            raise ValueError(f"max_hold_s must be positive, got {self.max_hold_s}")
        if self.bracket and (
            self.trailing_pct is not None
            or self.trailing_atr is not None
            or len(self.targets) != 1
            or self.targets[0].fraction != 1
        ):
            raise ValueError(
                "bracket takes a stop and one target of fraction 1, without a trailing stop"
            )

    def bracket_spec(self) -> BracketSpec | None:
        """The legs the venue should hold for this strategy's entries, if it asks for them."""
        if not self.bracket:
            return None
        return BracketSpec(stop_pct=self.stop_pct, target_pct=self.targets[0].pct)

    def stop_price(self, entry: float, *, long: bool) -> float:
        return entry * (1 - self.stop_pct / 100) if long else entry * (1 + self.stop_pct / 100)

    def trailing_price(self, best: float, *, long: bool, atr: float | None = None) -> float | None:
        """The tighter of the percentage and the ATR trail; None when neither applies (the ATR
        trail waits until the ATR is warm)."""
        distances = []
        if self.trailing_pct is not None:
            distances.append(best * self.trailing_pct / 100)
        if self.trailing_atr is not None and atr is not None and math.isfinite(atr):
            distances.append(atr * self.trailing_atr)
        if not distances:
            return None
        return best - min(distances) if long else best + min(distances)

    def target_price(self, entry: float, index: int, *, long: bool) -> float:
        pct = self.targets[index].pct / 100
        return entry * (1 + pct) if long else entry * (1 - pct)
