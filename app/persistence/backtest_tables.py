"""Backtest results: one row per run, one row per closed trade of a run.

The tables live on the ledger's `metadata` so one schema (and one migration chain) covers both.
A run's id is the hash of its canonical configuration, so re-running the same configuration
lands on the same row instead of piling up duplicates.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, Table, Text

from app.persistence.tables import DOCUMENT, metadata
from app.persistence.types import Money

backtest_runs = Table(
    "backtest_runs",
    metadata,
    Column("id", Text, primary_key=True),
    Column("config", DOCUMENT, nullable=False),
    Column("params", DOCUMENT, nullable=False),
    Column("period_from", Text, nullable=False),
    Column("period_to", Text, nullable=False),
    Column("strategies", DOCUMENT, nullable=False),
    Column("summary", DOCUMENT, nullable=False),
    Column("created_ns", BigInteger, nullable=False, index=True),
)

backtest_trades = Table(
    "backtest_trades",
    metadata,
    Column(
        "run_id",
        Text,
        ForeignKey(backtest_runs.c.id, ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("seq", Integer, primary_key=True),
    Column("strategy", Text, nullable=False),
    Column("rule", Text, nullable=False),
    Column("symbol", Text, nullable=False),
    Column("side", Text, nullable=False),
    Column("entry_ns", BigInteger, nullable=False),
    Column("exit_ns", BigInteger, nullable=False),
    Column("entry_price", Money, nullable=False),
    Column("exit_price", Money, nullable=False),
    Column("qty", Money, nullable=False),
    Column("fees", Money, nullable=False),
    Column("pnl", Money, nullable=False),
    Column("exit_reason", Text, nullable=False),
)
