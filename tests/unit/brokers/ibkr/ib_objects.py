"""ib_async's own objects, built the way its decoder would leave them."""

from __future__ import annotations

from datetime import UTC, datetime

from ib_async import CommissionReport, Execution, Fill, Stock, Trade, TradeLogEntry
from ib_async import Order as IbOrder
from ib_async import OrderStatus as IbOrderStatus

EXEC_TIME = datetime(2026, 11, 20, 14, 30, 5, 250_000, tzinfo=UTC)
EXEC_TIME_NS = 1_795_185_005_250_000_000


def ib_trade(
    ref: str,
    *,
    status: str = "Submitted",
    perm_id: int = 9001,
    filled: float = 0.0,
    total: float = 100.0,
    errors: tuple[int, ...] = (),
) -> Trade:
    log = [TradeLogEntry(EXEC_TIME, status, f"error {code}", code) for code in errors]
    return Trade(
        contract=Stock("ABC", "SMART", "USD"),
        order=IbOrder(
            orderId=3,
            clientId=7,
            permId=perm_id,
            action="BUY",
            totalQuantity=total,
            orderType="LMT",
            orderRef=ref,
        ),
        orderStatus=IbOrderStatus(orderId=3, status=status, filled=filled, permId=perm_id),
        fills=[],
        log=log,
    )


def ib_fill(
    exec_id: str,
    ref: str,
    *,
    shares: float = 100.0,
    price: float = 10.0,
    perm_id: int = 9001,
    commission: float | None = 1.25,
) -> Fill:
    execution = Execution(
        execId=exec_id,
        time=EXEC_TIME,
        side="BOT",
        shares=shares,
        price=price,
        permId=perm_id,
        orderRef=ref,
    )
    report = (
        CommissionReport() if commission is None else CommissionReport(exec_id, commission, "USD")
    )
    return Fill(Stock("ABC", "SMART", "USD"), execution, report, EXEC_TIME)
