"""Which trading session a bar belongs to, from the MinutesSinceOpen indicator.

Strategies that keep per-session state (the high of day, the opening range, the prior close)
must notice a new New York date without reading a clock or a calendar. The bar start less its
minutes since the open is that date's 09:30 in ns: one number per date, pre-market included,
however irregular the symbol's bars are.
"""

from __future__ import annotations

from app.domain.market import Bar
from app.indicators.trading_day import NS_PER_MINUTE


def session_key(bar: Bar, minutes_since_open: float) -> int:
    return bar.ts_ns - round(minutes_since_open * NS_PER_MINUTE)
