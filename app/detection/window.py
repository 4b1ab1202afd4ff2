"""The last N seconds of one symbol's tape, kept so that each print costs O(1) amortized.

The window covers the seconds (now - N, now], where `now` is the second of the newest print.
Three deques hold per-second samples:

* lows: (second, lowest price) candidates for the window's low, prices strictly increasing from
  the head; a print pops every candidate at or above its price (they can never be the low
  again: it is as low and leaves later), so the head is the low;
* highs: the same, mirrored, for the high;
* volumes: (second, shares traded in that second), with the window's total kept as a running
  integer sum, so it is exact however long the stream.

Every sample is appended once and popped at most once, and a deque holds at most one sample per
second (a print in the newest second merges into its sample), so memory is bounded by N + 1
samples per deque and the window is never rescanned.
"""

from __future__ import annotations

from collections import deque


class MoveWindow:
    """How far the price moved, and how much traded, in the last `seconds` seconds."""

    __slots__ = ("_highs", "_lows", "_second", "_volumes", "seconds", "volume")

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds
        self.volume = 0
        self._second: int | None = None
        self._lows: deque[tuple[int, float]] = deque()
        self._highs: deque[tuple[int, float]] = deque()
        self._volumes: deque[tuple[int, int]] = deque()

    def __len__(self) -> int:
        """Samples held, for bounding memory."""
        return len(self._lows) + len(self._highs) + len(self._volumes)

    @property
    def low(self) -> float:
        return self._lows[0][1]

    @property
    def high(self) -> float:
        return self._highs[0][1]

    def push(self, second: int, price: float, size: int) -> None:
        """Add a print; `second` must not go backwards (the caller clamps late prints).

        Samples leave the head only when the second moves on, and a print in the newest second
        merges into its samples; a live tape prints many times a second, so that is the path
        most prints take."""
        lows, highs = self._lows, self._highs
        self.volume += size
        if second == self._second:
            if lows[-1][1] > price:
                while lows and lows[-1][1] >= price:
                    lows.pop()
                lows.append((second, price))
            if highs[-1][1] < price:
                while highs and highs[-1][1] <= price:
                    highs.pop()
                highs.append((second, price))
            volumes = self._volumes
            volumes[-1] = (second, volumes[-1][1] + size)
            return
        self._second = second
        floor = second - self.seconds
        volumes = self._volumes
        while lows and lows[0][0] <= floor:
            lows.popleft()
        while highs and highs[0][0] <= floor:
            highs.popleft()
        while volumes and volumes[0][0] <= floor:
            self.volume -= volumes.popleft()[1]
        while lows and lows[-1][1] >= price:
            lows.pop()
        lows.append((second, price))
        while highs and highs[-1][1] <= price:
            highs.pop()
        highs.append((second, price))
        volumes.append((second, size))

    def move_pct(self, price: float) -> float:
        """The signed move to `price` (the newest print) from the window's far extreme: the rise
        from the low when that is the larger, else the (negative) fall from the high."""
        up = (price - self.low) / self.low * 100.0
        down = (price - self.high) / self.high * 100.0
        return up if up >= -down else down
