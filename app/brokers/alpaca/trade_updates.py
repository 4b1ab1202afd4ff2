"""The trade_updates stream: Alpaca's order events as ExecutionReports.

Wire (JSON; the paper venue sends it in binary frames): send
`{"action": "authenticate", "data": {"key_id", "secret_key"}}`, expect
`{"stream": "authorization", "data": {"status": "authorized"}}`; send
`{"action": "listen", "data": {"streams": ["trade_updates"]}}`, expect
`{"stream": "listening", "data": {"streams": ["trade_updates"]}}`; then every event arrives as
`{"stream": "trade_updates", "data": {"event", "order", "timestamp", "execution_id", "price",
"qty", ...}}`. Prices and quantities are decoded straight to Decimal (alpaca-py's TradeUpdate
would make them floats).

new/accepted -> ACCEPTED; fill/partial_fill -> FILL carrying the event's execution_id, or, when
an event has none, an id derived from the order id and its cumulative filled quantity, which a
replay repeats; canceled, rejected, expired, replaced map one to one; the pending_* and other
informational events carry nothing the platform acts on.

Each report comes as a TradeUpdate under Alpaca's own ids: a bracket leg's client_order_id is
one Alpaca generated, which AlpacaBroker translates to the ledger's leg id before handing the
report on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TypeVar

import msgspec
import structlog
from msgspec.structs import replace
from websockets.asyncio.client import ClientConnection

from app.brokers.alpaca.stream import StreamRefused
from app.brokers.alpaca.timestamps import BadTimestamp, rfc3339_ns
from app.domain.execution import ExecutionReport, ReportKind
from app.domain.money import ZERO
from app.domain.signal import Side

log = structlog.get_logger()

STREAM = "trade_updates"

_KINDS = {
    "new": ReportKind.ACCEPTED,
    "accepted": ReportKind.ACCEPTED,
    "fill": ReportKind.FILL,
    "partial_fill": ReportKind.FILL,
    "canceled": ReportKind.CANCELED,
    "rejected": ReportKind.REJECTED,
    "expired": ReportKind.EXPIRED,
    "replaced": ReportKind.REPLACED,
}


class _Envelope(msgspec.Struct):
    stream: str
    data: msgspec.Raw = msgspec.Raw(b"null")


class _Authorization(msgspec.Struct):
    status: str


class _Listening(msgspec.Struct):
    streams: list[str] = []


_Answer = TypeVar("_Answer", _Authorization, _Listening)


class _Order(msgspec.Struct):
    id: str
    client_order_id: str
    symbol: str
    side: Side
    filled_qty: Decimal = ZERO
    updated_at: str | None = None
    replaced_by: str | None = None
    order_class: str = "simple"


class _Update(msgspec.Struct):
    event: str
    order: _Order
    timestamp: str | None = None
    execution_id: str | None = None
    price: Decimal | None = None
    qty: Decimal | None = None


class TradeUpdate(msgspec.Struct, frozen=True):
    """A report under Alpaca's ids, and whether its order is part of a bracket (an entry, or
    a leg whose client_order_id Alpaca chose)."""

    report: ExecutionReport
    bracket: bool = False


class MalformedUpdate(ValueError):
    """A trade update that cannot be turned into a report."""


def derived_execution_id(order_id: str, filled_qty: Decimal) -> str:
    """Stable across replays: an order's cumulative filled quantity differs on every fill."""
    return f"alpaca:{order_id}:{filled_qty.normalize()}"


def _positive(value: Decimal) -> bool:
    return value.is_finite() and value > ZERO


