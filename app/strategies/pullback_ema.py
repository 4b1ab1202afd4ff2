"""The first pullback to a short EMA after a run, long only, regular session."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from app.domain.detection import ANY_SYMBOL
from app.domain.market import Bar, Session
from app.domain.position import Lot
from app.domain.signal import Signal
from app.exits.config import ExitConfig, Target
from app.indicators import EMA, IndicatorSet, MinutesSinceOpen, Ref
from app.strategies.entry import all_ready, long_entry, may_enter, sizing_stop, unit
from app.strategies.param_checks import require_count, require_non_negative, require_positive
from app.strategies.sessions import session_key


@dataclass(frozen=True, slots=True)
class PullbackEmaParams:
    ema_period: int = 9
    min_run_pct: float = 5.0
    min_higher_closes: int = 4
    touch_pct: float = 0.2
    max_volume_ratio: float = 1.0
    stop_buffer_pct: float = 0.2
    exit: ExitConfig = field(
        default_factory=lambda: ExitConfig(
            stop_pct=3.0,
            trailing_pct=2.5,
            targets=(Target(4.0, 0.5), Target(8.0, 1.0)),
            max_hold_s=1800,
        )
    )

    def __post_init__(self) -> None:
        require_count("ema_period", self.ema_period)
        require_count("min_higher_closes", self.min_higher_closes)
        require_positive("min_run_pct", self.min_run_pct)
        require_non_negative("touch_pct", self.touch_pct)
        require_positive("max_volume_ratio", self.max_volume_ratio)
        require_positive("stop_buffer_pct", self.stop_buffer_pct)


class _Run:
    """Per symbol, since the session's low: the run's high, its volume, the streak of higher
    closes, whether it has qualified as a run and whether its first pullback came already."""

    __slots__ = (
        "bars",
        "high",
        "higher_closes",
        "last_close",
        "low",
        "qualified",
        "session",
        "spent",
        "volume",
    )

    def __init__(self, bar: Bar, session: int) -> None:
        self.session = session
        self.last_close = bar.close
        self.higher_closes = 0
        self.restart(bar)

    def restart(self, bar: Bar) -> None:
        """A new session low: whatever ran before it is over."""
        self.low, self.high = bar.low, bar.high
        self.volume, self.bars = float(bar.volume), 1
        self.qualified = self.spent = False


class PullbackEma:
    """After a run (the high at least `min_run_pct` above the session low, or
    `min_higher_closes` higher closes in a row), enter on the first bar whose low comes within
    `touch_pct` of the EMA (or below it) and that closes back above the EMA on volume below
    `max_volume_ratio` times the run's average bar volume. The first touch spends the setup
    whether or not it qualifies; a new session low starts a new one. Stop under the pullback
    low."""

    interval_s = 60
    accepts = ANY_SYMBOL

    def __init__(
        self,
        params: PullbackEmaParams | None = None,
        *,
        name: str = "pullback_ema",
        priority: int = 15,
    ) -> None:
        self.params = p = params or PullbackEmaParams()
        self.name = name
        self.priority = priority
        self.exit = p.exit
        self._ema = EMA(p.ema_period)
        self._minutes = MinutesSinceOpen()
        self._refs: tuple[Ref, ...] = (self._ema, self._minutes)
        self._runs: dict[str, _Run] = {}

    @property
    def indicators(self) -> tuple[Ref, ...]:
        return self._refs

    def on_bar(self, bar: Bar, ind: IndicatorSet, lots: Sequence[Lot]) -> Signal | None:
        if bar.interval_s != self.interval_s or bar.session is not Session.REGULAR:
            return None
        session = session_key(bar, ind.value(self._minutes))
        run = self._runs.get(bar.symbol)
        if run is None or run.session != session:
            self._runs[bar.symbol] = _Run(bar, session)
            return None
        signal = self._pullback(bar, ind, lots, run)
        self._advance(run, bar)
        return signal

    def _pullback(
        self, bar: Bar, ind: IndicatorSet, lots: Sequence[Lot], run: _Run
    ) -> Signal | None:
        p = self.params
        ema = ind.value(self._ema)
        if not run.qualified or run.spent or not all_ready(ind, self._refs):
            return None
        if bar.low > ema * (1 + p.touch_pct / 100):
            return None
        run.spent = True
        run_volume = run.volume / run.bars
        if (
            bar.close <= ema
            or bar.volume >= p.max_volume_ratio * run_volume
            or not may_enter(bar, lots)
        ):
            return None
        run_pct = 100 * (run.high / run.low - 1)
        return long_entry(
            strategy=self.name,
            priority=self.priority,
            bar=bar,
            stop=sizing_stop(bar.close, self.exit, bar.low * (1 - p.stop_buffer_pct / 100)),
            confidence=0.5 + 0.5 * unit(1 - bar.volume / run_volume),
            reason=(
                f"run {run_pct:.2f}% from session low {run.low:.4f} "
                f"({run.higher_closes} higher closes), first pullback: low {bar.low:.4f} "
                f"touches {self._ema.key} {ema:.4f}, close {bar.close:.4f} back above, "
                f"volume {bar.volume} < {p.max_volume_ratio:g} x run average {run_volume:.0f}"
            ),
            ind=ind,
            levels={"run_low": run.low, "run_high": run.high, "run_avg_volume": run_volume},
        )

    def _advance(self, run: _Run, bar: Bar) -> None:
        p = self.params
        run.higher_closes = run.higher_closes + 1 if bar.close > run.last_close else 0
        run.last_close = bar.close
        if bar.low < run.low:
            run.restart(bar)
            return
        run.high = max(run.high, bar.high)
        run.volume += bar.volume
        run.bars += 1
        if (
            100 * (run.high / run.low - 1) >= p.min_run_pct
            or run.higher_closes >= p.min_higher_closes
        ):
            run.qualified = True
