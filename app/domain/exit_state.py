"""What the exit engine remembers about an open lot, persisted so a restart resumes it."""

from __future__ import annotations

import msgspec


class ExitState(msgspec.Struct, frozen=True):
    """The best price since entry (the trailing stop's anchor) and how many targets were taken."""

    entry_order_id: str
    best_price: float
    targets_hit: int = 0
