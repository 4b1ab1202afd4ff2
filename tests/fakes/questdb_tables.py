"""The in-memory database behind the fake QuestDB: tables, WAL commits, dedup upserts, SELECTs.

Semantics copied from QuestDB, as far as the tick store can tell them apart:
- ILP creates missing tables (designated `timestamp`, PARTITION BY DAY, WAL, no dedup) and
  missing columns; a value that does not fit its column rejects the whole request.
- A TIMESTAMP column holds microseconds: a nanosecond designated timestamp is truncated.
- With DEDUP UPSERT KEYS, a row whose keys match a stored row replaces it (the last write wins).
- Each ILP request is one WAL transaction per table: `sequencer_txn` counts commits,
  `writer_txn` counts applied ones, and only applied rows are visible to SELECT. With
  `wal_lag_polls = n`, a commit stays unapplied until `wal_tables()` has been queried n times.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.ilp_parser import IlpLine, IlpTimestamp, IlpValue
from tests.fakes.questdb_sql import CreateTable, FakeSqlError, Predicate, Select

BOOL, INT8, FLOAT8, VARCHAR, TIMESTAMP = 16, 20, 701, 1043, 1114
PG_TYPES = {
    "SYMBOL": VARCHAR,
    "VARCHAR": VARCHAR,
    "STRING": VARCHAR,
    "DOUBLE": FLOAT8,
    "LONG": INT8,
    "TIMESTAMP": TIMESTAMP,
    "BOOLEAN": BOOL,
}
_WAL_TABLES = "wal_tables()"
_WAL_COLUMNS = {
    "name": "VARCHAR",
    "suspended": "BOOLEAN",
    "writertxn": "LONG",
    "sequencertxn": "LONG",
}

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

Value = bool | int | float | str | None
Row = dict[str, Value]


class IngestError(ValueError):
    """An ILP value that does not fit the table; QuestDB answers such a request with 400."""


@dataclass(slots=True)
class FakeTable:
    name: str
    columns: dict[str, str]  # name -> QuestDB type, in table order
    designated: str
    partition_by: str = "DAY"
    wal: bool = True
    dedup_keys: tuple[str, ...] = ()
    suspended: bool = False
    sequencer_txn: int = 0
    writer_txn: int = 0
    rows: list[Row] = field(default_factory=list)
    pending: list[list[Row]] = field(default_factory=list)
    _by_key: dict[tuple[Value, ...], int] = field(default_factory=dict)

    def apply_pending(self) -> None:
        if self.suspended:
            return
        for batch in self.pending:
            for row in batch:
                self._upsert(row)
            self.writer_txn += 1
        self.pending.clear()

    def _upsert(self, row: Row) -> None:
        full = {name: row.get(name) for name in self.columns}
        if not self.dedup_keys:
            self.rows.append(full)
            return
        key = tuple(full[name] for name in self.dedup_keys)
        at = self._by_key.get(key)
        if at is None:
            self._by_key[key] = len(self.rows)
            self.rows.append(full)
        else:
            self.rows[at] = full


@dataclass(slots=True)
class FakeQuestDb:
    tables: dict[str, FakeTable] = field(default_factory=dict)
    wal_lag_polls: int = 0
    _polls_to_apply: int = 0

    def create_table(self, stmt: CreateTable) -> None:
        if stmt.name in self.tables:
            if stmt.if_not_exists:
                return
            raise FakeSqlError(f"table already exists: {stmt.name}")
        if stmt.designated is None:
            raise FakeSqlError("the fake only keeps tables with a designated timestamp")
        self.tables[stmt.name] = FakeTable(
            name=stmt.name,
            columns=dict(stmt.columns),
            designated=stmt.designated,
            partition_by=stmt.partition_by or "NONE",
            wal=stmt.wal,
            dedup_keys=stmt.dedup_keys,
        )

    def ingest(self, lines: Sequence[IlpLine]) -> None:
        """Commit one ILP request: validate every line, then one WAL transaction per table."""
        staged: dict[str, list[Row]] = {}
        for number, line in enumerate(lines, start=1):
            table = self.tables.get(line.table.lower()) or self._auto_create(line)
            try:
                staged.setdefault(table.name, []).append(_row(table, line))
            except IngestError as exc:
                raise IngestError(f"error in line {number}: table: {table.name}, {exc}") from exc
        for name, rows in staged.items():
            table = self.tables[name]
            table.sequencer_txn += 1
            table.pending.append(rows)
            self._polls_to_apply = self.wal_lag_polls
            if self.wal_lag_polls == 0:
                table.apply_pending()

    def describe(self, stmt: Select) -> tuple[list[int], list[tuple[str, int]]]:
        """Bind variable types and result columns (name, PostgreSQL type oid) of a SELECT."""
        types = self._column_types(stmt.source)
        for name in (*stmt.columns, *(p.column for p in stmt.where), *stmt.order_by):
            if name not in types:
                raise FakeSqlError(f"invalid column: {name}")
        params = [0] * stmt.param_count
        for predicate in stmt.where:
            for n in predicate.params:
                params[n] = PG_TYPES[types[predicate.column]]
        return params, [(name, PG_TYPES[types[name]]) for name in stmt.columns]

    def select(self, stmt: Select, params: Sequence[Value]) -> list[tuple[Value, ...]]:
        self.describe(stmt)
        if stmt.source == _WAL_TABLES:
            rows = self._wal_tables()
        else:
            table = self.tables[stmt.source]
            rows = sorted(table.rows, key=lambda row: _sort_key(row[table.designated]))
        found = [row for row in rows if all(_holds(p, row, params) for p in stmt.where)]
        if stmt.order_by:
            found.sort(key=lambda row: tuple(_sort_key(row[name]) for name in stmt.order_by))
        if stmt.limit is not None:
            found = found[: stmt.limit]
        return [tuple(row[name] for name in stmt.columns) for row in found]

    def _column_types(self, source: str) -> dict[str, str]:
        if source == _WAL_TABLES:
            return _WAL_COLUMNS
        table = self.tables.get(source)
        if table is None:
            raise FakeSqlError(f"table does not exist [table={source}]")
        return table.columns

    def _wal_tables(self) -> list[Row]:
        if self._polls_to_apply > 0:
            self._polls_to_apply -= 1
        if self._polls_to_apply == 0:
            for table in self.tables.values():
                table.apply_pending()
        return [
            {
                "name": t.name,
                "suspended": t.suspended,
                "writertxn": t.writer_txn,
                "sequencertxn": t.sequencer_txn,
            }
            for t in self.tables.values()
            if t.wal
        ]

    def _auto_create(self, line: IlpLine) -> FakeTable:
        columns = {name: "SYMBOL" for name in line.symbols}
        columns |= {name: _infer_type(value) for name, value in line.fields.items()}
        columns["timestamp"] = "TIMESTAMP"
        table = FakeTable(name=line.table.lower(), columns=columns, designated="timestamp")
        self.tables[table.name] = table
        return table


def _row(table: FakeTable, line: IlpLine) -> Row:
    if line.timestamp is None:
        raise IngestError("the fake needs an explicit designated timestamp")
    row: Row = {table.designated: line.timestamp.micros}
    values: dict[str, tuple[IlpValue, bool]] = {k: (v, True) for k, v in line.symbols.items()}
    values |= {k: (v, False) for k, v in line.fields.items()}
    for name, (value, is_tag) in values.items():
        column = name.lower()
        kind = table.columns.setdefault(column, "SYMBOL" if is_tag else _infer_type(value))
        row[column] = _cast(value, kind, column=column)
    return row


def _infer_type(value: IlpValue) -> str:
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int):
        return "LONG"
    if isinstance(value, float):
        return "DOUBLE"
    if isinstance(value, IlpTimestamp):
        return "TIMESTAMP"
    return "VARCHAR"


def _cast(value: IlpValue, kind: str, *, column: str) -> Value:
    if kind in ("SYMBOL", "VARCHAR", "STRING") and isinstance(value, str):
        return value
    if kind == "DOUBLE" and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind == "LONG" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if kind == "BOOLEAN" and isinstance(value, bool):
        return value
    if kind == "TIMESTAMP" and isinstance(value, IlpTimestamp):
        return value.micros
    raise IngestError(f"column: {column}; cast error from {_infer_type(value)} to {kind}")


def _holds(predicate: Predicate, row: Row, params: Sequence[Value]) -> bool:
    value = row[predicate.column]
    wanted = [params[n] for n in predicate.params]
    if value is None or None in wanted:
        return False
    if predicate.op == "IN":
        return value in wanted
    return _COMPARE[predicate.op](value, wanted[0])


def _sort_key(value: Value) -> tuple[bool, Value]:
    return (value is not None, value)
