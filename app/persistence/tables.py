"""The ledger's tables. Booked money is `Money` (exact Decimal), timestamps are int nanoseconds.

Migrations in `app.persistence.migrations` create exactly this schema; a test compares the two.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Double,
    ForeignKey,
    Integer,
    MetaData,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

from app.persistence.types import Money

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
SERIAL = BigInteger().with_variant(Integer(), "sqlite")
DOCUMENT = JSON().with_variant(JSONB(), "postgresql")

signals = Table(
    "signals",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column("dedup_key", Text, nullable=False, unique=True),
    Column("strategy", Text, nullable=False),
    Column("symbol", Text, nullable=False),
    Column("side", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("ts_ns", BigInteger, nullable=False, index=True),
    Column("price", Double, nullable=False),
    Column("stop_price", Double, nullable=True),
    Column("confidence", Double, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("closes", Text, nullable=True),
    Column("qty", Money, nullable=True),
    Column("indicators", DOCUMENT, nullable=False),
    Column("decision_approved", Boolean, nullable=False),
    Column("decision_reason", Text, nullable=False),
    Column("decision_qty", Money, nullable=True),
    Column("decision_checks", DOCUMENT, nullable=False),
    Column("client_order_id", Text, nullable=True),
    Column("detection", Text, nullable=False, server_default=""),
)

orders = Table(
    "orders",
    metadata,
    Column("client_order_id", Text, primary_key=True),
    Column("broker_order_id", Text, nullable=True),
    Column("strategy", Text, nullable=False),
    Column("symbol", Text, nullable=False),
    Column("side", Text, nullable=False),
    Column("qty", Money, nullable=False),
    Column("order_type", Text, nullable=False),
    Column("limit_price", Money, nullable=True),
    Column("ref_price", Money, nullable=True),
    Column("tif", Text, nullable=False),
    Column("status", Text, nullable=False, index=True),
    Column("filled_qty", Money, nullable=False),
    Column("avg_fill_price", Money, nullable=True),
    Column("closes", Text, nullable=True),
    Column("signal_key", Text, nullable=False),
    Column("created_ns", BigInteger, nullable=False, index=True),
    Column("updated_ns", BigInteger, nullable=False),
    Column("expires_ns", BigInteger, nullable=True),
    Column("reason", Text, nullable=False),
    Column("purpose", Text, nullable=False, server_default=""),
    Column("stop_price", Money, nullable=True),
    Column("take_profit", Money, nullable=True),
    Column("stop_loss", Money, nullable=True),
    Column("parent", Text, nullable=True),
)

fills = Table(
    "fills",
    metadata,
    Column("execution_id", Text, primary_key=True),
    Column(
        "client_order_id",
        Text,
        ForeignKey(orders.c.client_order_id),
        nullable=False,
        index=True,
    ),
    Column("symbol", Text, nullable=False),
    Column("side", Text, nullable=False),
    Column("qty", Money, nullable=False),
    Column("price", Money, nullable=False),
    Column("fee", Money, nullable=False),
    Column("ts_ns", BigInteger, nullable=False),
)

# `is_open` mirrors qty_open > 0: on SQLite the quantity is TEXT and cannot be compared in SQL.
lots = Table(
    "lots",
    metadata,
    Column("entry_order_id", Text, primary_key=True),
    Column("strategy", Text, nullable=False),
    Column("symbol", Text, nullable=False),
    Column("side", Text, nullable=False),
    Column("opened_ns", BigInteger, nullable=False),
    Column("qty_filled", Money, nullable=False),
    Column("qty_open", Money, nullable=False),
    Column("avg_price", Money, nullable=False),
    Column("fees", Money, nullable=False),
    Column("is_open", Boolean, nullable=False, index=True),
)

trades = Table(
    "trades",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column("exit_execution_id", Text, nullable=False, unique=True),
    Column("entry_order_id", Text, nullable=False, index=True),
    Column("exit_order_id", Text, nullable=False),
    Column("strategy", Text, nullable=False),
    Column("symbol", Text, nullable=False),
    Column("side", Text, nullable=False),
    Column("qty", Money, nullable=False),
    Column("entry_price", Money, nullable=False),
    Column("exit_price", Money, nullable=False),
    Column("entry_ns", BigInteger, nullable=False),
    Column("exit_ns", BigInteger, nullable=False, index=True),
    Column("realized_pnl", Money, nullable=False),
    Column("exit_reason", Text, nullable=False, server_default=""),
)

positions = Table(
    "positions",
    metadata,
    Column("strategy", Text, primary_key=True),
    Column("symbol", Text, primary_key=True),
    Column("qty", Money, nullable=False),
    Column("avg_cost", Money, nullable=False),
    Column("realized_pnl", Money, nullable=False),
)

leases = Table(
    "leases",
    metadata,
    Column("name", Text, primary_key=True),
    Column("holder", Text, nullable=False),
    Column("token", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
)

# Risk state (S11, S12): what must survive any restart. Halts are cleared only by an audited
# resume; daily counters are keyed by the New York trading day, so a new day starts new rows.
halts = Table(
    "halts",
    metadata,
    Column("scope", Text, primary_key=True),
    Column("kind", Text, primary_key=True),
    Column("reason", Text, nullable=False),
    Column("since_ns", BigInteger, nullable=False),
    Column("actor", Text, nullable=False),
)

strategy_states = Table(
    "strategy_states",
    metadata,
    Column("strategy", Text, primary_key=True),
    Column("cumulative_pnl", Money, nullable=False),
    Column("peak_pnl", Money, nullable=False),
    Column("loss_streak", Integer, nullable=False),
    Column("cooldown_until_ns", BigInteger, nullable=False),
)

daily_counters = Table(
    "daily_counters",
    metadata,
    Column("trading_day", Text, primary_key=True),
    Column("strategy", Text, primary_key=True),
    Column("realized_pnl", Money, nullable=False),
    Column("trades", Integer, nullable=False),
    Column("day_trades", Integer, nullable=False),
)

breakers = Table(
    "breakers",
    metadata,
    Column("name", Text, primary_key=True),
    Column("state", Text, nullable=False),
    Column("failures", Integer, nullable=False),
    Column("opened_ns", BigInteger, nullable=False),
)

daily_resets = Table(
    "daily_resets",
    metadata,
    Column("trading_day", Text, primary_key=True),
    Column("actor", Text, nullable=False),
    Column("ran_ns", BigInteger, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", SERIAL, primary_key=True, autoincrement=True),
    Column("ts_ns", BigInteger, nullable=False, index=True),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("detail", Text, nullable=False),
)

exit_states = Table(
    "exit_states",
    metadata,
    Column("entry_order_id", Text, primary_key=True),
    Column("best_price", Double, nullable=False),
    Column("targets_hit", Integer, nullable=False),
)

corporate_actions = Table(
    "corporate_actions",
    metadata,
    Column("symbol", Text, primary_key=True),
    Column("effective_ns", BigInteger, primary_key=True),
    Column("numerator", Integer, nullable=False),
    Column("denominator", Integer, nullable=False),
)

strategy_configs = Table(
    "strategy_configs",
    metadata,
    Column("name", Text, primary_key=True),
    Column("kind", Text, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("priority", Integer, nullable=True),
    Column("params", DOCUMENT, nullable=False),
    Column("exit", DOCUMENT, nullable=True),
    Column("version", BigInteger, nullable=False, index=True),
    Column("updated_ns", BigInteger, nullable=False),
)
