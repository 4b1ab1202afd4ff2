"""What venues report back: execution reports and fills."""

from __future__ import annotations

import enum
from decimal import Decimal

import msgspec

from app.domain.money import ZERO
from app.domain.signal import Side


class ReportKind(enum.StrEnum):
    ACCEPTED = "accepted"
    FILL = "fill"
    CANCELED = "canceled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    REPLACED = "replaced"


class ExecutionReport(msgspec.Struct, frozen=True):
    """One event about one order, as a venue reports it. FILL carries one execution."""

    kind: ReportKind
    client_order_id: str
    symbol: str
    side: Side
    ts_ns: int
    broker_order_id: str = ""
    execution_id: str | None = None
    last_qty: Decimal | None = None
    last_price: Decimal | None = None
    fee: Decimal = ZERO
    reason: str = ""


class Fill(msgspec.Struct, frozen=True):
    """One execution, unique by the broker's execution id."""

    execution_id: str
    client_order_id: str
    symbol: str
    side: Side
    qty: Decimal
    price: Decimal
    ts_ns: int
    fee: Decimal = ZERO

    @classmethod
    def from_report(cls, report: ExecutionReport) -> Fill:
        if report.kind is not ReportKind.FILL:
            raise ValueError(f"not a fill report: {report.kind}")
        if report.execution_id is None or report.last_qty is None or report.last_price is None:
            raise ValueError(f"fill report without execution: {report.client_order_id}")
        return cls(
            execution_id=report.execution_id,
            client_order_id=report.client_order_id,
            symbol=report.symbol,
            side=report.side,
            qty=report.last_qty,
            price=report.last_price,
            ts_ns=report.ts_ns,
            fee=report.fee,
        )
