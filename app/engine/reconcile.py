"""Reconciliation with the venue, decided without I/O: what differs between the ledger's book and
the venue's, and what to do about each difference (S17).

The venue is the source of truth. What can be explained is brought into line through the normal
order and fill path: a status the venue moved on, fills the ledger missed (booked once: under the
venue's execution id when it lists executions, else under an id derived from the order and the
venue's cumulative quantity, so a second run books nothing). What cannot be explained (an order
the ledger never sent, a position its lots do not account for, fills that cannot belong to their
order) is never patched: it halts the strategies concerned, or every strategy when none is.

app.services.reconciler gathers both sides and applies what is decided here.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from decimal import Decimal

from app.domain.execution import ExecutionReport, ReportKind
from app.domain.money import ZERO, to_avg_price
from app.domain.order import TRANSITIONS, Order, OrderStatus
from app.domain.position import Lot
from app.ports.broker import BrokerOrder, BrokerPosition
from app.ports.risk_state import GLOBAL

_WORKING = frozenset({OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED})
_BY_FILLS = frozenset({OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED})


class DiffKind(enum.StrEnum):
    STATUS = "status"  # the venue moved the order on
    MISSING_FILL = "missing_fill"  # the venue filled more than the ledger booked
    NOT_AT_VENUE = "not_at_venue"  # an order working here that the venue does not know
    UNKNOWN_ORDER = "unknown_order"  # a venue order the ledger never sent
    ORDER_MISMATCH = "order_mismatch"  # fills or states that cannot be brought into line
    UNKNOWN_POSITION = "unknown_position"  # the venue holds a symbol no local lot holds
    POSITION_MISMATCH = "position_mismatch"  # the lots do not add up to the venue's position


UNEXPLAINED = frozenset(DiffKind) - {DiffKind.STATUS, DiffKind.MISSING_FILL, DiffKind.NOT_AT_VENUE}


class Action(enum.StrEnum):
    BOOK_FILL = "book_fill"
    SET_STATUS = "set_status"
    HALT = "halt"
    ALREADY_HALTED = "already_halted"  # every scope concerned is halted for this already


@dataclass(frozen=True, slots=True, kw_only=True)
class Difference:
    """One way the ledger and the venue disagree. `strategy` is empty when no local strategy
    owns it; `target` is the status to move to, `qty` the quantity to book, `scopes` whom to
    halt."""

    kind: DiffKind
    symbol: str
    strategy: str
    local: str
    venue: str
    action: Action
    client_order_id: str = ""
    target: OrderStatus | None = None
    qty: Decimal | None = None
    scopes: tuple[str, ...] = ()

    @property
    def unexplained(self) -> bool:
        return self.kind in UNEXPLAINED

    @property
    def reason(self) -> str:
        """What a halt records: the difference in words, the same on every run."""
        what = f"{self.kind.value} {self.symbol}"
        if self.client_order_id:
            what += f" order {self.client_order_id}"
        return f"reconciliation: {what}: ledger {self.local}, venue {self.venue}"


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalBook:
    """The ledger's side: open orders plus any ended order the venue listed, the open lots,
    and the scopes already halted as unexplained."""

    orders: Mapping[str, Order]
    lots: Sequence[Lot]
    halted: Set[str] = frozenset()

    def holders(self) -> dict[str, tuple[str, ...]]:
        """Per symbol, the strategies holding it: an open lot or a working order."""
        held: dict[str, set[str]] = {}
        for lot in self.lots:
            if lot.qty_open > ZERO:
                held.setdefault(lot.symbol, set()).add(lot.strategy)
        for order in self.orders.values():
            if order.is_open:
                held.setdefault(order.symbol, set()).add(order.strategy)
        return {symbol: tuple(sorted(names)) for symbol, names in held.items()}


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueBook:
    """The venue's side: its orders by client order id, positions, and listed executions."""

    orders: Mapping[str, BrokerOrder]
    positions: Sequence[BrokerPosition]
    executions: Sequence[ExecutionReport] = ()
    _by_order: dict[str, list[ExecutionReport]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_order: dict[str, list[ExecutionReport]] = {}
        for report in self.executions:
            if report.kind is ReportKind.FILL and report.execution_id and report.last_qty:
                by_order.setdefault(report.client_order_id, []).append(report)
        object.__setattr__(self, "_by_order", by_order)

    def executions_of(self, client_order_id: str) -> Sequence[ExecutionReport]:
        return self._by_order.get(client_order_id, ())


# orders ------------------------------------------------------------------------------------
def compare_orders(local: LocalBook, venue: VenueBook) -> list[Difference]:
    """Order by order (by client order id): statuses, fills, orders only one side knows."""
    held = local.holders()
    found: list[Difference] = []
    for coid in sorted(local.orders.keys() | venue.orders.keys()):
        order, seen = local.orders.get(coid), venue.orders.get(coid)
        if order is None and seen is not None:
            found.append(
                _unexplained(
                    DiffKind.UNKNOWN_ORDER,
                    symbol=seen.symbol,
                    local="-",
                    venue=_order_text(seen),
                    scopes=held.get(seen.symbol, ()),
                    halted=local.halted,
                    client_order_id=coid,
                )
            )
        elif order is not None and seen is None:
            if order.status in _WORKING:
                found.append(_not_at_venue(order))
        elif order is not None and seen is not None:
            found.extend(_compare_order(order, seen, halted=local.halted))
    return found


def _not_at_venue(order: Order) -> Difference:
    return Difference(
        kind=DiffKind.NOT_AT_VENUE,
        symbol=order.symbol,
        strategy=order.strategy,
        local=_order_text(order),
        venue="-",
        action=Action.SET_STATUS,
        client_order_id=order.client_order_id,
        target=OrderStatus.CANCELED,
    )


def _compare_order(order: Order, seen: BrokerOrder, *, halted: Set[str]) -> list[Difference]:
    mismatch = _order_mismatch(order, seen)
    if mismatch is not None:
        return [
            _unexplained(
                DiffKind.ORDER_MISMATCH,
                symbol=order.symbol,
                local=f"{_order_text(order)} ({mismatch})",
                venue=_order_text(seen),
                scopes=(order.strategy,),
                halted=halted,
                client_order_id=order.client_order_id,
            )
        ]
    base = Difference(
        kind=DiffKind.STATUS,
        symbol=order.symbol,
        strategy=order.strategy,
        local=_order_text(order),
        venue=_order_text(seen),
        action=Action.SET_STATUS,
        client_order_id=order.client_order_id,
    )
    found: list[Difference] = []
    missing = seen.filled_qty - order.filled_qty
    if missing > ZERO:
        found.append(
            replace(base, kind=DiffKind.MISSING_FILL, action=Action.BOOK_FILL, qty=missing)
        )
    target = status_target(_status_after(order, seen.filled_qty), seen)
    if target is not None:
        found.append(replace(base, target=target))
    return found


def _order_mismatch(order: Order, seen: BrokerOrder) -> str | None:
    """Why the two copies of one order cannot be brought into line, or None when they can."""
    if (seen.symbol, seen.side) != (order.symbol, order.side):
        return f"the venue has it as {seen.side.value} {seen.symbol}"
    if seen.filled_qty > order.qty:
        return f"the venue filled {seen.filled_qty} of {order.qty}"
    if seen.filled_qty < order.filled_qty:
        return f"booked {order.filled_qty}, more than the venue filled"
    if seen.status is OrderStatus.FILLED and seen.filled_qty != order.qty:
        return f"the venue calls {seen.filled_qty} of {order.qty} filled"
    if order.status.is_terminal:
        if seen.filled_qty > order.filled_qty:
            return f"the venue filled more of an order ended here as {order.status.value}"
        if not seen.status.is_terminal:
            return "still working at the venue"
        return None
    after, venue = _status_after(order, seen.filled_qty), seen.status
    if venue.is_terminal and venue not in _BY_FILLS and venue not in TRANSITIONS[after]:
        return f"cannot move from {after.value} to {venue.value}"
    return None


def _status_after(order: Order, filled: Decimal) -> OrderStatus:
    """The status `order` will have once its fills reach `filled`."""
    if filled <= order.filled_qty:
        return order.status
    return OrderStatus.FILLED if filled == order.qty else OrderStatus.PARTIALLY_FILLED


def status_target(status: OrderStatus, seen: BrokerOrder) -> OrderStatus | None:
    """The status to move a local order in `status` to so it agrees with the venue, once the
    fills agree; None when it agrees, when only fills move it, or when the venue has not caught
    up yet (a request still in flight there)."""
    venue = seen.status
    if venue is status or venue in _BY_FILLS or status.is_terminal:
        return None
    if not venue.is_terminal and venue.rank <= status.rank:
        return None
    return venue if venue in TRANSITIONS[status] else None


# fills -------------------------------------------------------------------------------------
def derived_execution_id(client_order_id: str, cum_qty: Decimal) -> str:
    """The id of a fill booked without the venue's execution id: one per order and cumulative
    quantity, so booking the same catch-up twice is refused by the ledger."""
    return f"recon:{client_order_id}:{format(cum_qty.normalize(), 'f')}"


def catch_up_price(order: Order, seen: BrokerOrder) -> Decimal | None:
    """The price at which the missing quantity makes the local average equal the venue's;
    None when the venue gives no average or the numbers cannot be right (not positive)."""
    missing = seen.filled_qty - order.filled_qty
    if missing <= ZERO or seen.avg_fill_price is None:
        return None
    booked = (order.avg_fill_price or ZERO) * order.filled_qty
    price = to_avg_price((seen.avg_fill_price * seen.filled_qty - booked) / missing)
    return price if price > ZERO else None


def next_fill(
    order: Order,
    seen: BrokerOrder,
    executions: Sequence[ExecutionReport],
    *,
    tried: Set[str],
    now_ns: int,
) -> ExecutionReport | None:
    """The next fill to try booking for `order`, or None when there is nothing (more) to try.

    The venue's own executions come first, in its order, each tried once and only if it fits
    under the venue's cumulative quantity: one the ledger holds already is refused by its
    execution id, so trying it costs nothing. Whatever the listed executions do not cover is
    one catch-up fill under a derived id, priced so the averages agree."""
    if seen.filled_qty <= order.filled_qty:
        return None
    for report in executions:
        if report.execution_id in tried or report.last_qty is None:
            continue
        if order.filled_qty + report.last_qty <= seen.filled_qty:
            return report
    execution_id = derived_execution_id(order.client_order_id, seen.filled_qty)
    price = catch_up_price(order, seen)
    if execution_id in tried or price is None:
        return None
    return ExecutionReport(
        kind=ReportKind.FILL,
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side,
        ts_ns=now_ns,
        broker_order_id=seen.broker_order_id,
        execution_id=execution_id,
        last_qty=seen.filled_qty - order.filled_qty,
        last_price=price,
        reason="booked by reconciliation",
    )


def fill_ceilings(orders: Iterable[Order], venue: VenueBook) -> dict[str, Decimal]:
    """For each open order whose fills the venue did not list in full, its cumulative quantity
    at the venue: a later fill report past it may repeat shares booked under a derived id."""
    ceilings: dict[str, Decimal] = {}
    for order in orders:
        seen = venue.orders.get(order.client_order_id)
        if not order.is_open or seen is None:
            continue
        listed = sum((r.last_qty or ZERO for r in venue.executions_of(order.client_order_id)), ZERO)
        if listed != seen.filled_qty:
            ceilings[order.client_order_id] = seen.filled_qty
    return ceilings


class FillCeilings:
    """How far each order may fill before the next reconciliation, by the venue's word.

    A fill report that would take an order past its quantity, or past the venue's cumulative
    quantity recorded for it at the last reconciliation, is refused: it may be a late copy of
    shares reconciliation booked under a derived id. Refusing is the safe side: a genuine fill
    shows up in the venue's cumulative quantity and the next reconciliation books it."""

    def __init__(self) -> None:
        self._caps: dict[str, Decimal] = {}

    def reset(self, caps: Mapping[str, Decimal]) -> None:
        self._caps = dict(caps)

    def refusal(self, order: Order | None, report: ExecutionReport) -> str | None:
        """Why this fill report must not be booked, or None when it may."""
        if order is None or report.kind is not ReportKind.FILL or report.last_qty is None:
            return None
        after = order.filled_qty + report.last_qty
        if after > order.qty:
            return f"would fill {after} of an order for {order.qty}"
        cap = self._caps.get(order.client_order_id)
        if cap is not None and after > cap:
            return f"would fill {after}, past the venue's {cap} at the last reconciliation"
        return None


# positions ---------------------------------------------------------------------------------
def compare_positions(
    local: LocalBook, venue: VenueBook, *, pending: Mapping[str, Decimal] | None = None
) -> list[Difference]:
    """Per symbol: the venue's net position against the sum of the open lots of every strategy
    (plus `pending`, signed quantities about to be booked). Any difference is unexplained."""
    ours: dict[str, Decimal] = dict(pending or {})
    lots_in: set[str] = set()
    for lot in local.lots:
        if lot.qty_open > ZERO:
            ours[lot.symbol] = ours.get(lot.symbol, ZERO) + lot.signed_qty
            lots_in.add(lot.symbol)
    theirs = {p.symbol: p.qty for p in venue.positions}
    held = local.holders()
    found: list[Difference] = []
    for symbol in sorted(ours.keys() | theirs.keys()):
        mine, venue_qty = ours.get(symbol, ZERO), theirs.get(symbol, ZERO)
        if mine == venue_qty:
            continue
        kind = DiffKind.POSITION_MISMATCH if symbol in lots_in else DiffKind.UNKNOWN_POSITION
        found.append(
            _unexplained(
                kind,
                symbol=symbol,
                local=str(mine),
                venue=str(venue_qty),
                scopes=held.get(symbol, ()),
                halted=local.halted,
            )
        )
    return found


def plan(local: LocalBook, venue: VenueBook) -> list[Difference]:
    """Every difference and what applying would do, without doing it (a dry run): positions
    are compared as they will be once the missing fills are booked."""
    orders = compare_orders(local, venue)
    pending: dict[str, Decimal] = {}
    for diff in orders:
        if diff.action is Action.BOOK_FILL and diff.qty is not None:
            signed = diff.qty * local.orders[diff.client_order_id].side.sign
            pending[diff.symbol] = pending.get(diff.symbol, ZERO) + signed
    return [*orders, *compare_positions(local, venue, pending=pending)]


# helpers -----------------------------------------------------------------------------------
def _unexplained(
    kind: DiffKind,
    *,
    symbol: str,
    local: str,
    venue: str,
    scopes: tuple[str, ...],
    halted: Set[str],
    client_order_id: str = "",
) -> Difference:
    """A difference to halt on: the strategies concerned, or everything when none is."""
    halt = scopes or (GLOBAL,)
    done = all(scope in halted for scope in halt)
    return Difference(
        kind=kind,
        symbol=symbol,
        strategy=",".join(scopes),
        local=local,
        venue=venue,
        action=Action.ALREADY_HALTED if done else Action.HALT,
        client_order_id=client_order_id,
        scopes=halt,
    )


def _order_text(order: Order | BrokerOrder) -> str:
    text = f"{order.status.value} {order.filled_qty}/{order.qty}"
    return text if order.avg_fill_price is None else f"{text} @ {order.avg_fill_price}"
