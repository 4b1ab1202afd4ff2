"""Reading the client's requests: placeOrder field by field, the others by position."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from tests.fakes.tws.ledger import OrderTicket
from tests.fakes.tws.wire import ProtocolError

REQUEST_CONTRACT = (
    "conId",
    "symbol",
    "secType",
    "lastTradeDateOrContractMonth",
    "strike",
    "right",
    "multiplier",
    "exchange",
    "primaryExchange",
    "currency",
    "localSymbol",
    "tradingClass",
)

_PLACE_HEAD = (
    "orderId",
    *REQUEST_CONTRACT,
    "secIdType",
    "secId",
    "action",
    "totalQuantity",
    "orderType",
    "lmtPrice",
    "auxPrice",
    "tif",
    "ocaGroup",
    "account",
    "openClose",
    "origin",
    "orderRef",
    "transmit",
    "parentId",
    "blockOrder",
    "sweepToFill",
    "displaySize",
    "triggerMethod",
    "outsideRth",
    "hidden",
)
_PLACE_MIDDLE = (
    "sharesAllocation",
    "discretionaryAmt",
    "goodAfterTime",
    "goodTillDate",
    "faGroup",
    "faMethod",
    "faPercentage",
    "faProfile",
    "modelCode",
    "shortSaleSlot",
    "designatedLocation",
    "exemptCode",
    "ocaType",
    "rule80A",
    "settlingFirm",
    "allOrNone",
    "minQty",
    "percentOffset",
    "eTradeOnly",
    "firmQuoteOnly",
    "nbboPriceCap",
    "auctionStrategy",
    "startingPrice",
    "stockRefPrice",
    "delta",
    "stockRangeLower",
    "stockRangeUpper",
    "overridePercentageConstraints",
    "volatility",
    "volatilityType",
    "deltaNeutralOrderType",
    "deltaNeutralAuxPrice",
)
_PLACE_TRAIL = ("continuousUpdate", "referencePriceType", "trailStopPrice", "trailingPercent")


class UnsupportedRequest(ProtocolError):
    """A valid request the fake does not model (combos, delta-neutral orders)."""


def _take(fields: Sequence[str], start: int, names: Sequence[str]) -> dict[str, str]:
    if len(fields) < start + len(names):
        raise ProtocolError(f"placeOrder too short: {len(fields)} fields")
    return dict(zip(names, fields[start : start + len(names)], strict=True))


def _decimal(text: str) -> Decimal | None:
    return Decimal(text) if text else None


def parse_place_order(fields: Sequence[str]) -> OrderTicket:
    """placeOrder at server version 157, read up to the trailing-stop fields."""
    head = _take(fields, 1, _PLACE_HEAD)
    if head["secType"] != "STK":
        raise UnsupportedRequest(f"only stocks, got {head['secType']!r}")
    at = 1 + len(_PLACE_HEAD)
    middle = _take(fields, at, _PLACE_MIDDLE)
    if middle["deltaNeutralOrderType"]:
        raise UnsupportedRequest("delta-neutral orders")
    trail = _take(fields, at + len(_PLACE_MIDDLE), _PLACE_TRAIL)
    qty = _decimal(head["totalQuantity"])
    if qty is None:
        raise ProtocolError("placeOrder without a quantity")
    return OrderTicket(
        order_id=int(head["orderId"]),
        symbol=head["symbol"],
        action=head["action"],
        qty=qty,
        order_type=head["orderType"],
        lmt=_decimal(head["lmtPrice"]),
        aux=_decimal(head["auxPrice"]),
        trailing_percent=_decimal(trail["trailingPercent"]),
        trail_stop=_decimal(trail["trailStopPrice"]),
        tif=head["tif"],
        account=head["account"],
        ref=head["orderRef"],
    )


def contract_symbol(fields: Sequence[str]) -> tuple[int, str, str]:
    """(reqId, symbol, secType) of reqMktData / reqContractDetails: id, version, reqId, contract."""
    contract = dict(zip(REQUEST_CONTRACT, fields[3 : 3 + len(REQUEST_CONTRACT)], strict=True))
    return int(fields[2]), contract["symbol"], contract["secType"]
