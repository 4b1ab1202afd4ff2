"""Builders for backtest tests: bar tables by the minute, a probe strategy, a venue setup."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import numpy as np

from app.backtest.bars import BarTable
from app.backtest.setup import CoreSetup
from app.cli.backtest import execution_setup
from app.domain.calendar import session_open_ns
from app.domain.detection import ANY_SYMBOL
from app.domain.ids import signal_dedup_key
from app.domain.market import Bar
from app.domain.position import Lot
from app.domain.signal import Side, Signal, SignalKind
from app.exits.config import ExitConfig, Target
from app.indicators import IndicatorSet, Ref
from app.settings import RiskSettings, Settings, SimSettings

MINUTE = 60_000_000_000
DAY_1 = dt.date(2026, 3, 2)  # a Monday
DAY_2 = dt.date(2026, 3, 3)

# symbol, day, minute after the open, open, high, low, close, volume
Row = tuple[str, dt.date, int, float, float, float, float, int]


def bar_table(rows: Sequence[Row], *, interval_s: int = 60) -> BarTable:
    return BarTable.of(
        symbols=[r[0] for r in rows],
        ts=np.array([session_open_ns(r[1]) + r[2] * MINUTE for r in rows], dtype=np.int64),
        open_=np.array([r[3] for r in rows]),
        high=np.array([r[4] for r in rows]),
        low=np.array([r[5] for r in rows]),
        close=np.array([r[6] for r in rows]),
        volume=np.array([r[7] for r in rows], dtype=np.int64),
        interval_s=interval_s,
    )


def flat_day(
    symbol: str, day: dt.date, *, minutes: int, price: float = 10.0, volume: int = 40_000
) -> list[Row]:
    high, low = price + 0.01, price - 0.01
    return [(symbol, day, m, price, high, low, price, volume) for m in range(minutes)]


def core_setup(
    *,
    slippage_bps: str = "10",
    fee_per_share: str = "0.005",
    participation: str = "1",
    latency_ms: int = 0,
) -> CoreSetup:
    """The paper session's executor and venue, with these venue knobs (cash account)."""
    settings = Settings(
        risk=RiskSettings(),
        sim=SimSettings(
            latency_ms=latency_ms,
            slippage_bps=Decimal(slippage_bps),
            participation=Decimal(participation),
            buying_power_multiplier=Decimal(1),
            fee_per_share=Decimal(fee_per_share),
        ),
    )
    return execution_setup(settings)


class Probe:
    """Buys at the close of the bars starting at `buy_at` (stop 5% below), when flat."""

    priority = 10
    interval_s = 60
    accepts = ANY_SYMBOL
    exit = ExitConfig(
        stop_pct=5.0,
        targets=(Target(50.0, 1.0),),
        max_hold_s=7 * 86_400,
        flatten_before_close_s=None,
    )

    def __init__(self, *buy_at: int, name: str = "probe") -> None:
        self.name = name
        self._buy_at = set(buy_at)

    @property
    def indicators(self) -> tuple[Ref, ...]:
        return ()

    def on_bar(self, bar: Bar, ind: IndicatorSet, lots: Sequence[Lot]) -> Signal | None:
        if bar.ts_ns not in self._buy_at or lots:
            return None
        return Signal(
            strategy=self.name,
            symbol=bar.symbol,
            side=Side.BUY,
            kind=SignalKind.ENTRY,
            ts_ns=bar.end_ns,
            price=bar.close,
            dedup_key=signal_dedup_key(
                strategy=self.name, symbol=bar.symbol, side="buy", bar_ts_ns=bar.ts_ns
            ),
            priority=self.priority,
            stop_price=bar.close * 0.95,
            reason="probe: scheduled buy",
        )
