"""Venue faults under a real `trader run` against the fake Alpaca (S15, S16, S17 of
RELIABILITY.md): the venue fails every order, storms the streams with drops, refusals and
"connection limit exceeded", and diverges from the ledger while the trader is down. Each test
steers the fake while the process runs, then checks the scenario's numbers and the invariants
of tests/chaos/venue_invariants.py on the venue's ledger and the trader's.

The market clock runs at the rehearsal's 30x, and what the trader reads on it (breaker
cool-down, order TTL, holding time) is in market seconds: a 120 s cool-down is 4 s of wall
time. A rule strategy that enters every symbol it does not hold at each bar keeps orders
flowing. Before a run is stopped the tape is stopped too, so the books can be compared at
rest; the router only sees the stop at its next batch, so that drain takes its full 15 s.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from decimal import Decimal
from itertools import pairwise
from pathlib import Path

import pytest

from app.ports.risk_state import GLOBAL, HaltKind
from tests.chaos.trader_run import PROBE_RULE, add_probe_rule, rows, running_trader, wall_ns
from tests.chaos.venue_invariants import (
    StatusWatch,
    assert_fills_booked_once,
    assert_invariants,
    assert_no_duplicates,
    assert_orders_linked,
    assert_signals_decided,
    linked,
    venue_orders,
)
from tests.fakes.alpaca.ledger import Holding
from tests.fakes.alpaca.rest import Fault, HttpRequest
from tests.fakes.alpaca.tape import TapePump
from tests.fakes.alpaca.trader_process import Rehearsal, last_json, market, trader
from tests.fakes.alpaca.venue import FakeAlpaca
from tests.fakes.alpaca.ws_server import FakeWsServer
from tests.redis_harness import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

SECOND = 1_000_000_000
ORDERS = "/v2/orders"
SETTLE_WITHIN_S = 20

# S15: 3 failures open the breaker; at least 3 probes fail before the venue recovers
FAILURES = 3
COOLDOWN_S = 120
PROBES = 3
RESUMED = 3
RATE_LIMIT = 60
RATE_RESERVE = 10
OUTAGE_FAULTS = 1_000


async def test_s15_the_breaker_probes_once_per_cooldown_and_the_budget_holds(
    tmp_path: Path,
) -> None:
    """Every order request fails with 503 (nothing placed) until the venue recovers. The
    budget is cut to 60 a minute, 10 of them kept for orders: the account poll alone (one a
    second) wants more than the other 50, so the run goes on until a minute has used them
    all, and no rolling minute may then hold more than 60 requests at the venue."""
    rehearsal = Rehearsal.start(symbols=3)
    async with FakeAlpaca(clock=rehearsal.clock) as venue, StatusWatch(tmp_path) as watch:
        env = rehearsal.environment(
            venue,
            tmp_path,
            TRADER_LOG_FORMAT="json",
            TRADER_RISK__BROKER_BREAKER_FAILURES=str(FAILURES),
            TRADER_RISK__BROKER_BREAKER_COOLDOWN_S=str(COOLDOWN_S),
            TRADER_RISK__LOSS_STREAK="0",
            TRADER_ALPACA__RATE_LIMIT_PER_MIN=str(RATE_LIMIT),
            TRADER_ALPACA__RATE_LIMIT_RESERVE=str(RATE_RESERVE),
        )
        await add_probe_rule(env, tmp_path, interval_s=60, hold_s=240)

        def busiest() -> int:
            return _busiest_minute([wall_ns(rehearsal, r.at_ns) for r in venue.rest.requests])

        outage = Fault("status", status=503, after_apply=False, method="POST", path=ORDERS)
        venue.rest.inject(outage, times=OUTAGE_FAULTS)
        async with running_trader(env) as run:
            async with market(_pump(venue, rehearsal)):
                await eventually(
                    lambda: len(_posts(venue.rest.requests)) >= FAILURES + PROBES,
                    timeout_s=60,
                    what="the failures that open the breaker, then its probes",
                )
                venue.rest.clear_faults()
                recovered_ns = rehearsal.clock.now_ns()
                await eventually(
                    lambda: len(venue.ledger.orders) >= RESUMED,
                    timeout_s=40,
                    what="orders placed again after the recovery",
                )
            await _settled(venue, tmp_path)
            await eventually(
                lambda: busiest() >= RATE_LIMIT - RATE_RESERVE,
                timeout_s=60,
                what="a minute that used the whole query budget",
            )
            await run.stop()
        assert run.code == 0, run.err[-4000:]

        posts = _posts(venue.rest.requests)
        failed = [r.at_ns for r in posts if r.at_ns < recovered_ns]
        placed = [r for r in posts if r.at_ns >= recovered_ns]
        assert len(failed) >= FAILURES + PROBES
        opening = [e["event"] for e in run.events][: _first(run.events, "broker_breaker_changed")]
        assert opening.count("order_submit_ambiguous") == FAILURES
        states = [e["state"] for e in run.named("broker_breaker_changed")]
        assert states == ["open"] * (len(failed) - FAILURES + 1) + ["closed"]
        probes = [*failed[FAILURES - 1 :], placed[0].at_ns]
        assert min(b - a for a, b in pairwise(probes)) >= COOLDOWN_S * SECOND
        placed_ids = {json.loads(r.body)["client_order_id"] for r in placed}
        assert placed_ids == {o.client_order_id for o in venue_orders(venue)}
        assert len(placed_ids) >= RESUMED
        refused = await rows(
            tmp_path,
            "select count(*) from signals where decision_reason = 'broker failure breaker is open'",
        )
        assert refused[0][0] >= PROBES
        assert await rows(tmp_path, "select state, failures from breakers") == [("closed", 0)]

        assert busiest() <= RATE_LIMIT
        _assert_sent_once(venue)
        assert_invariants(venue, tmp_path, watch)


def _first(events: list[dict[str, object]], name: str) -> int:
    return next(i for i, e in enumerate(events) if e.get("event") == name)


def _busiest_minute(wall: list[int]) -> int:
    """The most requests in any rolling minute (t - 60 s, t]."""
    ordered = sorted(wall)
    first, busiest = 0, 0
    for last, at in enumerate(ordered):
        while ordered[first] <= at - 60 * SECOND:
            first += 1
        busiest = max(busiest, last - first + 1)
    return busiest


# S16: each phase drops both streams and waits for their return
CLOSE_AFTER_S = 2.0
STORM_RECONNECTS = 3
REFUSALS = 3
LIMITED = 2
RECONCILED_WITHIN_S = 10


async def test_s16_a_reconnect_storm_is_ridden_out_one_connection_at_a_time(
    tmp_path: Path,
) -> None:
    """Both streams: every connection closed after 2 s, then upgrades refused, then
    "connection limit exceeded"; trading goes on throughout, so fills are missed in the gaps.
    (The full-jitter draws themselves are checked against a seeded source in
    tests/integration/test_alpaca_feed.py; a `trader run` draws from the OS. The same storm
    at the fake TWS: tests/chaos/test_ib_reconnect_storm.py.)"""
    rehearsal = Rehearsal.start(symbols=6)
    symbols = sorted(rehearsal.tape.symbols)
    async with FakeAlpaca(clock=rehearsal.clock) as venue, StatusWatch(tmp_path) as watch:
        data, trade = venue.data_stream, venue.trade_stream
        servers = (data, trade)
        env = rehearsal.environment(
            venue, tmp_path, TRADER_LOG_FORMAT="json", TRADER_RISK__LOSS_STREAK="0"
        )
        await add_probe_rule(env, tmp_path, interval_s=60, hold_s=120)
        async with running_trader(env) as run:
            async with market(_pump(venue, rehearsal)):
                await eventually(
                    lambda: venue.ledger.executions, timeout_s=40, what="trading under way"
                )
                for server in servers:
                    server.close_after_s = CLOSE_AFTER_S
                await _storm_phase(
                    servers, reconnects=STORM_RECONNECTS, what="back after every close"
                )
                for server in servers:
                    server.refuse_next = REFUSALS
                await _storm_phase(servers, what="back after refused upgrades")
                data.limit_exceeded_next = trade.limit_exceeded_next = LIMITED
                await _storm_phase(servers, what="back after connection limit exceeded")
            await _settled(venue, tmp_path)
            await run.stop()
        assert run.code == 0, run.err[-4000:]

        for server in servers:
            assert server.max_concurrent == 1
            assert server.refused == REFUSALS
            assert sum(1 for c in server.connections if not c.subscription_acks) == LIMITED
        acks = [c.subscription_acks for c in data.connections if c.subscription_acks]
        assert acks == [[{"trades": symbols, "quotes": symbols}]] * len(acks)
        listening = [c.subscription_acks for c in trade.connections if c.subscription_acks]
        assert listening == [[{"streams": ["trade_updates"]}]] * len(listening)

        gaps = run.named("venue_stream_gap")
        for stream, server in (("market_data", data), ("trade_updates", trade)):
            assert sum(1 for g in gaps if g["stream"] == stream) == _established(server) - 1
        listings = [r.at_ns for r in venue.rest.requests if (r.method, r.path) == ("GET", ORDERS)]
        within_ns = int(RECONCILED_WITHIN_S * rehearsal.speed * SECOND)
        for gap in gaps:
            assert any(gap["to_ns"] <= at <= gap["to_ns"] + within_ns for at in listings), gap
        _assert_sent_once(venue)
        assert_invariants(venue, tmp_path, watch)


def _established(server: FakeWsServer) -> int:
    """Connections that got through the handshake (a subscription or listening answer)."""
    return sum(1 for c in server.connections if c.subscription_acks)


async def _storm_phase(
    servers: tuple[FakeWsServer, ...], *, what: str, reconnects: int = 1
) -> None:
    """Drop every connection, wait until each server has had its client back `reconnects`
    times, then until each has a connection that carries data again: the client's backoff
    starts afresh only after a connection delivered data, so the next phase starts from
    there (trade_updates carries data only when orders trade)."""
    before = [_established(s) for s in servers]
    for server in servers:
        await server.drop_all()
    await eventually(
        lambda: all(
            _established(s) >= n + reconnects for s, n in zip(servers, before, strict=True)
        ),
        timeout_s=40,
        what=what,
    )
    for server in servers:
        server.close_after_s = None
    await eventually(
        lambda: all(any(c.is_open and c.data_frames for c in s.connections) for s in servers),
        timeout_s=40,
        what=f"data flowing, {what}",
    )


# S17: what the venue holds that the ledger cannot explain
UNKNOWN_SYMBOL = "ZZQX"
UNKNOWN_QTY = Decimal(50)
EXTRA_QTY = Decimal(7)
BOOKS = ("orders", "fills", "lots", "positions", "halts", "audit_log")


async def test_s17_a_divergent_venue_is_reconciled_before_trading_and_halts_the_rest(
    tmp_path: Path,
) -> None:
    """A first session trades; its last fills go unreported (a silent trade stream) and its
    last orders are left working; while it is down the venue diverges; the second session
    starts against that venue."""
    rehearsal = Rehearsal.start(symbols=6)
    async with FakeAlpaca(clock=rehearsal.clock) as venue, StatusWatch(tmp_path) as watch:
        env = rehearsal.environment(
            venue,
            tmp_path,
            TRADER_LOG_FORMAT="json",
            TRADER_LOG_LEVEL="info",
            TRADER_RISK__LOSS_STREAK="0",
            TRADER_ORDER_TTL_S="36000",
        )
        await add_probe_rule(env, tmp_path, interval_s=60, hold_s=120)
        ledger = venue.ledger
        async with running_trader(env) as first, market(_pump(venue, rehearsal)):
            await eventually(
                lambda: sum(1 for h in ledger.holdings.values() if h.qty) >= 2,
                timeout_s=40,
                what="positions held",
            )
            venue.trade_stream.silent = True
            heard = len(ledger.executions)
            await eventually(
                lambda: len(ledger.executions) > heard, timeout_s=20, what="an unreported fill"
            )
            ledger.hold_fills = True
            await eventually(
                lambda: any(o.is_open for o in ledger.orders.values()),
                timeout_s=20,
                what="an order left working",
            )
            await first.stop()
        assert first.code == 0, first.err[-4000:]
        mismatch = _diverge_while_down(venue)
        venue.trade_stream.silent = False

        restart = len(venue.rest.requests)
        sent_before = len(_posts(venue.rest.requests))
        async with running_trader(env) as second, market(_pump(venue, rehearsal)):
            await eventually(
                lambda: len(_posts(venue.rest.requests)) > sent_before,
                timeout_s=30,
                what="an order after the restart",
            )
            await second.stop()
        assert second.code == 0, second.err[-4000:]

        session = venue.rest.requests[restart:]
        first_post = next(i for i, r in enumerate(session) if _is_post(r))
        before = [(r.method, r.path) for r in session[:first_post]]
        assert ("GET", ORDERS) in before
        assert before.count(("GET", "/v2/positions")) >= 2
        reconciled = second.named("reconciled")[0]
        assert all(
            _iso_ns(reconciled["timestamp"]) < wall_ns(rehearsal, r.at_ns) for r in _posts(session)
        )
        assert {json.loads(r.body)["side"] for r in _posts(session)} == {"sell"}
        flagged = {e["symbol"] for e in second.named("reconciliation_unexplained")}
        assert flagged == {mismatch, UNKNOWN_SYMBOL}

        code, out, err = await trader(env, "reconcile", "--apply", "--json")
        assert code == 0, err[-4000:]
        settled = await _snapshot(tmp_path)
        code, out, err = await trader(env, "reconcile", "--apply", "--json")
        assert code == 0, err[-4000:]
        again = last_json(out)
        assert again["actions"] == []
        assert {d["action"] for d in again["differences"]} == {"already_halted"}
        assert await _snapshot(tmp_path) == settled

        halts = await rows(tmp_path, "select scope, kind, reason from halts")
        assert {(scope, kind) for scope, kind, _ in halts} == {
            (GLOBAL, HaltKind.UNEXPLAINED.value),
            (PROBE_RULE, HaltKind.UNEXPLAINED.value),
        }
        for symbol in (mismatch, UNKNOWN_SYMBOL):
            assert any(symbol in reason for _, _, reason in halts), symbol
        assert await _position_gaps(venue, tmp_path) == {
            mismatch: EXTRA_QTY,
            UNKNOWN_SYMBOL: UNKNOWN_QTY,
        }
        _assert_sent_once(venue)
        assert_no_duplicates(venue)
        assert_orders_linked(venue, tmp_path)
        assert_fills_booked_once(venue, tmp_path)
        assert_signals_decided(tmp_path)
    watch.assert_never_backwards()


def _diverge_while_down(venue: FakeAlpaca) -> str:
    """What happens at the venue while the trader is down: the orders left working fill (at
    their limit, if they have one), an unknown position appears, and one held position grows
    by shares nobody ordered. Returns the symbol of that quantity mismatch."""
    ledger = venue.ledger
    ledger.hold_fills = False
    working = [o for o in ledger.orders.values() if o.is_open and not o.is_leg]
    for order in working:
        ledger.set_price(order.symbol, order.limit_price or ledger.prices[order.symbol])
    assert working and not any(o.is_open for o in working)
    mismatch = min(s for s, h in ledger.holdings.items() if h.qty > 0)
    holding = ledger.holdings[mismatch]
    holding.cost += EXTRA_QTY * holding.avg_price
    holding.qty += EXTRA_QTY
    ledger.holdings[UNKNOWN_SYMBOL] = Holding(qty=UNKNOWN_QTY, cost=UNKNOWN_QTY * Decimal(20))
    return mismatch


async def _snapshot(data_dir: Path) -> dict[str, list[tuple[object, ...]]]:
    return {
        table: sorted(await rows(data_dir, f"select * from {table}"), key=repr) for table in BOOKS
    }


def _iso_ns(stamp: str) -> int:
    """A log line's timestamp (ISO 8601, UTC) in wall-clock ns."""
    moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return int(moment.timestamp()) * SECOND + moment.microsecond * 1_000


