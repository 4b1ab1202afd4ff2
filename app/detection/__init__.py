"""Which symbols are moving, and how: fast movers on every tick, slow movers on every 1-min bar.

Small caps move in bursts. Two pure, synchronous detectors watch for them, and a tag says what
each symbol is doing right now; strategies declare which tags they trade (`Strategy.accepts`)
and the engine stamps the tag onto every signal (`Signal.detection`).

    detectors = Detectors(FastMoverConfig(), SlowMoverConfig())
    detectors.on_tick(tick)                 # every tick -> Detection | None (FAST)
    detectors.on_bar(bar)                   # every closed 1-minute bar -> Detection | None (SLOW)
    detectors.active("ABC", now_ns)         # DetectionKind.FAST / SLOW / None; FAST wins
    detectors.drain()                       # events since the last drain, for publishing
    detectors.counts()                      # running totals, for metrics

FAST (app.detection.fast): within a rolling window the price moved from the window's low (or
high) by at least the window's threshold, and the volume traded in the window is at least
`volume_mult` times the symbol's baseline for that long (an EWMA of its per-minute volume).
Defaults: 3% in 60 s, 6% in 300 s, 10% in 900 s, on 3x volume; baseline span 120 minutes,
trusted after 15; tag for 15 minutes; each window re-fires at most every 5 minutes; not under
$1. O(1) amortized per tick (monotonic deques of per-second samples, app.detection.window) and
at most one sample per second of each window per symbol.

SLOW (app.detection.slow): the symbol's one-minute bars carry at least 2x their usual volume
and 1.5x their usual high-low range (usual: mean of the first 30 bars, then an EWMA of span 30)
for 3 consecutive bars, while the price has moved less than 3% since the run began (it is still
quiet) and the symbol is not tagged FAST. Tag for 30 minutes; re-fires at most every 10
minutes; not under $1. O(1) per bar.

Time comes only from the data (tick and bar timestamps), so a replay repeats exactly.
"""

from app.detection.config import FastMoverConfig, FastWindow, SlowMoverConfig
from app.detection.detectors import DetectionCounts, Detectors
from app.detection.fast import FastMoverDetector
from app.detection.slow import SlowMoverDetector
from app.detection.tags import DetectionTags
from app.detection.window import MoveWindows

__all__ = [
    "DetectionCounts",
    "DetectionTags",
    "Detectors",
    "FastMoverConfig",
    "FastMoverDetector",
    "FastWindow",
    "MoveWindows",
    "SlowMoverConfig",
    "SlowMoverDetector",
]
