"""The last N seconds of one symbol's tape, for several N at once, at O(1) amortized per print.

Every window covers the seconds (now - N, now], where `now` is the second of the newest print.
The windows share one run of per-second samples, kept in flat arrays (8 bytes a value, not a
Python object each): second, lowest and highest price, and the running total of shares up to the
end of that second.

* volume: each window keeps the index of its oldest second, moved forward as time passes, so
  its volume is the running total now less the total where the window begins: exact integers,
  however long the stream;
* low and high: only wanted when a print has cleared the volume test (app.detection.fast), so
  they are found lazily. Each window has two monotonic deques of finished seconds (prices
  strictly increasing from the head for the low, decreasing for the high); asked for its move,
  a window first folds in the seconds finished since it was last asked (skipping those already
  outside it), drops what has left it at the head, and then compares the head with the second
  in progress.

A print in the second in progress only updates that second's sample. Every finished second is
folded into a window's deques at most once and leaves them at most once, and the samples no
window covers are cut off in one slice once they are an eighth of the longest window (at least
CUT_MIN), so memory is bounded: at most longest + 1 + longest / 8 samples (a memmove of them
every longest / 8 seconds), and 2 x (N + 1) deque entries per window.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Sequence

CUT_MIN = 16


class MoveWindows:
    """How far the price moved, and how much traded, in the last `seconds[i]` seconds."""

    __slots__ = (
        "_cum_base",
        "_cut_at",
        "_folded",
        "_high_q",
        "_highs",
        "_longest",
        "_low_q",
        "_lows",
        "_seconds",
        "_starts",
        "_totals",
        "seconds",
        "total",
        "volumes",
    )

    def __init__(self, seconds: Sequence[int]) -> None:
        self.seconds = tuple(seconds)
        self.volumes = [0] * len(self.seconds)
        self.total = 0  # shares in every print so far
        self._longest = self.seconds.index(max(self.seconds))
        self._cut_at = max(CUT_MIN, self.seconds[self._longest] // 8)
        self._seconds = array("q")
        self._lows = array("d")
        self._highs = array("d")
        self._totals = array("q")  # running total of shares at the end of each second
        self._cum_base = 0  # the running total before the first sample held
        self._starts = [0] * len(self.seconds)  # index of each window's oldest second
        self._folded = [0] * len(self.seconds)  # samples before this index are in the deques
        self._low_q: list[deque[tuple[int, float]]] = [deque() for _ in self.seconds]
        self._high_q: list[deque[tuple[int, float]]] = [deque() for _ in self.seconds]

    def __len__(self) -> int:
        """Samples and deque entries held, for bounding memory."""
        queued = sum(len(q) for q in self._low_q) + sum(len(q) for q in self._high_q)
        return len(self._seconds) + queued

    def push(self, second: int, price: float, size: int) -> None:
        """Add a print; `second` must not go backwards (the caller clamps late prints)."""
        self.total += size
        times = self._seconds
        if times and times[-1] == second:
            if price < self._lows[-1]:
                self._lows[-1] = price
            elif price > self._highs[-1]:
                self._highs[-1] = price
            self._totals[-1] = self.total
            volumes = self.volumes
            for i in range(len(volumes)):
                volumes[i] += size
            return
        times.append(second)
        self._lows.append(price)
        self._highs.append(price)
        totals = self._totals
        totals.append(self.total)
        starts, volumes = self._starts, self.volumes
        for i, span in enumerate(self.seconds):
            floor = second - span
            start = starts[i]
            while times[start] <= floor:
                start += 1
            starts[i] = start
            volumes[i] = self.total - (totals[start - 1] if start else self._cum_base)
        if starts[self._longest] > self._cut_at:
            self._cut(starts[self._longest])

    def low(self, i: int) -> float:
        self._fold(i)
        low_q, current = self._low_q[i], self._lows[-1]
        return low_q[0][1] if low_q and low_q[0][1] < current else current

    def high(self, i: int) -> float:
        self._fold(i)
        high_q, current = self._high_q[i], self._highs[-1]
        return high_q[0][1] if high_q and high_q[0][1] > current else current

    def move_pct(self, i: int, price: float) -> float:
        """The signed move to `price` (the newest print) from window i's far extreme: the rise
        from the low when that is the larger, else the (negative) fall from the high."""
        low, high = self.low(i), self.high(i)
        up = (price - low) / low * 100.0
        down = (price - high) / high * 100.0
        return up if up >= -down else down

    def _fold(self, i: int) -> None:
        """Bring window i's deques up to the second in progress (not included: it may still
        change) and drop what has left the window."""
        times, lows, highs = self._seconds, self._lows, self._highs
        low_q, high_q = self._low_q[i], self._high_q[i]
        finished = len(times) - 1
        for j in range(max(self._folded[i], self._starts[i]), finished):
            second, low, high = times[j], lows[j], highs[j]
            while low_q and low_q[-1][1] >= low:
                low_q.pop()
            low_q.append((second, low))
            while high_q and high_q[-1][1] <= high:
                high_q.pop()
            high_q.append((second, high))
        self._folded[i] = finished
        floor = times[-1] - self.seconds[i]
        while low_q and low_q[0][0] <= floor:
            low_q.popleft()
        while high_q and high_q[0][0] <= floor:
            high_q.popleft()

    def _cut(self, count: int) -> None:
        """Forget the oldest `count` samples: no window reaches back to them."""
        self._cum_base = self._totals[count - 1]
        del self._seconds[:count], self._lows[:count], self._highs[:count], self._totals[:count]
        self._starts = [start - count for start in self._starts]
        self._folded = [max(0, folded - count) for folded in self._folded]
