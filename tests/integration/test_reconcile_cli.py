"""`trader reconcile` on a SQLite ledger in a temporary data dir, against the simulated venue.

The simulated venue is built afresh from the ledger, as at startup: it holds the ledger's lots
but knows none of its orders, so a working order in the ledger is a difference to settle.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import pytest
import typer
from typer.testing import CliRunner, Result

from app.cli.reconcile import reconcile
from app.domain.order import Order, OrderStatus
from app.engine.portfolio import Portfolio
from app.persistence.lease import SqlLease
from app.persistence.ledger import SqlLedger
from app.persistence.migrate import upgrade
from app.settings import Settings
from tests.builders import fill, order

T = TypeVar("T")


@pytest.fixture
def ledger_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TRADER_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("TRADER_DATABASE_URL", raising=False)
    monkeypatch.setenv("TRADER_VENUE", "sim")
    monkeypatch.setenv("COLUMNS", "250")
    url = Settings().ledger_url
    asyncio.run(upgrade(url))
    asyncio.run(_on_ledger(url, _held_and_working))
    return url


async def _on_ledger(url: str, action: Callable[[SqlLedger], Awaitable[T]]) -> T:
    ledger = SqlLedger(url)
    await ledger.start()
    try:
        return await action(ledger)
    finally:
        await ledger.close()


async def _held_and_working(ledger: SqlLedger) -> None:
    """A filled entry (a lot the venue is seeded with) and a working order it never saw."""
    filled = replace(order("o-1"), status=OrderStatus.ACCEPTED)
    working = replace(order("o-2", symbol="XYZ"), status=OrderStatus.ACCEPTED)
    assert await ledger.insert_order(filled)
    assert await ledger.insert_order(working)
    fx = Portfolio(starting_cash=Decimal("100000")).preview_fill(fill("e-1"), filled)
    assert await ledger.book_fill(
        fx.fill, order=fx.order, lot=fx.lot, position=fx.position, trade=fx.trade
    )


def _stored(url: str, coid: str) -> Order:
    found = asyncio.run(_on_ledger(url, lambda ledger: ledger.get_order(coid)))
    assert found is not None
    return found


def cli(*args: str) -> Result:
    app = typer.Typer()
    app.command()(reconcile)
    return CliRunner().invoke(app, list(args))


def test_without_apply_it_reports_and_changes_nothing(ledger_url: str) -> None:
    shown = cli()
    assert shown.exit_code == 0, shown.output
    for expected in ("not_at_venue", "XYZ", "o-2: accepted 0/100", "set canceled", "dry run"):
        assert expected in shown.stdout
    assert "ABC" not in shown.stdout  # the lot and the venue's position agree
    assert _stored(ledger_url, "o-2").status is OrderStatus.ACCEPTED

    as_json = cli("--json")
    assert as_json.exit_code == 0, as_json.output
    report = json.loads(as_json.stdout)
    assert report["applied"] is False
    assert report["actions"] == []
    [difference] = report["differences"]
    assert (difference["kind"], difference["client_order_id"], difference["target"]) == (
        "not_at_venue",
        "o-2",
        "canceled",
    )


def test_apply_is_refused_while_an_executor_holds_the_lease(ledger_url: str) -> None:
    async def hold() -> int | None:
        lease = SqlLease(ledger_url)
        await lease.start()
        try:
            return await lease.acquire(holder="executor-7", ttl_ms=600_000)
        finally:
            await lease.close()

    assert asyncio.run(hold()) is not None
    refused = cli("--apply")
    assert refused.exit_code == 1
    assert "executor-7 holds the execution lease" in refused.stderr
    assert _stored(ledger_url, "o-2").status is OrderStatus.ACCEPTED


def test_apply_settles_the_difference_once(ledger_url: str) -> None:
    applied = cli("--apply", "--json")
    assert applied.exit_code == 0, applied.output
    report = json.loads(applied.stdout)
    assert report["applied"] is True
    assert report["actions"] == ["o-2: accepted -> canceled (not at the venue)"]
    assert _stored(ledger_url, "o-2").status is OrderStatus.CANCELED
    again = cli("--apply")
    assert again.exit_code == 0, again.output
    assert "ledger and venue agree" in again.stdout
