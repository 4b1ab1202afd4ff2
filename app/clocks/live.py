"""Wall-clock time, optionally replayed faster from a chosen start (a synthetic session at 30x)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class LiveClock:
    """A Clock on real time.

    With no start and speed 1 it is the wall clock. Otherwise it reads
    `start + (monotonic time elapsed since construction) * speed`, so it never goes backwards
    even when the system clock is stepped; or, given `anchor_wall_ns`, `start + (wall time
    since the anchor) * speed`, which separate processes share (sharded synthetic sessions).
    """

    __slots__ = ("_anchor_ns", "_mono0", "_monotonic_ns", "_speed", "_start_ns", "_wall_ns")

    def __init__(
        self,
        start_ns: int | None = None,
        speed: float = 1.0,
        *,
        anchor_wall_ns: int | None = None,
        wall_ns: Callable[[], int] = time.time_ns,
        monotonic_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        if not math.isfinite(speed) or speed <= 0.0:
            raise ValueError(f"speed must be finite and positive, got {speed!r}")
        self._speed = speed
        self._wall_ns = wall_ns
        self._monotonic_ns = monotonic_ns
        self._mono0 = monotonic_ns()
        if start_ns is None and speed != 1.0:
            start_ns = wall_ns()
        self._start_ns = start_ns
        self._anchor_ns = anchor_wall_ns

    def now_ns(self) -> int:
        if self._start_ns is None:
            return self._wall_ns()
        if self._anchor_ns is not None:
            return self._start_ns + int((self._wall_ns() - self._anchor_ns) * self._speed)
        elapsed = self._monotonic_ns() - self._mono0
        return self._start_ns + int(elapsed * self._speed)