def _report(update: _Update, *, replaced_by: str = "") -> ExecutionReport | None:
    kind = _KINDS.get(update.event)
    if kind is None:
        return None
    order = update.order
    stamp = update.timestamp or order.updated_at
    if stamp is None:
        raise MalformedUpdate(f"{update.event} for {order.client_order_id} has no timestamp")
    try:
        ts_ns = rfc3339_ns(stamp)
    except BadTimestamp as exc:
        raise MalformedUpdate(str(exc)) from exc
    report = ExecutionReport(
        kind=kind,
        client_order_id=order.client_order_id,
        symbol=order.symbol,
        side=order.side,
        ts_ns=ts_ns,
        broker_order_id=order.id,
        reason=update.event,
    )
    if kind is ReportKind.FILL:
        if update.qty is None or update.price is None:
            raise MalformedUpdate(f"fill for {order.client_order_id} without qty and price")
        if not (_positive(update.qty) and _positive(update.price)):
            raise MalformedUpdate(
                f"fill for {order.client_order_id}: {update.qty} @ {update.price}"
            )
        execution_id = update.execution_id or derived_execution_id(order.id, order.filled_qty)
        return replace(
            report, execution_id=execution_id, last_qty=update.qty, last_price=update.price
        )
    if kind is ReportKind.REPLACED:
        return replace(report, reason=f"replaced by {replaced_by or order.replaced_by}")
    return report


class TradeUpdatesWire:
    """The trade_updates protocol for StreamSession. `client_id_of` maps a broker order id to
    its client order id when the adapter knows it (a replaced event only names its successor's
    broker id)."""

    name = STREAM

    def __init__(
        self,
        *,
        url: str,
        key_id: str,
        secret_key: str,
        client_id_of: Callable[[str], str | None],
    ) -> None:
        self.url = url
        self.headers: Sequence[tuple[str, str]] = ()
        self._key_id = key_id
        self._secret_key = secret_key
        self._client_id_of = client_id_of
        self.malformed = 0

    async def handshake(self, ws: ClientConnection) -> list[TradeUpdate]:
        auth = {
            "action": "authenticate",
            "data": {"key_id": self._key_id, "secret_key": self._secret_key},
        }
        await ws.send(msgspec.json.encode(auth).decode())
        early: list[TradeUpdate] = []
        authorization = await self._expect(ws, "authorization", _Authorization, early)
        if authorization.status != "authorized":
            raise StreamRefused(f"trade_updates authorization: {authorization.status}")
        listen = {"action": "listen", "data": {"streams": [STREAM]}}
        await ws.send(msgspec.json.encode(listen).decode())
        listening = await self._expect(ws, "listening", _Listening, early)
        if STREAM not in listening.streams:
            raise StreamRefused(f"the venue did not listen to {STREAM}: {listening.streams}")
        return early

    async def _expect(
        self,
        ws: ClientConnection,
        stream: str,
        kind: type[_Answer],
        early: list[TradeUpdate],
    ) -> _Answer:
        """The data of the next `stream` message; trade updates before it are kept in `early`."""
        while True:
            try:
                envelope = msgspec.json.decode(await ws.recv(), type=_Envelope)
                if envelope.stream == stream:
                    return msgspec.json.decode(envelope.data, type=kind)
            except msgspec.DecodeError as exc:
                raise StreamRefused(f"unreadable handshake answer: {exc}") from exc
            early.extend(self._updates(envelope))

    def decode(self, frame: str | bytes) -> list[TradeUpdate]:
        try:
            envelope = msgspec.json.decode(frame, type=_Envelope)
        except msgspec.DecodeError:
            self._count_malformed("unreadable frame")
            return []
        return self._updates(envelope)

    def _updates(self, envelope: _Envelope) -> list[TradeUpdate]:
        if envelope.stream != STREAM:
            return []
        try:
            update = msgspec.json.decode(envelope.data, type=_Update)
            replaced_by = update.order.replaced_by
            report = _report(
                update, replaced_by=(self._client_id_of(replaced_by) or "") if replaced_by else ""
            )
        except (msgspec.DecodeError, MalformedUpdate) as exc:
            self._count_malformed(str(exc))
            return []
        if report is None:
            return []
        return [TradeUpdate(report, bracket=update.order.order_class == "bracket")]

    def _count_malformed(self, error: str) -> None:
        self.malformed += 1
        log.warning("alpaca_trade_update_malformed", error=error)
