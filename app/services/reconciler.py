"""Reconciliation with the venue, applied (S17): gather both books, decide with
app.engine.reconcile, and bring the ledger into line through the same path as execution reports.

A missing fill is previewed by the ExecutionEngine, booked by `Ledger.book_fill` (unique by
execution id, so a second run books nothing) and only then installed in memory, exactly as the
SignalConsumer books a reported fill. Statuses move through the order state machine. What cannot
be explained is halted (HaltKind.UNEXPLAINED, persisted and audited), logged as an error and
broadcast to the dashboard; it is never written into the book.

The caller serialises: the SignalConsumer runs this while it holds its lock, the CLI only while
it holds the execution lease.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Set
from dataclasses import dataclass, replace

import structlog

from app.bus.codec import encode
from app.bus.topics import UI_EVENTS
from app.domain.calendar import local_time_ns, trading_day
from app.domain.execution import ExecutionReport
from app.domain.order import OrderStatus
from app.engine.execution import ExecutionEngine, ReportOutcome
from app.engine.portfolio import FillEffect
from app.engine.reconcile import (
    Action,
    Difference,
    DiffKind,
    FillCeilings,
    LocalBook,
    VenueBook,
    compare_orders,
    compare_positions,
    fill_ceilings,
    next_fill,
    plan,
)
from app.ports.broker import Broker
from app.ports.bus import MessageBus
from app.ports.clock import Clock
from app.ports.ledger import Ledger, StaleOrderUpdateError
from app.ports.risk_state import Halt, HaltKind, RiskStateStore

log = structlog.get_logger()

OnFill = Callable[[FillEffect], Awaitable[None]]

# A position can differ for a moment because the venue filled between two reads; a difference
# is only taken as real when it is still there after the venue has been read again.
_PASSES = 2


@dataclass(frozen=True, slots=True, kw_only=True)
class ReconcileReport:
    """The differences found and, when applied, what was done about them (one line each)."""

    since_ns: int
    applied: bool
    differences: tuple[Difference, ...]
    actions: tuple[str, ...] = ()

    @property
    def actionable(self) -> tuple[Difference, ...]:
        """The differences that call for an action (a halt already in force does not)."""
        return tuple(d for d in self.differences if d.action is not Action.ALREADY_HALTED)


@dataclass(slots=True, kw_only=True)
class _Run:
    """One reconciliation's collaborators and what it has done so far."""

    engine: ExecutionEngine
    ledger: Ledger
    broker: Broker
    now_ns: int
    since_ns: int
    on_fill: OnFill | None
    actions: list[str]


