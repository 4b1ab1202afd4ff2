"""Gap markers: a stretch of time in which the IB streams may have missed something."""

from __future__ import annotations

import enum

import msgspec


class GapReason(enum.StrEnum):
    RECONNECTED = "reconnected"
    DATA_LOST = "connectivity_restored_data_lost"
    DATA_MAINTAINED = "connectivity_restored_data_maintained"


class StreamGap(msgspec.Struct, frozen=True):
    """Between from_ns and to_ns (Clock time) market data and order events may be missing;
    whoever receives one reconciles orders and positions with the venue."""

    from_ns: int
    to_ns: int
    reason: GapReason
