"""The SQL the fake QuestDB understands: the statement shapes the QuestDB tick store sends.

    CREATE TABLE [IF NOT EXISTS] t (col TYPE, ...) [TIMESTAMP(col)] [PARTITION BY unit]
        [WAL | BYPASS WAL] [DEDUP UPSERT KEYS(col, ...)]
    SELECT col, ... FROM t | wal_tables() [WHERE pred [AND pred ...]] [ORDER BY col, ...] [LIMIT n]
        where pred is `col op $n` (op one of = <> != < <= > >=) or `col IN ($a, $b, ...)`
    BEGIN / COMMIT / ROLLBACK

Anything else is refused with FakeSqlError, so a query the adapter starts sending and the fake
does not know fails loudly instead of returning nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_FLAGS = re.IGNORECASE | re.DOTALL
_CREATE = re.compile(
    r"\s*CREATE\s+TABLE\s+(?P<ine>IF\s+NOT\s+EXISTS\s+)?(?P<name>\w+)\s*\((?P<cols>[^()]*)\)"
    r"\s*(?:TIMESTAMP\s*\(\s*(?P<ts>\w+)\s*\))?"
    r"\s*(?:PARTITION\s+BY\s+(?P<part>\w+))?"
    r"\s*(?P<wal>BYPASS\s+WAL|WAL)?"
    r"\s*(?:DEDUP\s+UPSERT\s+KEYS\s*\((?P<keys>[^()]*)\))?\s*;?\s*\Z",
    _FLAGS,
)
_SELECT = re.compile(
    r"\s*SELECT\s+(?P<cols>.+?)\s+FROM\s+(?P<source>\w+\s*\(\s*\)|\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?"
    r"(?:\s+ORDER\s+BY\s+(?P<order>.+?))?"
    r"(?:\s+LIMIT\s+(?P<limit>\d+))?\s*;?\s*\Z",
    _FLAGS,
)
_TRANSACTION = re.compile(r"\s*(?P<verb>BEGIN|COMMIT|ROLLBACK)\b[^;]*;?\s*\Z", _FLAGS)
_COMPARISON = re.compile(r"(?P<col>\w+)\s*(?P<op><>|!=|<=|>=|=|<|>)\s*\$(?P<n>\d+)\Z", _FLAGS)
_MEMBERSHIP = re.compile(r"(?P<col>\w+)\s+IN\s*\((?P<params>[^()]*)\)\Z", _FLAGS)
_PARAM = re.compile(r"\s*\$(\d+)\s*\Z")
_AND = re.compile(r"\s+AND\s+", _FLAGS)
_IDENT = re.compile(r"\w+\Z")


class FakeSqlError(ValueError):
    """SQL outside the subset, or refused the way QuestDB would refuse it."""


@dataclass(frozen=True, slots=True)
class CreateTable:
    name: str
    columns: tuple[tuple[str, str], ...]
    designated: str | None
    partition_by: str | None
    wal: bool
    dedup_keys: tuple[str, ...]
    if_not_exists: bool


@dataclass(frozen=True, slots=True)
class Predicate:
    column: str
    op: str  # = <> < <= > >= IN
    params: tuple[int, ...]  # zero-based bind variable indexes


@dataclass(frozen=True, slots=True)
class Select:
    columns: tuple[str, ...]
    source: str  # a table name, or "wal_tables()"
    where: tuple[Predicate, ...]
    order_by: tuple[str, ...]
    limit: int | None

    @property
    def param_count(self) -> int:
        return max((n + 1 for p in self.where for n in p.params), default=0)


@dataclass(frozen=True, slots=True)
class TransactionControl:
    verb: str  # BEGIN, COMMIT, ROLLBACK


Statement = CreateTable | Select | TransactionControl


def parse_sql(sql: str) -> Statement:
    if match := _TRANSACTION.match(sql):
        return TransactionControl(match["verb"].upper())
    if match := _CREATE.match(sql):
        return _create(match)
    if match := _SELECT.match(sql):
        return _select(match)
    raise FakeSqlError(f"the fake QuestDB does not understand: {sql.strip()!r}")


def _create(match: re.Match[str]) -> CreateTable:
    columns: list[tuple[str, str]] = []
    for definition in match["cols"].split(","):
        parts = definition.split()
        if len(parts) != 2:
            raise FakeSqlError(f"bad column definition {definition.strip()!r}")
        columns.append((parts[0].lower(), parts[1].upper()))
    names = [name for name, _ in columns]
    designated = match["ts"].lower() if match["ts"] else None
    keys = tuple(_identifiers(match["keys"])) if match["keys"] else ()
    wal = (match["wal"] or "").upper() == "WAL"
    if designated is not None and dict(columns).get(designated) != "TIMESTAMP":
        raise FakeSqlError(f"designated timestamp {designated!r} is not a TIMESTAMP column")
    if keys:
        if not wal or designated is None:
            raise FakeSqlError("deduplication needs a WAL table with a designated timestamp")
        if designated not in keys:
            raise FakeSqlError("deduplicate key list must include the designated timestamp")
        if unknown := [key for key in keys if key not in names]:
            raise FakeSqlError(f"deduplicate key column not found: {unknown}")
    return CreateTable(
        name=match["name"].lower(),
        columns=tuple(columns),
        designated=designated,
        partition_by=match["part"].upper() if match["part"] else None,
        wal=wal,
        dedup_keys=keys,
        if_not_exists=match["ine"] is not None,
    )


def _select(match: re.Match[str]) -> Select:
    source = re.sub(r"\s+", "", match["source"]).lower()
    where = tuple(_predicate(text) for text in _AND.split(match["where"])) if match["where"] else ()
    order = tuple(_identifiers(match["order"])) if match["order"] else ()
    select = Select(
        columns=tuple(_identifiers(match["cols"])),
        source=source,
        where=where,
        order_by=order,
        limit=int(match["limit"]) if match["limit"] else None,
    )
    used = {n for p in where for n in p.params}
    if used != set(range(select.param_count)):
        raise FakeSqlError("bind variables must be numbered $1..$n without gaps")
    return select


def _predicate(text: str) -> Predicate:
    text = text.strip()
    if match := _COMPARISON.match(text):
        op = "<>" if match["op"] == "!=" else match["op"]
        return Predicate(match["col"].lower(), op, (int(match["n"]) - 1,))
    if match := _MEMBERSHIP.match(text):
        params = []
        for item in match["params"].split(","):
            param = _PARAM.match(item)
            if param is None:
                raise FakeSqlError(f"IN lists must hold bind variables only: {text!r}")
            params.append(int(param[1]) - 1)
        return Predicate(match["col"].lower(), "IN", tuple(params))
    raise FakeSqlError(f"unsupported predicate {text!r}: compare a column with bind variables")


def _identifiers(text: str) -> list[str]:
    names = [item.strip() for item in text.split(",")]
    for name in names:
        if not _IDENT.match(name):
            raise FakeSqlError(f"expected a plain column name, got {name!r}")
    return [name.lower() for name in names]