class Reconciler:
    """Compares the ledger with the venue and applies what can be explained.

    It remembers the trading day of its last run: `due()` says when a new day needs one, and
    each run looks at the venue's orders from the start of the day of the previous run."""

    def __init__(self, *, store: RiskStateStore, actor: str, bus: MessageBus | None = None) -> None:
        self._store = store
        self._actor = actor
        self._bus = bus
        self._last_day: dt.date | None = None

    def due(self, now_ns: int) -> bool:
        """No reconciliation has run yet on the trading day of `now_ns`."""
        return self._last_day != trading_day(now_ns)

    async def run(
        self,
        *,
        engine: ExecutionEngine,
        ledger: Ledger,
        broker: Broker,
        clock: Clock,
        apply: bool = True,
        on_fill: OnFill | None = None,
        ceilings: FillCeilings | None = None,
    ) -> ReconcileReport:
        """Reconcile the engine's book (loaded from the ledger) with the venue.

        Without `apply` nothing is written: the report says what applying would do. `on_fill`
        runs after each fill is booked and installed (the consumer's risk and lot updates);
        `ceilings` receives the venue's cumulative quantities for the consumer's fill guard."""
        now = clock.now_ns()
        today = trading_day(now)
        since = local_time_ns(min(self._last_day or today, today), 0)
        run = _Run(
            engine=engine,
            ledger=ledger,
            broker=broker,
            now_ns=now,
            since_ns=since,
            on_fill=on_fill,
            actions=[],
        )
        if apply:
            report = await self._apply(run, ceilings)
        else:
            local, venue = await self._gather(run)
            report = ReconcileReport(
                since_ns=since, applied=False, differences=tuple(plan(local, venue))
            )
        self._last_day = today
        for diff in report.differences:
            if diff.unexplained:
                log.error(
                    "reconciliation_unexplained",
                    kind=diff.kind.value,
                    symbol=diff.symbol,
                    strategy=diff.strategy,
                    order=diff.client_order_id,
                    ledger=diff.local,
                    venue=diff.venue,
                    action=diff.action.value,
                )
        return report

    async def _apply(self, run: _Run, ceilings: FillCeilings | None) -> ReconcileReport:
        """Orders first (fills, then statuses), then positions against the book as booked. A
        position difference is read again once before it counts (see _PASSES); halts come
        last, once per difference, and are installed in the engine at once."""
        found: dict[tuple[DiffKind, str, str], Difference] = {}
        positions: list[Difference] = []
        for _ in range(_PASSES):
            local, venue = await self._gather(run)
            for diff in compare_orders(local, venue):
                left = await self._settle(run, diff, venue)
                if left is not None:
                    diff = _as_halted(left, local.halted)
                found.setdefault((diff.kind, diff.client_order_id, diff.symbol), diff)
            after = LocalBook(
                orders=run.engine.orders,
                lots=tuple(run.engine.portfolio.lots.values()),
                halted=local.halted,
            )
            positions = compare_positions(after, venue)
            if not positions:
                break
        if ceilings is not None:
            ceilings.reset(fill_ceilings(run.engine.orders.values(), venue))
        differences = (*found.values(), *positions)
        for diff in differences:
            if diff.action is Action.HALT:
                await self._halt(run, diff)
        if any(d.action is Action.HALT for d in differences):
            run.engine.risk_book.set_halts(await self._store.halts())
        return ReconcileReport(
            since_ns=run.since_ns,
            applied=True,
            differences=differences,
            actions=tuple(run.actions),
        )

    async def _gather(self, run: _Run) -> tuple[LocalBook, VenueBook]:
        """Both sides: the venue's orders of the period plus a lookup of every open order not
        among them, the ledger's copy of every venue order not open here, executions,
        positions, and the halts already in force for unexplained differences."""
        seen = {o.client_order_id: o for o in await run.broker.orders(since_ns=run.since_ns)}
        for coid in list(run.engine.orders):
            if coid not in seen and (found := await run.broker.order_by_client_id(coid)):
                seen[coid] = found
        orders = dict(run.engine.orders)
        for coid in sorted(seen.keys() - orders.keys()):
            stored = await run.ledger.get_order(coid)
            if stored is not None:
                orders[coid] = stored
        venue = VenueBook(
            orders=seen,
            positions=await run.broker.positions(),
            executions=await run.broker.fills(since_ns=run.since_ns),
        )
        halted = {h.scope for h in await self._store.halts() if h.kind is HaltKind.UNEXPLAINED}
        local = LocalBook(
            orders=orders,
            lots=tuple(run.engine.portfolio.lots.values()),
            halted=frozenset(halted),
        )
        return local, venue

    async def _settle(self, run: _Run, diff: Difference, venue: VenueBook) -> Difference | None:
        """Apply one explainable difference; returns what stands in for it when it could not
        be applied and turned out unexplained."""
        match diff.action:
            case Action.BOOK_FILL:
                return await self._book_missing(run, diff, venue)
            case Action.SET_STATUS if diff.target is not None:
                await self._set_status(run, diff.client_order_id, diff.target, diff.kind)
        return None

    async def _book_missing(
        self, run: _Run, diff: Difference, venue: VenueBook
    ) -> Difference | None:
        coid = diff.client_order_id
        seen = venue.orders[coid]
        tried: set[str] = set()
        errors: list[str] = []
        while (order := run.engine.orders.get(coid)) is not None:
            report = next_fill(
                order, seen, venue.executions_of(coid), tried=tried, now_ns=run.now_ns
            )
            if report is None or report.execution_id is None:
                break
            tried.add(report.execution_id)
            try:
                await self._book(run, report)
            except ValueError as exc:
                errors.append(str(exc))
        final = run.engine.orders.get(coid) or await run.ledger.get_order(coid)
        if final is not None and final.filled_qty == seen.filled_qty:
            return None
        booked = "nothing" if final is None else f"{final.filled_qty}"
        why = "; ".join(errors) or "the venue gave no executions or average price to book"
        return replace(
            diff,
            kind=DiffKind.ORDER_MISMATCH,
            local=f"booked {booked} ({why})",
            action=Action.HALT,
            qty=None,
            scopes=(diff.strategy,),
        )

    async def _book(self, run: _Run, report: ExecutionReport) -> None:
        """One fill through the consumer's path: preview, book (once by execution id), install."""
        effect = run.engine.on_report(report)
        if effect.outcome is not ReportOutcome.FILL or effect.fill_effect is None:
            return
        fx = effect.fill_effect
        try:
            booked = await run.ledger.book_fill(
                fx.fill, order=fx.order, lot=fx.lot, position=fx.position, trade=fx.trade
            )
        except StaleOrderUpdateError:
            await self._reload(run, report.client_order_id)
            return
        if not booked:
            run.engine.mark_seen(fx.fill.execution_id)
            return
        run.engine.commit_fill(fx)
        run.actions.append(
            f"booked {fx.fill.execution_id}: {fx.fill.side.value} {fx.fill.qty} "
            f"{fx.fill.symbol} @ {fx.fill.price} for {fx.order.strategy}"
        )
        log.info(
            "reconciliation_fill_booked",
            order=fx.order.client_order_id,
            execution=fx.fill.execution_id,
            qty=str(fx.fill.qty),
            price=str(fx.fill.price),
        )
        if run.on_fill is not None:
            await run.on_fill(fx)

    async def _set_status(self, run: _Run, coid: str, target: OrderStatus, kind: DiffKind) -> None:
        current = run.engine.orders.get(coid)
        if current is None or current.status is target or not current.can_transition(target):
            return
        updated = replace(current)
        reason = "not at the venue" if kind is DiffKind.NOT_AT_VENUE else "reconciled with venue"
        updated.transition(target, now_ns=run.now_ns, reason=reason)
        try:
            await run.ledger.update_order(updated)
        except StaleOrderUpdateError:
            await self._reload(run, coid)
            return
        run.engine.commit_order(updated)
        run.actions.append(f"{coid}: {current.status.value} -> {target.value} ({reason})")
        log.info("reconciliation_status_set", order=coid, status=target.value, reason=reason)

    async def _reload(self, run: _Run, coid: str) -> None:
        """The ledger holds a newer state than memory: adopt it, as the consumer does."""
        stored = await run.ledger.get_order(coid)
        log.warning("order_reloaded", order=coid, status=stored and stored.status)
        if stored is not None:
            run.engine.commit_order(stored)

    async def _halt(self, run: _Run, diff: Difference) -> None:
        for scope in diff.scopes:
            halt = Halt(
                scope=scope,
                kind=HaltKind.UNEXPLAINED,
                reason=diff.reason,
                since_ns=run.now_ns,
                actor=self._actor,
            )
            if not await self._store.halt(halt):
                continue
            run.actions.append(f"halted {scope}: {diff.reason}")
            if self._bus is not None:
                await self._bus.broadcast(UI_EVENTS, encode(halt))


def _as_halted(diff: Difference, halted: Set[str]) -> Difference:
    """A halt every scope of which is in force already calls for nothing more."""
    if diff.action is Action.HALT and all(scope in halted for scope in diff.scopes):
        return replace(diff, action=Action.ALREADY_HALTED)
    return diff
