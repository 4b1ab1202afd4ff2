"""Split adjustment: history before a split restated in today's shares.

A split of `numerator` new shares for `denominator` old ones (ratio r = n/d) makes every price
before its effective time worth price / r in today's shares, and every volume volume * r. With
the history restated, a backtest sees one continuous series: a 2:1 split is not a 50% crash
that trips every stop, and a 1:10 reverse split is not a tenfold breakout. Several splits
compound (each bar is divided by the product of the ratios of the splits after it). Volumes are
rounded to whole shares; prices stay floats (market data, not money).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from app.backtest.bars import BarTable
from app.domain.corporate_action import Split
from app.domain.market import Tick


def by_symbol(splits: Iterable[Split]) -> dict[str, list[Split]]:
    """Splits per symbol, oldest first."""
    grouped: dict[str, list[Split]] = {}
    for split in sorted(splits, key=lambda s: (s.symbol, s.effective_ns)):
        grouped.setdefault(split.symbol, []).append(split)
    return grouped


def factor_at(splits: Sequence[Split], ts_ns: int) -> float:
    """The product of the ratios of the splits effective after `ts_ns` (1.0: none)."""
    factor = 1.0
    for split in splits:
        if ts_ns < split.effective_ns:
            factor *= split.numerator / split.denominator
    return factor


def adjust_bars(table: BarTable, splits: Iterable[Split]) -> BarTable:
    """The bars with every split of their symbols applied to the bars before it."""
    grouped = by_symbol(splits)
    factors = np.ones(len(table))
    for symbol, mine in grouped.items():
        rows = table.symbol_rows(symbol)
        for split in mine:
            before = rows[table.ts[rows] < split.effective_ns]
            factors[before] *= split.numerator / split.denominator
    if (factors == 1.0).all():
        return table
    return table.with_prices(
        open_=table.open / factors,
        high=table.high / factors,
        low=table.low / factors,
        close=table.close / factors,
        volume=np.rint(table.volume * factors).astype(np.int64),
    )


def adjust_ticks(ticks: Sequence[Tick], splits: Mapping[str, Sequence[Split]]) -> list[Tick]:
    """The ticks restated the same way (price / factor, size * factor rounded)."""
    if not splits:
        return list(ticks)
    out: list[Tick] = []
    for tick in ticks:
        mine = splits.get(tick.symbol)
        factor = 1.0 if mine is None else factor_at(mine, tick.ts_ns)
        if factor == 1.0:
            out.append(tick)
        else:
            size = round(tick.size * factor)
            out.append(Tick(tick.symbol, tick.ts_ns, tick.price / factor, size, tick.seq))
    return out
