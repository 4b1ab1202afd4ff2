"""Signals in -> decision and order intent committed -> broker; broker reports -> booked fills.

Every change to an order or the book is computed by the pure ExecutionEngine on copies,
persisted, and only then installed in memory, under one lock so the submit path and the report
path never interleave a read-modify-write of the same order.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TypeAlias

import structlog

from app.arbitration import Verdict
from app.bus.codec import encode
from app.bus.topics import LOTS, SIGNALS
from app.domain.decision import Decision
from app.domain.execution import ExecutionReport
from app.domain.order import Order, OrderStatus
from app.domain.position import LotUpdate
from app.domain.signal import Signal
from app.engine.execution import ExecutionEngine, ReportOutcome
from app.engine.portfolio import FillEffect
from app.engine.reconcile import FillCeilings
from app.observability import metrics
from app.ports.broker import (
    Broker,
    BrokerError,
    BrokerOrder,
    BrokerUnavailable,
    OrderRejected,
    TransientBrokerError,
)
from app.ports.bus import MessageBus
from app.ports.clock import Clock
from app.ports.lease import ExecutionLease
from app.ports.ledger import Ledger, StaleOrderUpdateError
from app.ports.risk_state import BreakerState
from app.risk.breaker import CLOSED, OPEN
from app.services.consumer import consume_stream
from app.services.lease_holder import LEASE_RECHECK_S, LEASE_TTL_MS, LeaseHolder
from app.services.reconciler import Reconciler
from app.services.risk_keeper import RiskKeeper

log = structlog.get_logger()

Decided: TypeAlias = tuple[Signal, Decision, Order | None]

GROUP = "execution"
_NOT_YET_AT_VENUE = frozenset({OrderStatus.PENDING_NEW, OrderStatus.SUBMITTED, OrderStatus.UNKNOWN})
_SYNCABLE = frozenset(
    {OrderStatus.ACCEPTED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)
RECOVERY_RETRY_BASE_S = 0.5
RECOVERY_RETRY_CAP_S = 5.0
_CANCELS_REMEMBERED = 1_024  # past this, ids of orders that have ended are dropped


class SignalConsumer:
    name = "signal_consumer"

    def __init__(
        self,
        *,
        engine: ExecutionEngine,
        ledger: Ledger,
        broker: Broker,
        bus: MessageBus,
        clock: Clock,
        lease: ExecutionLease,
        keeper: RiskKeeper,
        consumer: str,
        lease_ttl_ms: int = LEASE_TTL_MS,
        lease_recheck_s: float = LEASE_RECHECK_S,
        submit_timeout_s: float = 5.0,
        settle_s: float = 1.0,
        resolve_every_s: float | None = 1.0,
        window_poll_s: float = 0.02,
        reconciler: Reconciler | None = None,
    ) -> None:
        self.engine = engine
        self._ledger = ledger
        self._broker = broker
        self._bus = bus
        self._clock = clock
        self._consumer = consumer
        self._lease = LeaseHolder(
            lease, holder=consumer, ttl_ms=lease_ttl_ms, recheck_s=lease_recheck_s
        )
        self._keeper = keeper
        self._submit_timeout_s = submit_timeout_s
        self._settle_s = settle_s
        self._resolve_every_s = resolve_every_s
        self._window_poll_s = window_poll_s
        self._lock = asyncio.Lock()
        self._stopping = asyncio.Event()
        self.ready = asyncio.Event()
        self.decisions = 0
        self._cancel_sent: set[str] = set()
        self._reconciler = reconciler
        self._fill_ceilings = FillCeilings()
        self._reconcile_requested = False

    def consumer_groups(self) -> list[tuple[str, str]]:
        return [(SIGNALS, GROUP)]

    def request_stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        if not await self._lease.acquire(self._stopping):
            return
        try:
            await self._serve()
        finally:
            await self._lease.release()

    async def _serve(self) -> None:
        await self._keeper.load()
        async with asyncio.TaskGroup() as tasks:
            lease = tasks.create_task(self._lease.keep())
            if not await self._recover_when_venue_answers():
                lease.cancel()
                return
            self.ready.set()
            reports = tasks.create_task(self._reports_loop())
            chores = [reports, lease]
            if self._resolve_every_s is not None:
                chores.append(tasks.create_task(self._resolve_loop(self._resolve_every_s)))
                chores.append(tasks.create_task(self._keeper.run()))
            await consume_stream(
                self._bus,
                topic=SIGNALS,
                group=GROUP,
                consumer=self._consumer,
                kind=Signal,
                handle=self._on_signals,
                stopping=self._stopping,
                count=50,
            )
            await self._settle()
            for task in chores:
                task.cancel()

    # startup -------------------------------------------------------------------------------
    async def _recover_when_venue_answers(self) -> bool:
        """Trading waits for one whole recovery against the venue. A venue that cannot be read
        yet (still connecting, or its connection dropped half-way) is asked again with backoff,
        the lease kept meanwhile; False when a stop is requested first."""
        delay = RECOVERY_RETRY_BASE_S
        while True:
            try:
                await self._recover()
                return True
            except BrokerError as exc:
                log.warning("recovery_deferred", error=repr(exc), retry_in_s=delay)
            try:
                await asyncio.wait_for(self._stopping.wait(), delay)
            except TimeoutError:
                delay = min(RECOVERY_RETRY_CAP_S, delay * 2)
                continue
            return False

    async def _recover(self) -> None:
        """Reload the book, then make every open order agree with the venue before trading."""
        open_orders = await self._ledger.open_orders()
        self.engine.portfolio.load(
            lots=await self._ledger.open_lots(), positions=await self._ledger.positions()
        )
        self.engine.load(open_orders)
        await self._reconcile_with_venue()
        for order in open_orders:
            await self._reconcile(
                order, await self._broker.order_by_client_id(order.client_order_id)
            )
        log.info(
            "execution_recovered",
            open_orders=len(open_orders),
            open_lots=sum(1 for lot in self.engine.portfolio.lots.values() if lot.qty_open > 0),
        )

    async def _reconcile(self, order: Order, seen: BrokerOrder | None) -> None:
        """A leg is never sent on its own: not at the venue, it is gone with its entry."""
        now = self._clock.now_ns()
        if seen is None and order.is_leg:
            await self._set_status(order.client_order_id, OrderStatus.CANCELED, "no leg at venue")
            return
        if seen is not None:
            if seen.status in _SYNCABLE:
                await self._set_status(order.client_order_id, seen.status, "reconciled with venue")
            return
        if order.status in _NOT_YET_AT_VENUE and (order.expires_ns or 0) > now:
            await self._submit(order)
            return
        final = OrderStatus.EXPIRED if order.status in _NOT_YET_AT_VENUE else OrderStatus.CANCELED
        await self._set_status(order.client_order_id, final, "not at the venue on recovery")

    # signals -------------------------------------------------------------------------------
    async def _on_signals(self, signals: list[Signal]) -> None:
        """Arbitrate, then act on the verdicts. Entries held for an arbitration window are
        resolved before this returns, so the batch is acknowledged only once every signal in it
        has its recorded decision."""
        taken_at = time.perf_counter()
        await self._act_on(
            lambda now: self.engine.arbitrate(signals, now_ns=now), taken_at=taken_at
        )
        while self.engine.arbiter.waiting:
            await asyncio.sleep(self._window_poll_s)
            await self._act_on(self.engine.arbitration_due, taken_at=taken_at)

    async def _act_on(self, due: Callable[[int], list[Verdict]], *, taken_at: float) -> None:
        """Take the verdicts due, decide them together and commit the decisions in one
        transaction, all under one hold of the lock; then send the approved orders."""
        async with self._lock:
            orders, rest = await self._decide_run(due(self._clock.now_ns()))
        await self._send_all(orders, taken_at=taken_at)
        while rest:
            async with self._lock:
                orders, rest = await self._decide_run(rest)
            await self._send_all(orders, taken_at=taken_at)

    async def _decide_run(self, verdicts: list[Verdict]) -> tuple[list[Order], list[Verdict]]:
        """Decide verdicts in order, each seeing the orders approved before it, and commit the
        decisions in one transaction; returns the approved orders and the verdicts left over.
        The lease is verified first, so an executor that has been fenced off records nothing.

        The run stops after an order approved on a breaker probe: the verdicts after it are
        decided once the venue has answered it, as when each verdict was decided and sent
        alone. When the ledger finds a signal already decided (a redelivery) it writes
        nothing; the run is undone and the new signals decided again without it, so no
        recorded decision was made beside an order that never existed."""
        if not verdicts:
            return [], []
        await self._lease.check()
        pending = verdicts
        while pending:
            breaker = self._keeper.breaker.state
            run = self._decide_tentatively(pending)
            try:
                fresh = await self._ledger.record_decisions(run)
            except BaseException:
                self._undo(run, breaker)
                raise
            if all(fresh):
                return self._install(run), pending[len(run) :]
            self._undo(run, breaker)
            for (signal, _, _), new in zip(run, fresh, strict=True):
                if not new:
                    self.decisions += 1
                    log.info("signal_already_decided", key=signal.dedup_key)
            kept = [verdict for verdict, new in zip(pending, fresh, strict=False) if new]
            pending = kept + pending[len(run) :]
        return [], []

    def _decide_tentatively(self, verdicts: list[Verdict]) -> list[Decided]:
        """Each approved order is tracked at once, so the next decision counts it; `_undo`
        takes it back if the ledger refuses the run."""
        now = self._clock.now_ns()
        run: list[Decided] = []
        for verdict in verdicts:
            if not verdict.chosen or self._keeper.breaker.allow(now):
                decision, order = self.engine.decide_verdict(verdict, now_ns=now)
            else:
                decision, order = Decision(False, "broker failure breaker is open"), None
            run.append((verdict.signal, decision, order))
            if order is not None:
                self.engine.track(order)
                if self._keeper.breaker.state.state != CLOSED:
                    break
        return run

    def _undo(self, run: list[Decided], breaker: BreakerState) -> None:
        for _, _, order in run:
            if order is not None:
                self.engine.forget(order)
        self._keeper.breaker.state = breaker

    def _install(self, run: list[Decided]) -> list[Order]:
        orders: list[Order] = []
        for signal, decision, order in run:
            self.decisions += 1
            metrics.DECISIONS.labels(outcome="approved" if decision.approved else "rejected").inc()
            if order is None:
                log.info(
                    "signal_rejected",
                    strategy=signal.strategy,
                    symbol=signal.symbol,
                    reason=decision.reason,
                )
            else:
                orders.append(order)
        return orders

    async def _send_all(self, orders: list[Order], *, taken_at: float) -> None:
        """Send the orders one after another, then book the venue's answers, so no send waits
        for another order's bookkeeping. Failures that open the breaker on the way hold back
        the orders not yet sent: decided one at a time, they would have been refused."""
        answers: list[tuple[Order, OrderStatus, str]] = []
        for order in orders:
            if self._keeper.breaker.state.state == OPEN:
                log.warning("order_withheld", order=order.client_order_id)
                answers.append((order, OrderStatus.REJECTED, "not sent: broker breaker opened"))
                continue
            failure = await self._venue_submit(order)
            metrics.SIGNAL_TO_SUBMIT.observe(time.perf_counter() - taken_at)
            answers.append((order, *await self._answered(order, failure)))
        for order, status, reason in answers:
            await self._set_status(order.client_order_id, status, reason)

    async def _submit(self, order: Order) -> None:
        failure = await self._venue_submit(order)
        status, reason = await self._answered(order, failure)
        await self._set_status(order.client_order_id, status, reason)

    async def _venue_submit(self, order: Order) -> BrokerError | TimeoutError | None:
        """Send one order under a lease verified at most `lease_recheck_s` ago; the broker's
        failure, if any, is returned for `_answered`."""
        await self._lease.recheck()
        try:
            await asyncio.wait_for(self._broker.submit(order), self._submit_timeout_s)
        except (OrderRejected, TransientBrokerError, BrokerUnavailable, TimeoutError) as exc:
            return exc
        return None

    async def _answered(
        self, order: Order, failure: BrokerError | TimeoutError | None
    ) -> tuple[OrderStatus, str]:
        """Count the venue's answer and feed it to the breaker; the status it gives the order."""
        if failure is None:
            metrics.ORDERS_SUBMITTED.inc()
            await self._keeper.record_submit(ok=True)
            return OrderStatus.SUBMITTED, ""
        if isinstance(failure, OrderRejected):
            metrics.ORDER_SUBMIT_ERRORS.labels(kind="rejected").inc()
            await self._keeper.record_submit(ok=True)
            return OrderStatus.REJECTED, str(failure)
        metrics.ORDER_SUBMIT_ERRORS.labels(kind="unknown").inc()
        log.warning("order_submit_ambiguous", order=order.client_order_id, error=repr(failure))
        await self._keeper.record_submit(ok=False)
        return OrderStatus.UNKNOWN, repr(failure)

    async def _set_status(
        self, client_order_id: str, status: OrderStatus, reason: str = ""
    ) -> None:
        async with self._lock:
            current = self.engine.orders.get(client_order_id)
            if current is None or current.status is status or not current.can_transition(status):
                return
            updated = replace(current)
            updated.transition(status, now_ns=self._clock.now_ns(), reason=reason)
            try:
                await self._ledger.update_order(updated)
            except StaleOrderUpdateError:
                await self._reload(client_order_id)
                return
            self.engine.commit_order(updated)

    async def _reload(self, client_order_id: str) -> None:
        """The ledger holds a newer state than memory (another writer got there first): adopt it."""
        stored = await self._ledger.get_order(client_order_id)
        log.warning("order_reloaded", order=client_order_id, status=stored and stored.status)
        if stored is not None:
            self.engine.commit_order(stored)

    # reports -------------------------------------------------------------------------------
    async def _reports_loop(self) -> None:
        async for report in self._broker.reports():
            await self._on_report(report)

    async def _on_report(self, report: ExecutionReport) -> None:
        async with self._lock:
            try:
                await self._apply_report(report)
            except StaleOrderUpdateError:
                await self._reload(report.client_order_id)
                await self._apply_report(report)

    async def _apply_report(self, report: ExecutionReport) -> None:
        refusal = self._fill_ceilings.refusal(
            self.engine.orders.get(report.client_order_id), report
        )
        if refusal is not None:
            log.warning(
                "fill_refused",
                order=report.client_order_id,
                execution=report.execution_id,
                reason=refusal,
            )
            self.request_reconcile()
            return
        effect = self.engine.on_report(report)
        match effect.outcome:
            case ReportOutcome.FILL:
                assert effect.fill_effect is not None
                fx = effect.fill_effect
                booked = await self._ledger.book_fill(
                    fx.fill, order=fx.order, lot=fx.lot, position=fx.position, trade=fx.trade
                )
                if not booked:
                    self.engine.mark_seen(fx.fill.execution_id)
                    metrics.FILLS_DUPLICATE.inc()
                    return
                self.engine.commit_fill(fx)
                await self._after_booked(fx)
            case ReportOutcome.ORDER_UPDATED:
                assert effect.order is not None
                await self._ledger.update_order(effect.order)
                self.engine.commit_order(effect.order)
            case ReportOutcome.DUPLICATE_FILL:
                metrics.FILLS_DUPLICATE.inc()
            case ReportOutcome.UNKNOWN_ORDER:
                log.warning(
                    "report_for_unknown_order", order=report.client_order_id, kind=report.kind.value
                )
            case ReportOutcome.IGNORED:
                pass

    async def _after_booked(self, fx: FillEffect) -> None:
        """What follows a booked fill, reported or found by reconciliation: risk state,
        metrics, and the lot for the shards' exit monitors."""
        await self._keeper.after_fill(fx)
        metrics.FILLS_BOOKED.inc()
        metrics.REALIZED_PNL.set(float(self.engine.portfolio.realized()))
        metrics.OPEN_POSITIONS.set(self.engine.portfolio.open_position_count())
        working = self.engine.exit_working(fx.lot.entry_order_id)
        await self._bus.publish(LOTS, encode(LotUpdate(fx.lot, exit_working=working)))

    # reconciliation with the venue (S17) -------------------------------------------------------
    def request_reconcile(self) -> None:
        """A stream gap or a reconnect may have lost reports: reconcile at the next housekeeping."""
        self._reconcile_requested = True

    async def _reconcile_if_due(self) -> None:
        """Once per trading day, and when requested. A venue that cannot be reached now is
        tried again at the next housekeeping."""
        if self._reconciler is None:
            return
        if not (self._reconcile_requested or self._reconciler.due(self._clock.now_ns())):
            return
        try:
            await self._reconcile_with_venue()
        except BrokerError as exc:
            self._reconcile_requested = True
            log.warning("reconciliation_deferred", error=repr(exc))

    async def _reconcile_with_venue(self) -> None:
        """Bring the book into line with the venue, holding the lock so no report or decision
        interleaves; unexplained differences halt (see app.services.reconciler)."""
        if self._reconciler is None:
            return
        self._reconcile_requested = False
        async with self._lock:
            report = await self._reconciler.run(
                engine=self.engine,
                ledger=self._ledger,
                broker=self._broker,
                clock=self._clock,
                on_fill=self._after_booked,
                ceilings=self._fill_ceilings,
            )
        log.info(
            "reconciled",
            differences=[d.reason for d in report.differences],
            actions=list(report.actions),
        )

    # ambiguity -----------------------------------------------------------------------------
    async def _resolve_loop(self, every_s: float) -> None:
        while True:
            await asyncio.sleep(every_s)
            await self.housekeep()

    async def housekeep(self) -> None:
        """The periodic order duties, run by the loop, or by a lockstep driver at each data
        step when `resolve_every_s` is None: resolve UNKNOWN orders, cancel stale entries.

        An UNKNOWN order is resolved by looking it up at the venue, never by resubmitting."""
        await self._reconcile_if_due()
        unknown = [o for o in self.engine.orders.values() if o.status is OrderStatus.UNKNOWN]
        for order in unknown:
            try:
                seen = await self._broker.order_by_client_id(order.client_order_id)
            except BrokerError as exc:
                log.warning("order_lookup_failed", order=order.client_order_id, error=repr(exc))
                continue  # still unknown: looked up again on the next round
            if seen is not None:
                target = OrderStatus.ACCEPTED if seen.status not in _SYNCABLE else seen.status
                await self._set_status(order.client_order_id, target, "resolved by lookup")
            elif (order.expires_ns or 0) <= self._clock.now_ns():
                await self._set_status(
                    order.client_order_id, OrderStatus.EXPIRED, "never reached the venue"
                )
        await self._send_cancels()

    async def risk_step(self) -> None:
        """The risk keeper's periodic poll, for a lockstep driver (the loop runs it otherwise)."""
        await self._keeper.step()

    async def _send_cancels(self) -> None:
        """The cancels the engine wants (stale entries, bracket legs in the way), each sent
        once. A leg the venue ended meanwhile refuses the cancel; its report says why."""
        due = self.engine.cancels_due(self._clock.now_ns())
        if len(self._cancel_sent) > _CANCELS_REMEMBERED:
            self._cancel_sent.intersection_update(self.engine.orders)  # the rest have ended
        for order in due:
            if order.client_order_id in self._cancel_sent:
                continue
            self._cancel_sent.add(order.client_order_id)
            try:
                await self._broker.cancel(order.client_order_id)
            except OrderRejected as exc:  # it ended first (a fill racing a TTL): no fault
                log.info("cancel_refused", order=order.client_order_id, reason=str(exc))
            except BrokerError as exc:
                log.warning("cancel_failed", order=order.client_order_id, error=repr(exc))
            else:
                log.info("order_cancel_sent", order=order.client_order_id, purpose=order.purpose)

    async def _settle(self) -> None:
        """On stop, give orders in flight a moment to be acknowledged; the rest stay persisted."""
        deadline = asyncio.get_running_loop().time() + self._settle_s
        while asyncio.get_running_loop().time() < deadline:
            if not any(
                o.status in _NOT_YET_AT_VENUE and not o.is_leg for o in self.engine.orders.values()
            ):
                return
            await asyncio.sleep(0.05)
