"""Reconnect delays for the Alpaca streams and REST connects: exponential with full jitter."""

from __future__ import annotations

import random

_MAX_EXPONENT = 62


class FullJitter:
    """Failure number n (0-based) waits uniform(0, min(cap, base * 2**n)) seconds.

    Full jitter (not alpaca-py's "equal jitter") spreads a fleet that lost the venue at the same
    instant over the whole window, so a one-connection-per-account stream is not stormed.
    """

    def __init__(self, *, base_s: float, cap_s: float, rng: random.Random) -> None:
        if base_s <= 0 or cap_s < base_s:
            raise ValueError(f"backoff needs 0 < base <= cap, got base={base_s} cap={cap_s}")
        self._base_s = base_s
        self._cap_s = cap_s
        self._rng = rng

    def ceiling(self, attempt: int) -> float:
        """The longest wait after failure number `attempt`."""
        if attempt < 0:
            raise ValueError(f"attempt must be >= 0, got {attempt}")
        return min(self._cap_s, self._base_s * 2.0 ** min(attempt, _MAX_EXPONENT))

    def delay(self, attempt: int) -> float:
        return self._rng.uniform(0.0, self.ceiling(attempt))
