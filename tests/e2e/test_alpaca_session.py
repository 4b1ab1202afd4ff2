"""A paper session against Alpaca, as a user runs one: `trader run` with TRADER_VENUE=alpaca and
the venue's URLs pointed at the fake (configuration only). The fake plays a synthetic tape as
its market, on a market clock it shares with the trader through the session anchor, and fills
orders at the tape's prices. Afterwards `trader reconcile` finds the ledger and the venue in
line, and the invariants of RELIABILITY.md hold on the venue's ledger."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.fakes.alpaca.tape import TapePump
from tests.fakes.alpaca.trader_process import Rehearsal, last_json, ledger_rows, market, trader
from tests.fakes.alpaca.venue import FakeAlpaca

pytestmark = pytest.mark.e2e


async def test_a_paper_session_against_alpaca_trades_and_reconciles(tmp_path: Path) -> None:
    rehearsal = Rehearsal.start()
    async with FakeAlpaca(clock=rehearsal.clock) as venue:
        env = rehearsal.environment(venue, tmp_path)
        async with market(TapePump(venue, rehearsal.tape, rehearsal.clock)) as pump:
            code, out, err = await trader(env, "run", "--json", "--duration", "50")
        assert code == 0, err[-4000:]
        summary = last_json(out)
        assert pump.prints > 1_000
        assert summary["ticks"] > 1_000, summary
        assert summary["orders"] > 0, summary
        assert summary["fills"] > 0, summary

        code, out, err = await trader(env, "reconcile", "--apply", "--json")
        assert code == 0, err[-4000:]
        code, out, err = await trader(env, "reconcile", "--json")
        assert code == 0, err[-4000:]
        assert last_json(out)["differences"] == []

        _venue_orders_are_the_ledgers(venue, tmp_path)
        _positions_agree(venue, tmp_path)


def _venue_orders_are_the_ledgers(venue: FakeAlpaca, data_dir: Path) -> None:
    """Every order at the venue is one order of the ledger, with the venue's fills booked
    once each under the venue's execution ids."""
    local = {
        coid: Decimal(str(filled))
        for coid, filled in ledger_rows(data_dir, "select client_order_id, filled_qty from orders")
    }
    at_venue = [order for order in venue.ledger.orders.values() if not order.is_leg]
    assert at_venue
    assert len({order.client_order_id for order in at_venue}) == len(at_venue)
    for order in at_venue:
        assert local.get(order.client_order_id) == order.filled_qty, order.client_order_id
    booked = [row[0] for row in ledger_rows(data_dir, "select execution_id from fills")]
    assert sorted(booked) == sorted(e.execution_id for e in venue.ledger.executions)


def _positions_agree(venue: FakeAlpaca, data_dir: Path) -> None:
    held: dict[str, Decimal] = {}
    for symbol, qty in ledger_rows(data_dir, "select symbol, qty from positions"):
        held[symbol] = held.get(symbol, Decimal(0)) + Decimal(str(qty))
    local = {symbol: qty for symbol, qty in held.items() if qty}
    at_venue = {symbol: h.qty for symbol, h in venue.ledger.holdings.items() if h.qty}
    assert local == at_venue
