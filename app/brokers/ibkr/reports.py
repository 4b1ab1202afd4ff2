"""Turning what ib_async sees into ExecutionReports, each at most once per process.

A fill is booked with its fee, so an execution waits until its commissionReport has arrived
(ib_async fills the report into the same Fill object, even when the execution came before the
order's acknowledgement and ib_async emits no event for it). Executions are unique by execId:
IB re-sending one, or a reconnect replaying the day's executions, books nothing twice. Status
reports are deduplicated per client order id: one ACCEPTED, one end. An execution IB reports
with an unusable number (not finite, not positive) is counted and logged, never booked.
"""

from __future__ import annotations

import structlog
from ib_async import Fill, Trade

from app.brokers.ibkr.lookup import reason, rejected
from app.brokers.ibkr.orders import ENDED, WORKING, side_of_action, side_of_execution
from app.brokers.ibkr.values import decimal_from, is_set, ns_from, price_from
from app.domain.execution import ExecutionReport, ReportKind
from app.domain.money import ZERO, to_cents

log = structlog.get_logger()


class ReportBook:
    def __init__(self) -> None:
        self._booked: set[str] = set()
        self._waiting: dict[str, Fill] = {}
        self._accepted: set[str] = set()
        self._ended: set[str] = set()
        self.quarantined = 0

    @property
    def waiting(self) -> int:
        """Executions held back until their commission report arrives."""
        return len(self._waiting)

    def fill_seen(self, fill: Fill) -> list[ExecutionReport]:
        exec_id = fill.execution.execId
        if not exec_id or exec_id in self._booked or not fill.execution.orderRef:
            return []
        if not fill.commissionReport.execId:
            self._waiting[exec_id] = fill
            return []
        self._waiting.pop(exec_id, None)
        self._booked.add(exec_id)
        try:
            return [_fill_report(fill)]
        except ValueError as exc:
            self.quarantined += 1
            log.error("ibkr_execution_quarantined", exec_id=exec_id, error=str(exc))
            return []

    def commissions_arrived(self) -> list[ExecutionReport]:
        """The held executions whose commission report has come in since."""
        ready = [f for f in self._waiting.values() if f.commissionReport.execId]
        return [report for fill in ready for report in self.fill_seen(fill)]

    def forget_waiting(self) -> None:
        """The connection went: held executions come back with the next synchronisation."""
        self._waiting.clear()

    def status_seen(self, trade: Trade, *, now_ns: int) -> list[ExecutionReport]:
        coid = trade.order.orderRef
        status = trade.orderStatus.status
        if not coid or coid in self._ended:
            return []
        if status in WORKING and coid not in self._accepted:
            self._accepted.add(coid)
            return [_status_report(ReportKind.ACCEPTED, trade, now_ns=now_ns)]
        if status in ENDED:
            self._ended.add(coid)
            if status == "Filled":
                return []
            refused = _refused(trade) and coid not in self._accepted
            kind = ReportKind.REJECTED if refused else ReportKind.CANCELED
            return [_status_report(kind, trade, now_ns=now_ns, why=reason(trade))]
        return []

    def replaced(self, old: Trade, *, old_coid: str, now_ns: int) -> list[ExecutionReport]:
        """An in-place modify moved the order from `old_coid` to the trade's current orderRef."""
        self._ended.add(old_coid)
        self._accepted.add(old.order.orderRef)
        return [
            _status_report(ReportKind.REPLACED, old, now_ns=now_ns, coid=old_coid),
            _status_report(ReportKind.ACCEPTED, old, now_ns=now_ns),
        ]


def _refused(trade: Trade) -> bool:
    return rejected(trade) or (trade.orderStatus.status == "Inactive" and not trade.fills)


def listed_fills(fills: list[Fill], *, since_ns: int) -> list[ExecutionReport]:
    """The executions at or after `since_ns` as FILL reports (the fee is zero while the
    commission report is still to come), skipping unusable ones; for reconciliation, which
    books by execution id, so a fill the stream already reported is not booked again."""
    listed: list[ExecutionReport] = []
    for fill in fills:
        if not fill.execution.execId or not fill.execution.orderRef:
            continue
        try:
            report = _fill_report(fill)
        except ValueError:
            continue
        if report.ts_ns >= since_ns:
            listed.append(report)
    return sorted(listed, key=lambda report: report.ts_ns)


def _fill_report(fill: Fill) -> ExecutionReport:
    execution = fill.execution
    commission = fill.commissionReport.commission
    fee = to_cents(decimal_from(commission)) if is_set(commission) else ZERO
    return ExecutionReport(
        kind=ReportKind.FILL,
        client_order_id=execution.orderRef,
        symbol=fill.contract.symbol,
        side=side_of_execution(execution.side),
        ts_ns=ns_from(execution.time),
        broker_order_id=str(execution.permId) if execution.permId else "",
        execution_id=execution.execId,
        last_qty=decimal_from(execution.shares),
        last_price=price_from(execution.price),
        fee=fee,
    )


def _status_report(
    kind: ReportKind, trade: Trade, *, now_ns: int, why: str = "", coid: str | None = None
) -> ExecutionReport:
    perm_id = trade.order.permId or trade.orderStatus.permId
    return ExecutionReport(
        kind=kind,
        client_order_id=coid if coid is not None else trade.order.orderRef,
        symbol=trade.contract.symbol,
        side=side_of_action(trade.order.action),
        ts_ns=now_ns,
        broker_order_id=str(perm_id) if perm_id else "",
        reason=why,
    )
