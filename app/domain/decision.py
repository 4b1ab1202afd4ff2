"""The written outcome of a signal: approved with an order, or rejected with a reason."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from app.domain.signal import Signal


class Decision(msgspec.Struct, frozen=True):
    """What execution decided about one signal and why; persisted with the signal."""

    approved: bool
    reason: str
    client_order_id: str | None = None
    qty: Decimal | None = None
    checks: dict[str, str] = {}


class SignalRecord(msgspec.Struct, frozen=True):
    """A recorded signal with its decision: the audit that explains a trade later (what fired,
    the indicators then, what the arbiter chose and why, what risk said)."""

    signal: Signal
    decision: Decision
