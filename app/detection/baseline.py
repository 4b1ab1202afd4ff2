"""A symbol's usual level of something (volume per minute, bar range): O(1) memory and update."""

from __future__ import annotations


class SeededEwma:
    """The plain mean of the first `seed` samples, then an EWMA of span `span` from there.

    Seeding with a mean rather than the first sample keeps one odd opening minute from setting
    the baseline; `ready` says whether `seed` samples have been seen. `value` is the mean so far
    while warming up (0.0 before any sample).
    """

    __slots__ = ("_alpha", "_count", "_seed", "_sum", "value")

    def __init__(self, *, span: int, seed: int) -> None:
        self._alpha = 2.0 / (span + 1)
        self._seed = seed
        self._count = 0
        self._sum = 0.0
        self.value = 0.0

    @property
    def ready(self) -> bool:
        return self._count >= self._seed

    def add(self, x: float) -> None:
        if self._count < self._seed:
            self._count += 1
            self._sum += x
            self.value = self._sum / self._count
        else:
            self.value += self._alpha * (x - self.value)

    def add_zeros(self, n: int) -> None:
        """`n` samples of 0 at once, in O(1): an EWMA decays by (1 - alpha) per zero."""
        warming = min(n, self._seed - self._count) if self._count < self._seed else 0
        if warming > 0:
            self._count += warming
            self.value = self._sum / self._count
        rest = n - warming
        if rest > 0:
            self.value *= (1.0 - self._alpha) ** rest