# shared ------------------------------------------------------------------------------------
def _pump(venue: FakeAlpaca, rehearsal: Rehearsal) -> TapePump:
    return TapePump(venue, rehearsal.tape, rehearsal.clock)


def _is_post(request: HttpRequest) -> bool:
    return (request.method, request.path) == ("POST", ORDERS)


def _posts(requests: list[HttpRequest]) -> list[HttpRequest]:
    return [r for r in requests if _is_post(r)]


def _assert_sent_once(venue: FakeAlpaca) -> None:
    """No client_order_id was sent twice, not even one the venue never took: an ambiguous
    submit is resolved by lookup, never by sending it again."""
    sent = [json.loads(r.body)["client_order_id"] for r in _posts(venue.rest.requests)]
    assert len(sent) == len(set(sent)), "a client_order_id was sent twice"


async def _position_gaps(venue: FakeAlpaca, data_dir: Path) -> dict[str, Decimal]:
    """Per symbol, the venue's position minus the ledger's, where they differ."""
    gaps = {symbol: h.qty for symbol, h in venue.ledger.holdings.items() if h.qty}
    for symbol, qty in await rows(data_dir, "select symbol, qty from positions"):
        gaps[symbol] = gaps.get(symbol, Decimal(0)) - Decimal(str(qty))
    return {symbol: qty for symbol, qty in gaps.items() if qty}


async def _settled(venue: FakeAlpaca, data_dir: Path) -> None:
    """With the tape stopped, the running trader's books come into line with the venue's:
    reports and reconciliation have caught up with everything the fault made it miss."""

    async def in_line() -> bool:
        orders = venue_orders(venue)
        return not await _position_gaps(venue, data_dir) and await asyncio.to_thread(
            linked, venue, data_dir, orders
        )

    await eventually(in_line, timeout_s=SETTLE_WITHIN_S, what="the ledger in line with the venue")
