"""Simulated time: moved only by whoever drives the simulation (a replay, a test)."""

from __future__ import annotations


class SimClock:
    """A Clock that stands still until advanced; it never goes backwards."""

    __slots__ = ("_now_ns",)

    def __init__(self, start_ns: int) -> None:
        self._now_ns = start_ns

    def now_ns(self) -> int:
        return self._now_ns

    def advance_to(self, ts_ns: int) -> None:
        """Move to ts_ns; staying put is allowed, going back raises ValueError."""
        if ts_ns < self._now_ns:
            raise ValueError(f"SimClock cannot go backwards: {ts_ns} < {self._now_ns}")
        self._now_ns = ts_ns

    def advance_by(self, ns: int) -> None:
        if ns < 0:
            raise ValueError(f"SimClock cannot go backwards: advance_by({ns})")
        self._now_ns += ns
