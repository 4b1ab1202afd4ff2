"""ExecutionEngine: signal -> risk -> sized order intent; reports -> order updates and fills.

Pure and synchronous. The async ExecutionService around it persists every effect before it is
installed here (`commit_*`), and talks to the broker.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import StrEnum

from msgspec.structs import replace as replace_struct

from app.arbitration import Arbiter, Holdings, Verdict
from app.domain.bracket import legs_of
from app.domain.decision import Decision
from app.domain.execution import ExecutionReport, Fill, ReportKind
from app.domain.ids import client_order_id_for
from app.domain.money import ZERO, InvalidPrice, price_from_float, to_tick
from app.domain.order import Order, OrderStatus, OrderType
from app.domain.signal import Side, Signal, SignalKind
from app.engine.book_view import BookView
from app.engine.portfolio import FillEffect, Portfolio
from app.risk.book import RiskBook
from app.risk.chain import RiskChain
from app.risk.intent import OrderIntent
from app.risk.sizing import FixedFractionalSizer

_STATUS_OF: dict[ReportKind, OrderStatus] = {
    ReportKind.ACCEPTED: OrderStatus.ACCEPTED,
    ReportKind.CANCELED: OrderStatus.CANCELED,
    ReportKind.REJECTED: OrderStatus.REJECTED,
    ReportKind.EXPIRED: OrderStatus.EXPIRED,
    ReportKind.REPLACED: OrderStatus.REPLACED,
}


class ReportOutcome(StrEnum):
    ORDER_UPDATED = "order_updated"
    FILL = "fill"
    DUPLICATE_FILL = "duplicate_fill"
    UNKNOWN_ORDER = "unknown_order"
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class ReportEffect:
    outcome: ReportOutcome
    order: Order | None = None
    fill_effect: FillEffect | None = None


# Exits the venue's bracket legs already stand for; any other exit cancels the legs first.
_LEG_REASONS = frozenset({"stop", "trailing_stop", "target"})


class ExecutionEngine:
    """Entries go out as marketable limit orders: the limit is the decision price moved by a
    collar (`entry_collar_bps`) towards the market, so what an entry can cost is known, to the
    cent, when it is approved, and that is what it reserves against the limits. Exits are
    market orders: getting out matters more than the price.

    A strategy whose policy carries a bracket sends each entry with its exit legs, which the
    venue holds (app.domain.bracket); they are tracked with the entry. What this engine wants
    cancelled at the venue (stale entries, legs in the way of an exit, legs left by an entry
    that ended unfilled or part-filled) is listed by `cancels_due`, for the caller to send."""

    def __init__(
        self,
        *,
        portfolio: Portfolio,
        sizer: FixedFractionalSizer,
        risk: RiskChain,
        risk_book: RiskBook,
        order_ttl_ns: int,
        entry_collar_bps: Decimal = Decimal("50"),
        arbiter: Arbiter | None = None,
    ) -> None:
        self.portfolio = portfolio
        self.arbiter = arbiter or Arbiter()
        self.risk_book = risk_book
        self._sizer = sizer
        self._risk = risk
        self._order_ttl_ns = order_ttl_ns
        self._collar = entry_collar_bps / Decimal(10_000)
        self.orders: dict[str, Order] = {}
        self._reserved: dict[str, Decimal] = {}
        self._seen_executions: set[str] = set()
        self._leg_cancels: set[str] = set()
        self.view = BookView(
            portfolio=portfolio,
            risk=risk_book,
            working=self.orders.values,
            reserved=self._reserved,
        )
        self._holdings = Holdings(self._holders, self._held_symbols)

    def load(self, open_orders: list[Order]) -> None:
        """Install the ledger's open orders, after the portfolio's lots. A leg whose entry has
        ended is kept only while it guards the whole of its lot; otherwise it is cancelled."""
        for order in open_orders:
            self.orders[order.client_order_id] = order
            if order.is_entry:
                self._reserved[order.client_order_id] = _reservation_price(order)
        for order in open_orders:
            if order.parent is None or order.parent in self.orders:
                continue
            lot = self.portfolio.lots.get(order.parent)
            if lot is None or lot.qty_open != order.remaining:
                self._leg_cancels.add(order.client_order_id)

    # signals -------------------------------------------------------------------------------
    def arbitrate(self, signals: Sequence[Signal], *, now_ns: int) -> list[Verdict]:
        """The arbiter's verdicts that are final now (the rest wait for their window)."""
        return self.arbiter.offer(signals, now_ns=now_ns, holdings=self._holdings)

    def arbitration_due(self, now_ns: int) -> list[Verdict]:
        return self.arbiter.due(now_ns, holdings=self._holdings)

    def decide_verdict(self, verdict: Verdict, *, now_ns: int) -> tuple[Decision, Order | None]:
        """Risk and sizing for a chosen signal; a refused one is recorded with its reason.
        Either way the decision carries the arbiter's audit."""
        if not verdict.chosen:
            return Decision(False, verdict.reason, checks=verdict.audit), None
        decision, order = self.decide(verdict.signal, now_ns=now_ns)
        return replace_struct(decision, checks={**verdict.audit, **decision.checks}), order

    def decide_batch(
        self, signals: Sequence[Signal], *, now_ns: int
    ) -> list[tuple[Signal, Decision, Order | None]]:
        """Arbitrate and decide in one step, installing each order at once: for synchronous
        callers (the backtest) that have nothing to persist in between."""
        outcomes: list[tuple[Signal, Decision, Order | None]] = []
        for verdict in self.arbitrate(signals, now_ns=now_ns):
            decision, order = self.decide_verdict(verdict, now_ns=now_ns)
            if order is not None:
                self.track(order)
            outcomes.append((verdict.signal, decision, order))
        return outcomes

    def _holders(self, symbol: str) -> list[str]:
        held = {
            lot.strategy
            for lot in self.portfolio.lots.values()
            if lot.symbol == symbol and lot.qty_open > ZERO
        }
        held.update(
            o.strategy
            for o in self.orders.values()
            if o.is_open and o.is_entry and o.symbol == symbol
        )
        return sorted(held)

    def _held_symbols(self) -> set[str]:
        held = {lot.symbol for lot in self.portfolio.lots.values() if lot.qty_open > ZERO}
        held.update(o.symbol for o in self.orders.values() if o.is_open and o.is_entry)
        return held

    def decide(self, signal: Signal, *, now_ns: int) -> tuple[Decision, Order | None]:
        coid = client_order_id_for(signal.dedup_key)
        if coid in self.orders:
            return Decision(False, "duplicate signal: order already exists", coid), None
        try:
            ref = price_from_float(signal.price)
        except InvalidPrice as exc:
            return Decision(False, f"bad reference price: {exc}"), None
        if signal.kind is SignalKind.EXIT:
            return self._decide_exit(signal, coid=coid, now_ns=now_ns)
        return self._decide_entry(signal, coid=coid, ref=ref, now_ns=now_ns)

    def _working(self, strategy: str, symbol: str, *, entry: bool) -> list[Order]:
        return [
            o
            for o in self.orders.values()
            if o.is_open and o.strategy == strategy and o.symbol == symbol and o.is_entry is entry
        ]

    def _decide_entry(
        self, signal: Signal, *, coid: str, ref: Decimal, now_ns: int
    ) -> tuple[Decision, Order | None]:
        if self.portfolio.open_lots(signal.strategy, signal.symbol) or self._working(
            signal.strategy, signal.symbol, entry=True
        ):
            return Decision(False, "already positioned or entry working", coid), None
        if signal.stop_price is None:
            return Decision(False, "entry without a stop cannot be sized", coid), None
        try:
            stop = price_from_float(signal.stop_price)
        except InvalidPrice as exc:
            return Decision(False, f"bad stop price: {exc}", coid), None
        view = self.view.at(now_ns)
        qty = self._sizer.size(equity=view.equity(), entry=ref, stop=stop)
        if qty < 1:
            return Decision(False, f"size is zero (entry {ref}, stop {stop})", coid), None
        limit = self._collared(ref, signal.side)
        intent = OrderIntent(
            strategy=signal.strategy,
            symbol=signal.symbol,
            side=signal.side,
            qty=qty,
            ref_price=limit,
            stop_price=stop,
            price_ts_ns=signal.price_age_from_ns,
        )
        result = self._risk.evaluate(intent, view)
        if not result.approved:
            return Decision(False, result.reason, coid, result.qty, result.checks), None
        try:
            take_profit, stop_loss = self._bracket(signal, ref=ref, limit=limit)
        except ValueError as exc:
            return Decision(False, str(exc), coid), None
        order = Order(
            client_order_id=coid,
            strategy=signal.strategy,
            symbol=signal.symbol,
            side=signal.side,
            qty=result.qty,
            order_type=OrderType.LIMIT,
            limit_price=limit,
            created_ns=now_ns,
            updated_ns=now_ns,
            signal_key=signal.dedup_key,
            purpose="entry",
            ref_price=ref,
            expires_ns=now_ns + self._order_ttl_ns,
            take_profit=take_profit,
            stop_loss=stop_loss,
        )
        self._reserved[coid] = limit
        return Decision(True, "approved", coid, result.qty, result.checks), order

    def _bracket(
        self, signal: Signal, *, ref: Decimal, limit: Decimal
    ) -> tuple[Decimal | None, Decimal | None]:
        """The legs' prices when the strategy trades with brackets; ValueError when they would
        not lie beyond the entry's limit on either side."""
        spec = self.arbiter.policy(signal.strategy).bracket
        if spec is None:
            return None, None
        take_profit, stop_loss = spec.prices(ref, signal.side)
        beyond = (
            stop_loss < ref and take_profit > limit
            if signal.side is Side.BUY
            else stop_loss > ref and take_profit < limit
        )
        if not beyond:
            raise ValueError(
                f"bracket legs {take_profit}/{stop_loss} do not lie beyond limit {limit}"
            )
        return take_profit, stop_loss

    def _decide_exit(
        self, signal: Signal, *, coid: str, now_ns: int
    ) -> tuple[Decision, Order | None]:
        lot = self.portfolio.lots.get(signal.closes or "")
        if lot is None or lot.qty_open <= ZERO:
            return Decision(False, f"nothing open to close for {signal.closes}", coid), None
        working = [
            o
            for o in self._working(lot.strategy, lot.symbol, entry=False)
            if o.closes == lot.entry_order_id
        ]
        if working and all(o.is_leg for o in working):
            return self._past_legs(signal, working, coid=coid), None
        if working:
            return Decision(
                False, f"exit already working: {working[0].client_order_id}", coid
            ), None
        qty = min(signal.qty or lot.qty_open, lot.qty_open)
        order = Order(
            client_order_id=coid,
            strategy=lot.strategy,
            symbol=lot.symbol,
            side=lot.side.opposite,
            qty=qty,
            order_type=OrderType.MARKET,
            created_ns=now_ns,
            updated_ns=now_ns,
            signal_key=signal.dedup_key,
            closes=lot.entry_order_id,
            purpose=signal.reason,
            expires_ns=now_ns + self._order_ttl_ns,
        )
        return Decision(True, f"exit ({signal.reason})", coid, qty, {"exit": signal.reason}), order

    def _past_legs(self, signal: Signal, legs: list[Order], *, coid: str) -> Decision:
        """An exit on a lot the venue's legs guard: a stop or target is theirs to take; any
        other (time, session end) has the legs cancelled, and goes out once they are gone."""
        if signal.reason in _LEG_REASONS:
            return Decision(False, f"the venue's bracket legs hold this {signal.reason}", coid)
        self._leg_cancels.update(o.client_order_id for o in legs)
        return Decision(
            False, f"cancelling the bracket legs first; the {signal.reason} exit follows", coid
        )

    def _collared(self, ref: Decimal, side: Side) -> Decimal:
        """The marketable limit: a buy may pay up to the collar above the decision price."""
        if side is Side.BUY:
            return to_tick(ref * (1 + self._collar), rounding=ROUND_FLOOR)
        return to_tick(ref * (1 - self._collar), rounding=ROUND_CEILING)

    def exit_working(self, entry_order_id: str) -> bool:
        return any(o.is_open and o.closes == entry_order_id for o in self.orders.values())

    def track(self, order: Order) -> None:
        """Install an order whose row is committed, with its bracket legs."""
        self.orders[order.client_order_id] = order
        if order.has_bracket:
            for leg in legs_of(order):
                self.orders[leg.client_order_id] = leg

    def forget(self, order: Order) -> None:
        """Drop an order that could not be committed (e.g. the row already existed)."""
        self.orders.pop(order.client_order_id, None)
        self._reserved.pop(order.client_order_id, None)
        if order.has_bracket:
            for leg in legs_of(order):
                self.orders.pop(leg.client_order_id, None)

    def cancels_due(self, now_ns: int) -> list[Order]:
        """Open orders to cancel now: entries at the venue past their TTL (what is unfilled is
        not left resting all day) and bracket legs marked for cancelling. The caller sends
        each cancel once."""
        due = [
            o
            for o in self.orders.values()
            if o.is_entry
            and o.status in (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)
            and (o.expires_ns or now_ns) < now_ns
        ]
        for leg_id in sorted(self._leg_cancels):
            leg = self.orders.get(leg_id)
            if leg is None:
                self._leg_cancels.discard(leg_id)
            else:
                due.append(leg)
        return due

    # reports -------------------------------------------------------------------------------
    def on_report(self, report: ExecutionReport) -> ReportEffect:
        order = self.orders.get(report.client_order_id)
        if order is None:
            return ReportEffect(ReportOutcome.UNKNOWN_ORDER)
        if report.kind is ReportKind.FILL:
            if report.execution_id in self._seen_executions:
                return ReportEffect(ReportOutcome.DUPLICATE_FILL, order)
            fill = Fill.from_report(report)
            return ReportEffect(ReportOutcome.FILL, order, self.portfolio.preview_fill(fill, order))
        target = _STATUS_OF[report.kind]
        if order.status is target or not order.can_transition(target):
            return ReportEffect(ReportOutcome.IGNORED, order)
        updated = replace(order)
        updated.transition(target, now_ns=report.ts_ns, reason=report.reason)
        if report.broker_order_id:
            updated.broker_order_id = report.broker_order_id
        return ReportEffect(ReportOutcome.ORDER_UPDATED, updated)

    def commit_order(self, order: Order) -> None:
        """Install a persisted order state; finished orders leave memory (the ledger keeps them).
        A bracket entry that ended short of filled leaves legs the lot cannot rely on: they are
        cancelled, and the exit engine's own exits take over."""
        if order.is_open:
            self.orders[order.client_order_id] = order
            return
        self.orders.pop(order.client_order_id, None)
        self._reserved.pop(order.client_order_id, None)
        if order.has_bracket and order.status is not OrderStatus.FILLED:
            self._leg_cancels.update(
                o.client_order_id for o in self.orders.values() if o.parent == order.client_order_id
            )

    def commit_fill(self, effect: FillEffect) -> None:
        """Book a persisted fill. Once a lot is closed, a leg still open on it could only open
        a position the other way: it is cancelled."""
        self._seen_executions.add(effect.fill.execution_id)
        self.portfolio.commit(effect)
        self.commit_order(effect.order)
        if effect.lot.qty_open <= ZERO:
            entry_id = effect.lot.entry_order_id
            self._leg_cancels.update(
                o.client_order_id for o in self.orders.values() if o.parent == entry_id
            )

    def mark_seen(self, execution_id: str) -> None:
        """A fill the ledger already holds: never book it again."""
        self._seen_executions.add(execution_id)


def _reservation_price(order: Order) -> Decimal:
    """What a working entry's unfilled shares are counted at against the exposure limits."""
    for price in (order.limit_price, order.ref_price, order.avg_fill_price):
        if price is not None:
            return price
    return ZERO
