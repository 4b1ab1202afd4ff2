"""trade_updates events as ExecutionReports, with stable execution ids."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from app.brokers.alpaca.trade_updates import TradeUpdatesWire, derived_execution_id
from app.domain.execution import ExecutionReport, ReportKind
from app.domain.signal import Side

ORDER_ID = "a1000000-0000-0000-0000-000000000001"


def frame(event: str, **extra: Any) -> bytes:
    order = {
        "id": ORDER_ID,
        "client_order_id": "tr-1",
        "symbol": "ABC",
        "side": "buy",
        "qty": "10",
        "filled_qty": extra.pop("filled_qty", "0"),
        "status": "new",
        "updated_at": "2026-11-20T14:30:00.000000001Z",
        "replaced_by": extra.pop("replaced_by", None),
        "order_class": extra.pop("order_class", "simple"),
    }
    data = {"event": event, "order": order, "timestamp": "2026-11-20T14:30:01.5Z", **extra}
    return json.dumps({"stream": "trade_updates", "data": data}).encode()


def wire(known: dict[str, str] | None = None) -> TradeUpdatesWire:
    return TradeUpdatesWire(
        url="ws://unused", key_id="k", secret_key="s", client_id_of=(known or {}).get
    )


def reports(decoder: TradeUpdatesWire, data: bytes) -> list[ExecutionReport]:
    return [update.report for update in decoder.decode(data)]


def test_a_fill_carries_the_venue_execution_id_and_exact_decimals() -> None:
    (report,) = reports(
        wire(), frame("fill", execution_id="x-1", price="10.0125", qty="10", filled_qty="10")
    )
    assert report.kind is ReportKind.FILL
    assert (report.execution_id, report.last_qty, report.last_price) == (
        "x-1",
        Decimal("10"),
        Decimal("10.0125"),
    )
    assert (report.client_order_id, report.symbol, report.side) == ("tr-1", "ABC", Side.BUY)
    assert report.broker_order_id == ORDER_ID
    assert report.ts_ns == 1_795_185_001_500_000_000


def test_numbers_sent_as_json_numbers_are_read_exactly_too() -> None:
    (report,) = reports(wire(), frame("partial_fill", execution_id="x", price=10.1, qty=3))
    assert (report.last_price, report.last_qty) == (Decimal("10.1"), Decimal("3"))


def test_a_fill_without_an_execution_id_gets_one_a_replay_repeats() -> None:
    first = reports(wire(), frame("partial_fill", price="10", qty="4", filled_qty="4"))
    again = reports(wire(), frame("partial_fill", price="10", qty="4", filled_qty="4.0"))
    later = reports(wire(), frame("fill", price="10", qty="6", filled_qty="10"))
    assert (
        first[0].execution_id
        == again[0].execution_id
        == derived_execution_id(ORDER_ID, Decimal("4"))
    )
    assert later[0].execution_id != first[0].execution_id


def test_lifecycle_events_map_one_to_one_and_informational_ones_are_skipped() -> None:
    decoder = wire()
    kinds = [
        report.kind
        for event in ("new", "accepted", "canceled", "rejected", "expired", "pending_new")
        for report in reports(decoder, frame(event))
    ]
    assert kinds == [
        ReportKind.ACCEPTED,
        ReportKind.ACCEPTED,
        ReportKind.CANCELED,
        ReportKind.REJECTED,
        ReportKind.EXPIRED,
    ]
    assert decoder.decode(frame("done_for_day")) == []


def test_replaced_names_the_successor_by_client_id_when_known() -> None:
    successor = "a1000000-0000-0000-0000-000000000009"
    (report,) = reports(wire({successor: "tr-2"}), frame("replaced", replaced_by=successor))
    (unknown,) = reports(wire(), frame("replaced", replaced_by=successor))
    assert (report.kind, report.reason) == (ReportKind.REPLACED, "replaced by tr-2")
    assert unknown.reason == f"replaced by {successor}"


def test_an_update_says_whether_its_order_is_part_of_a_bracket() -> None:
    decoder = wire()
    (leg,) = decoder.decode(frame("new", order_class="bracket"))
    (simple,) = decoder.decode(frame("new"))
    assert (leg.bracket, simple.bracket) == (True, False)
    assert leg.report.client_order_id == "tr-1"  # Alpaca's id: the broker translates it


def test_malformed_updates_are_counted_and_dropped() -> None:
    decoder = wire()
    assert decoder.decode(b"not json") == []
    assert decoder.decode(frame("fill", execution_id="x")) == []
    assert decoder.decode(json.dumps({"stream": "trade_updates", "data": {}}).encode()) == []
    assert decoder.decode(frame("fill", execution_id="x", price="NaN", qty="1")) == []
    assert decoder.decode(frame("fill", execution_id="x", price="10", qty="-1")) == []
    assert decoder.decode(json.dumps({"stream": "listening", "data": {}})) == []
    assert decoder.malformed == 5
