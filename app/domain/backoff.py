"""Reconnect delays for every connection (Redis, Alpaca, IB): exponential with full jitter,
from an injected random source."""

from __future__ import annotations

from collections.abc import Callable

_MAX_EXPONENT = 62


class FullJitterBackoff:
    """Failure number n (0-based) waits uniform(0, min(cap, base * 2**n)) seconds.

    Full jitter (not "equal jitter") spreads clients that lost a server at the same instant over
    the whole window instead of letting them retry in lockstep, so a one-connection-per-account
    stream is not stormed; the first retry waits at most `base_s`. `random` returns a float in
    [0, 1), like random.Random().random.
    """

    def __init__(self, *, base_s: float, cap_s: float, random: Callable[[], float]) -> None:
        if base_s <= 0 or cap_s < base_s:
            raise ValueError(f"backoff needs 0 < base <= cap, got base={base_s} cap={cap_s}")
        self._base_s = base_s
        self._cap_s = cap_s
        self._random = random

    def ceiling(self, attempt: int) -> float:
        """The longest wait after failure number `attempt`."""
        if attempt < 0:
            raise ValueError(f"attempt must be >= 0, got {attempt}")
        return min(self._cap_s, self._base_s * 2.0 ** min(attempt, _MAX_EXPONENT))

    def delay(self, attempt: int) -> float:
        return self._random() * self.ceiling(attempt)
