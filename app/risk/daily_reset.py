"""The daily reset: once per New York trading day, from the pre-market open (04:00), on any host.

Which day is due is pure (`reset_due`); doing it (`run_daily_reset`) claims the day in the risk
state store first, so of any number of concurrent or restarted callers exactly one resets it.
The reset starts the day's counters and nothing else: halts, breakers, loss streaks and the P&L
high-water mark survive it; only an audited resume clears a halt.
"""

from __future__ import annotations

import datetime as dt

from app.domain.calendar import is_trading_day, local_time_ns, trading_day
from app.ports.risk_state import RiskStateStore

# The calendar's PRE session opens at 04:00 New York time; the day's risk numbers start there.
RESET_HOUR = 4


def reset_due(last_reset_day: str | None, now_ns: int) -> str | None:
    """The trading day (YYYY-MM-DD) to reset for at `now_ns`, or None when no reset is due.

    A reset is due from 04:00 New York time (DST-aware) on a trading day until it is done;
    never on weekends or holidays. `last_reset_day` is the latest day already reset (None when
    unknown, else YYYY-MM-DD); a reset recorded for this day or a later one means there is
    nothing to do.
    """
    day = trading_day(now_ns)
    if not is_trading_day(day) or now_ns < local_time_ns(day, RESET_HOUR):
        return None
    if last_reset_day is not None and dt.date.fromisoformat(last_reset_day) >= day:
        return None
    return day.isoformat()


async def run_daily_reset(store: RiskStateStore, *, now_ns: int, actor: str) -> bool:
    """Reset the day due at `now_ns` if no one has; True when this call did it.

    Counters are keyed by trading day, so a new day starts at zero by having no rows yet: the
    claim (audited, unique per day) is the whole reset, and a crash right after it leaves the
    day correctly reset.
    """
    due = reset_due(None, now_ns)
    return due is not None and await store.claim_daily_reset(due, actor=actor, now_ns=now_ns)
