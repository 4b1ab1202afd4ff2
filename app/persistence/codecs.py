"""Rows to domain objects and back. Enums are stored by value, money as exact Decimal."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import RowMapping

from app.domain.decision import Decision, SignalRecord
from app.domain.execution import Fill
from app.domain.order import Order, OrderStatus, OrderType, TimeInForce
from app.domain.position import Lot, Position, Trade
from app.domain.signal import Side, Signal, SignalKind

Row = dict[str, Any]


def signal_row(signal: Signal, decision: Decision) -> Row:
    return {
        "dedup_key": signal.dedup_key,
        "strategy": signal.strategy,
        "symbol": signal.symbol,
        "side": signal.side.value,
        "kind": signal.kind.value,
        "ts_ns": signal.ts_ns,
        "price": signal.price,
        "stop_price": signal.stop_price,
        "confidence": signal.confidence,
        "priority": signal.priority,
        "reason": signal.reason,
        "closes": signal.closes,
        "qty": signal.qty,
        "indicators": dict(signal.indicators),
        "decision_approved": decision.approved,
        "decision_reason": decision.reason,
        "decision_qty": decision.qty,
        "decision_checks": dict(decision.checks),
        "client_order_id": decision.client_order_id,
        "detection": signal.detection,
    }


def signal_record_from_row(row: RowMapping) -> SignalRecord:
    signal = Signal(
        strategy=row["strategy"],
        symbol=row["symbol"],
        side=Side(row["side"]),
        kind=SignalKind(row["kind"]),
        ts_ns=row["ts_ns"],
        price=row["price"],
        dedup_key=row["dedup_key"],
        confidence=row["confidence"],
        priority=row["priority"],
        stop_price=row["stop_price"],
        reason=row["reason"],
        closes=row["closes"],
        qty=row["qty"],
        indicators=_floats(row["indicators"]),
        detection=row["detection"],
    )
    decision = Decision(
        approved=row["decision_approved"],
        reason=row["decision_reason"],
        client_order_id=row["client_order_id"],
        qty=row["decision_qty"],
        checks=dict(row["decision_checks"]),
    )
    return SignalRecord(signal, decision)


def _floats(document: dict[str, Any]) -> dict[str, float]:
    """Indicator snapshots: a NaN was stored as null (JSON has no NaN)."""
    return {k: float("nan") if v is None else float(v) for k, v in document.items()}


def order_row(order: Order) -> Row:
    return {
        "client_order_id": order.client_order_id,
        "strategy": order.strategy,
        "symbol": order.symbol,
        "side": order.side.value,
        "qty": order.qty,
        "order_type": order.order_type.value,
        "limit_price": order.limit_price,
        "ref_price": order.ref_price,
        "tif": order.tif.value,
        "closes": order.closes,
        "purpose": order.purpose,
        "signal_key": order.signal_key,
        "created_ns": order.created_ns,
        "expires_ns": order.expires_ns,
        "stop_price": order.stop_price,
        "take_profit": order.take_profit,
        "stop_loss": order.stop_loss,
        "parent": order.parent,
        **order_progress(order),
    }


def order_progress(order: Order) -> Row:
    """The columns an order update may change; the rest is fixed when the intent is written."""
    return {
        "status": order.status.value,
        "filled_qty": order.filled_qty,
        "avg_fill_price": order.avg_fill_price,
        "broker_order_id": order.broker_order_id,
        "reason": order.reason,
        "updated_ns": order.updated_ns,
    }


def order_from_row(row: RowMapping) -> Order:
    return Order(
        client_order_id=row["client_order_id"],
        strategy=row["strategy"],
        symbol=row["symbol"],
        side=Side(row["side"]),
        qty=row["qty"],
        order_type=OrderType(row["order_type"]),
        created_ns=row["created_ns"],
        signal_key=row["signal_key"],
        limit_price=row["limit_price"],
        ref_price=row["ref_price"],
        tif=TimeInForce(row["tif"]),
        status=OrderStatus(row["status"]),
        filled_qty=row["filled_qty"],
        avg_fill_price=row["avg_fill_price"],
        broker_order_id=row["broker_order_id"],
        closes=row["closes"],
        purpose=row["purpose"],
        expires_ns=row["expires_ns"],
        reason=row["reason"],
        updated_ns=row["updated_ns"],
        stop_price=row["stop_price"],
        take_profit=row["take_profit"],
        stop_loss=row["stop_loss"],
        parent=row["parent"],
    )


def fill_row(fill: Fill) -> Row:
    return {
        "execution_id": fill.execution_id,
        "client_order_id": fill.client_order_id,
        "symbol": fill.symbol,
        "side": fill.side.value,
        "qty": fill.qty,
        "price": fill.price,
        "fee": fill.fee,
        "ts_ns": fill.ts_ns,
    }


def lot_row(lot: Lot) -> Row:
    return {
        "entry_order_id": lot.entry_order_id,
        "strategy": lot.strategy,
        "symbol": lot.symbol,
        "side": lot.side.value,
        "opened_ns": lot.opened_ns,
        "qty_filled": lot.qty_filled,
        "qty_open": lot.qty_open,
        "avg_price": lot.avg_price,
        "fees": lot.fees,
        "is_open": lot.qty_open > 0,
    }


def lot_from_row(row: RowMapping) -> Lot:
    return Lot(
        entry_order_id=row["entry_order_id"],
        strategy=row["strategy"],
        symbol=row["symbol"],
        side=Side(row["side"]),
        opened_ns=row["opened_ns"],
        qty_filled=row["qty_filled"],
        qty_open=row["qty_open"],
        avg_price=row["avg_price"],
        fees=row["fees"],
    )


def position_row(position: Position) -> Row:
    return {
        "strategy": position.strategy,
        "symbol": position.symbol,
        "qty": position.qty,
        "avg_cost": position.avg_cost,
        "realized_pnl": position.realized_pnl,
    }


def position_from_row(row: RowMapping) -> Position:
    return Position(
        strategy=row["strategy"],
        symbol=row["symbol"],
        qty=row["qty"],
        avg_cost=row["avg_cost"],
        realized_pnl=row["realized_pnl"],
    )


def trade_row(trade: Trade) -> Row:
    return {
        "exit_execution_id": trade.exit_execution_id,
        "entry_order_id": trade.entry_order_id,
        "exit_order_id": trade.exit_order_id,
        "strategy": trade.strategy,
        "symbol": trade.symbol,
        "side": trade.side.value,
        "qty": trade.qty,
        "entry_price": trade.entry_price,
        "exit_price": trade.exit_price,
        "entry_ns": trade.entry_ns,
        "exit_ns": trade.exit_ns,
        "realized_pnl": trade.realized_pnl,
        "exit_reason": trade.exit_reason,
    }


def trade_from_row(row: RowMapping) -> Trade:
    return Trade(
        strategy=row["strategy"],
        symbol=row["symbol"],
        side=Side(row["side"]),
        entry_order_id=row["entry_order_id"],
        exit_order_id=row["exit_order_id"],
        exit_execution_id=row["exit_execution_id"],
        qty=row["qty"],
        entry_price=row["entry_price"],
        exit_price=row["exit_price"],
        entry_ns=row["entry_ns"],
        exit_ns=row["exit_ns"],
        realized_pnl=row["realized_pnl"],
        exit_reason=row["exit_reason"],
    )
