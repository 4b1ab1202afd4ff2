"""The simulated venue's outgoing execution reports, with the fault knobs that disorder them."""

from __future__ import annotations

from app.brokers.sim.working_order import WorkingOrder
from app.domain.execution import ExecutionReport, Fill, ReportKind


class ReportOutbox:
    """Reports in emission order until drained.

    fill_before_ack holds an order's ACCEPTED report back until its next report: a first fill
    comes out before the ack, any other report right after it. duplicate_fill_reports emits
    every FILL report twice with the same execution id, as a venue replaying a fill.
    """

    def __init__(self, *, fill_before_ack: bool, duplicate_fill_reports: bool) -> None:
        self._fill_before_ack = fill_before_ack
        self._duplicate_fills = duplicate_fill_reports
        self._reports: list[ExecutionReport] = []

    def went_live(self, working: WorkingOrder) -> None:
        if self._fill_before_ack:
            working.ack_pending = True
        else:
            self._reports.append(working.report(ReportKind.ACCEPTED, ts_ns=working.live_ns))

    def emit(
        self,
        working: WorkingOrder,
        kind: ReportKind,
        *,
        ts_ns: int,
        reason: str = "",
        execution: Fill | None = None,
    ) -> None:
        report = working.report(kind, ts_ns=ts_ns, reason=reason, execution=execution)
        held_ack = None
        if working.ack_pending:
            working.ack_pending = False
            held_ack = working.report(ReportKind.ACCEPTED, ts_ns=working.live_ns)
        if held_ack is not None and kind is not ReportKind.FILL:
            self._reports.append(held_ack)
        self._reports.append(report)
        if kind is ReportKind.FILL and self._duplicate_fills:
            self._reports.append(report)
        if held_ack is not None and kind is ReportKind.FILL:
            self._reports.append(held_ack)

    def drain(self) -> list[ExecutionReport]:
        reports, self._reports = self._reports, []
        return reports
