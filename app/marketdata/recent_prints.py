"""The last prints of one symbol, remembered to spot a print that arrives twice.

A key is a print's (ts, price, size, seq). The last `window` keys live in flat arrays (32 bytes
a key, where a set of tuples took about 200), and only the keys at or after `floor`, the newest
accepted time, also in a set: a print that could still be accepted is never older than the
floor, so its check is one set lookup; an older one (rejected either way, as a duplicate or out
of order) is looked up in the arrays.
"""

from __future__ import annotations

from array import array

Key = tuple[int, float, int, int]


class RecentPrints:
    __slots__ = ("_floor", "_fresh", "_next", "_price", "_seq", "_size", "_top", "_ts", "_window")

    def __init__(self, window: int) -> None:
        if window <= 0:
            raise ValueError(f"window must be positive, got {window}")
        self._window = window
        self._ts = array("q")
        self._price = array("d")
        self._size = array("q")
        self._seq = array("q")
        self._next = 0
        self._floor = -(2**63)
        self._fresh: set[Key] = set()  # the remembered keys with ts >= floor
        self._top = -(2**63)  # the newest ts in _fresh

    def seen(self, key: Key) -> bool:
        """Whether `key` is one of the last `window` remembered."""
        if key[0] >= self._floor:
            return key in self._fresh
        ts, price, size, seq = key
        stamps, at = self._ts, -1
        while True:
            try:
                at = stamps.index(ts, at + 1)
            except ValueError:
                return False
            if self._price[at] == price and self._size[at] == size and self._seq[at] == seq:
                return True

    def remember(self, key: Key) -> None:
        """Remember `key`, not `seen`, its ts at or after the floor and every field within 64-bit
        integers; forget the oldest past `window`."""
        at = self._next
        ts, price, size, seq = key
        if len(self._ts) < self._window:
            self._ts.append(ts)
            self._price.append(price)
            self._size.append(size)
            self._seq.append(seq)
        else:
            gone = self._ts[at]
            if gone >= self._floor:
                self._fresh.discard((gone, self._price[at], self._size[at], self._seq[at]))
            self._ts[at], self._price[at], self._size[at], self._seq[at] = ts, price, size, seq
        self._next = at + 1 if at + 1 < self._window else 0
        self._fresh.add(key)
        if ts > self._top:
            self._top = ts

    def advance(self, floor: int) -> None:
        """The newest accepted time moved to `floor`: prints before it can no longer pass."""
        if floor <= self._floor:
            return
        self._floor = floor
        fresh = self._fresh
        if not fresh:
            return
        if self._top < floor:
            fresh.clear()
        else:
            self._fresh = {key for key in fresh if key[0] >= floor}
