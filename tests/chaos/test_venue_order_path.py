"""S1-S4 of RELIABILITY.md at process level: a real `trader run` (TRADER_VENUE=alpaca, its URLs
pointed at an in-test FakeAlpaca playing a synthetic tape) killed, restarted and lied to while
it trades, then the invariants checked on the venue's ledger and the trader's
(tests/chaos/venue_invariants.py).

The tape plays at 60 market seconds per second, so the strategies' first entries come some
20 s after start; every wait is on a condition with a generous bound, and the only times
asserted are the ones RELIABILITY.md sets. Each scenario ends as an operator would: the trader
stopped, `trader reconcile --apply`, and a second `trader reconcile` that finds nothing left.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from app.domain.order import OrderStatus
from tests.chaos.venue_invariants import (
    PENDING,
    StatusWatch,
    assert_costs_agree,
    assert_invariants,
    ledger_orders,
    linked,
    venue_orders,
)
from tests.fakes.alpaca.ledger import FakeOrder, Json
from tests.fakes.alpaca.rest import Fault, HttpRequest
from tests.fakes.alpaca.tape import TapePump
from tests.fakes.alpaca.trader_process import Rehearsal, last_json, market, spawn, trader
from tests.fakes.alpaca.venue import FakeAlpaca
from tests.redis_harness import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

SPEED = 60.0
TEST_BOUND_S = 85  # each scenario takes 30-40 s here
RUN_AT_MOST_S = "120"  # a trader left behind by an interrupted test stops by itself
FIRST_ORDER_WITHIN_S = 45  # the first entries come ~20 s after start; a loaded machine is slower
STOP_WITHIN_S = 30
LINKED_WITHIN_S = 10  # S1
NONE_PENDING_WITHIN_S = 30  # S2
RESOLVED_WITHIN_S = 10  # S3
ORDERS = "/v2/orders"
LOOKUP = "/v2/orders:by_client_order_id"
# the venue takes the order, then answers late, with a 502, or with a reset connection (S3)
AMBIGUOUS = (
    Fault("delay", delay_s=10, method="POST", path=ORDERS),
    Fault("status", status=502, method="POST", path=ORDERS),
    Fault("reset", method="POST", path=ORDERS),
)


class Trader:
    """A `trader run` process whose output is read all along (a full pipe would stall it)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self._output = asyncio.create_task(process.communicate())

    def kill(self) -> None:
        """SIGKILL now: callable from a venue listener, in the middle of a request."""
        if self.process.returncode is None:
            self.process.kill()

    async def ended(self, timeout_s: float = STOP_WITHIN_S) -> tuple[int, str, str]:
        out, err = await asyncio.wait_for(asyncio.shield(self._output), timeout_s)
        assert self.process.returncode is not None
        return self.process.returncode, out.decode(), err.decode()

    async def stop(self) -> tuple[int, str, str]:
        """SIGTERM, as an orchestrator stops it: it drains and prints its summary."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await self.ended()


@contextlib.asynccontextmanager
async def running(env: dict[str, str]) -> AsyncIterator[Trader]:
    """`trader run --json` until the block ends; killed if it is still running then. Its log
    is left in the data dir (trader-PID.log), which pytest keeps, for a failure's post-mortem."""
    started = Trader(await spawn(env, "run", "--json", "--duration", RUN_AT_MOST_S))
    try:
        yield started
    finally:
        started.kill()
        _, _, err = await started.ended()
        log = Path(env["TRADER_DATA_DIR"]) / f"trader-{started.process.pid}.log"
        log.write_text(err)


async def reconciled(env: dict[str, str]) -> None:
    """`trader reconcile --apply`, then a dry run that finds ledger and venue in line."""
    code, _, err = await trader(env, "reconcile", "--apply", "--json")
    assert code == 0, err[-4000:]
    code, out, err = await trader(env, "reconcile", "--json")
    assert code == 0, err[-4000:]
    assert last_json(out)["differences"] == []


def posted(request: HttpRequest) -> str | None:
    """The client_order_id of an order request (None for any other request)."""
    if request.method != "POST" or request.path != ORDERS:
        return None
    return str(json.loads(request.body)["client_order_id"])


def sent(venue: FakeAlpaca) -> list[str]:
    """The client_order_id of every order request the venue got, taken or not, in turn."""
    return [coid for coid in map(posted, venue.rest.requests) if coid is not None]


def looked_up(request: HttpRequest) -> str | None:
    return request.param("client_order_id") if request.path == LOOKUP else None


def still_pending(data_dir: Path) -> set[str]:
    return {coid for coid, (status, _) in ledger_orders(data_dir).items() if status in PENDING}


def filled(venue: FakeAlpaca) -> list[FakeOrder]:
    return [order for order in venue_orders(venue) if order.status == "filled"]


async def test_s1_killed_when_the_venue_took_its_order_links_it_once_on_restart(
    tmp_path: Path,
) -> None:
    """The consumer dies (kill -9) the moment the venue registers its first order, before the
    answer reaches it: the ledger holds the intent only. Restarted, it links every venue order
    to its one ledger row, in the venue's state, within 10 s, and sends nothing twice."""
    rehearsal = Rehearsal.start(speed=SPEED)
    async with (
        asyncio.timeout(TEST_BOUND_S),
        FakeAlpaca(clock=rehearsal.clock) as venue,
        StatusWatch(tmp_path) as watch,
    ):
        env = rehearsal.environment(venue, tmp_path)
        async with market(TapePump(venue, rehearsal.tape, rehearsal.clock)):
            async with running(env) as first:
                taken: list[str] = []

                def kill_on_first_order(event: Json) -> None:
                    if event["event"] == "new" and not taken:
                        taken.append(event["order"]["client_order_id"])
                        first.kill()

                venue.ledger.listeners.append(kill_on_first_order)
                await eventually(
                    lambda: taken, timeout_s=FIRST_ORDER_WITHIN_S, what="a first order"
                )
                code, _, _ = await first.ended()
            assert code == -signal.SIGKILL
            assert ledger_orders(tmp_path)[taken[0]][0] is OrderStatus.PENDING_NEW
            at_restart = venue_orders(venue)

            async with running(env) as second:
                await eventually(
                    lambda: linked(venue, tmp_path, at_restart),
                    timeout_s=LINKED_WITHIN_S,
                    what="every venue order linked after the restart",
                )
                await eventually(
                    lambda: len(venue_orders(venue)) > len(at_restart),
                    timeout_s=FIRST_ORDER_WITHIN_S,
                    what="an order after the restart",
                )
                code, _, err = await second.stop()
            assert code == 0, err[-4000:]
        await reconciled(env)
        assert sent(venue).count(taken[0]) == 1
        assert_invariants(venue, tmp_path, watch)


@pytest.mark.parametrize(
    ("ttl_s", "resubmitted"), [("3600", True), ("30", False)], ids=["submitted", "expired"]
)
async def test_s2_killed_before_the_venue_took_its_order_submits_or_expires_each_intent_once(
    tmp_path: Path, ttl_s: str, resubmitted: bool
) -> None:
    """The venue holds the first order's request without taking it, and the trader is killed
    then: its intent is committed, the venue never had it. Restarted, every intent pending at
    the kill is looked up by client_order_id first, then sent once (its TTL, in market time,
    not yet over) or expired; none is left pending after 30 s."""
    rehearsal = Rehearsal.start(speed=SPEED)
    async with (
        asyncio.timeout(TEST_BOUND_S),
        FakeAlpaca(clock=rehearsal.clock) as venue,
        StatusWatch(tmp_path) as watch,
    ):
        env = rehearsal.environment(venue, tmp_path, TRADER_ORDER_TTL_S=ttl_s)
        venue.rest.inject(Fault("delay", delay_s=5, after_apply=False, method="POST", path=ORDERS))
        async with market(TapePump(venue, rehearsal.tape, rehearsal.clock)):
            async with running(env) as first:
                await eventually(
                    lambda: sent(venue), timeout_s=FIRST_ORDER_WITHIN_S, what="an order"
                )
                first.kill()
                code, _, _ = await first.ended()
            assert code == -signal.SIGKILL
            held = sent(venue)[0]
            assert venue.ledger.order_by_client_id(held) is None
            pending = still_pending(tmp_path)
            assert held in pending
            restart = len(venue.rest.requests)

            async with running(env) as second:
                await eventually(
                    lambda: not pending & still_pending(tmp_path),
                    timeout_s=NONE_PENDING_WITHIN_S,
                    what="every intent of the killed trader resolved",
                )
                code, _, err = await second.stop()
            assert code == 0, err[-4000:]
        after = venue.rest.requests[restart:]
        for coid in pending:
            lookups = [i for i, r in enumerate(after) if looked_up(r) == coid]
            posts = [i for i, r in enumerate(after) if posted(r) == coid]
            assert lookups and all(lookups[0] < i for i in posts), coid
            assert len(posts) <= 1, coid
        assert (venue.ledger.order_by_client_id(held) is not None) is resubmitted
        if not resubmitted:
            assert ledger_orders(tmp_path)[held][0] is OrderStatus.EXPIRED
        await reconciled(env)
        assert_invariants(venue, tmp_path, watch)


async def test_s3_an_order_the_venue_took_without_saying_so_is_unknown_then_found(
    tmp_path: Path,
) -> None:
    """The venue takes each of the first three orders but answers late (10 s), with a 502, or
    by resetting the connection, and its trade stream lags behind (paused until all three are
    settled), as do its lookups (half a second each, so the UNKNOWN the ledger holds meanwhile
    lasts long enough for polling to see). Each order goes to UNKNOWN, never REJECTED; it is
    resolved by looking it up (the stream being paused, nothing else can) within 10 s, and is
    never sent twice."""
    rehearsal = Rehearsal.start(speed=SPEED)
    async with (
        asyncio.timeout(TEST_BOUND_S),
        FakeAlpaca(clock=rehearsal.clock) as venue,
        StatusWatch(tmp_path) as watch,
    ):
        env = rehearsal.environment(venue, tmp_path)
        for fault in AMBIGUOUS:
            venue.rest.inject(fault)
        venue.rest.inject(Fault("delay", delay_s=0.5, method="GET", path=LOOKUP), times=100)
        venue.trade_stream.pause()
        async with market(TapePump(venue, rehearsal.tape, rehearsal.clock)):
            async with running(env) as running_trader:
                await eventually(
                    lambda: len(sent(venue)) >= len(AMBIGUOUS),
                    timeout_s=FIRST_ORDER_WITHIN_S,
                    what="three orders",
                )
                ambiguous = sent(venue)[: len(AMBIGUOUS)]
                await eventually(
                    lambda: all(watch.left_at(coid, OrderStatus.UNKNOWN) for coid in ambiguous),
                    timeout_s=FIRST_ORDER_WITHIN_S,
                    what="the ambiguous orders through UNKNOWN and out of it",
                )
                venue.rest.clear_faults()
                venue.trade_stream.resume()
                await eventually(
                    lambda: linked(venue, tmp_path, venue_orders(venue)),
                    timeout_s=STOP_WITHIN_S,
                    what="the stream's reports booked",
                )
                code, _, err = await running_trader.stop()
            assert code == 0, err[-4000:]
        for coid in ambiguous:
            statuses = watch.statuses(coid)
            assert OrderStatus.REJECTED not in statuses, (coid, statuses)
            unknown_at = watch.first_seen(coid, OrderStatus.UNKNOWN)
            resolved_at = watch.left_at(coid, OrderStatus.UNKNOWN)
            assert unknown_at is not None and resolved_at is not None
            assert resolved_at - unknown_at <= RESOLVED_WITHIN_S, (coid, statuses)
            assert any(looked_up(r) == coid for r in venue.rest.requests), coid
            assert sent(venue).count(coid) == 1, coid
            assert venue.ledger.order_by_client_id(coid) is not None
        await reconciled(env)
        assert_invariants(venue, tmp_path, watch)


async def test_s4_fills_before_acks_replayed_on_reconnect_and_reconciled_are_booked_once(
    tmp_path: Path,
) -> None:
    """The venue sends fills (in parts) before the order's ack; the trade stream is dropped and
    every past fill comes again on the reconnect, then once more on the live connection, and
    `trader reconcile --apply` goes over them again. Each execution is booked once, and the
    ledger's positions, average costs and realized P&L are the venue's."""
    rehearsal = Rehearsal.start(speed=SPEED)
    async with (
        asyncio.timeout(TEST_BOUND_S),
        FakeAlpaca(clock=rehearsal.clock) as venue,
        StatusWatch(tmp_path) as watch,
    ):
        env = rehearsal.environment(venue, tmp_path)
        venue.ledger.fill_before_ack = True
        venue.ledger.max_fill_qty = Decimal("400")
        venue.trade_stream.replay_on_listen = True
        async with market(TapePump(venue, rehearsal.tape, rehearsal.clock)):
            async with running(env) as running_trader:
                await eventually(
                    lambda: len(filled(venue)) >= 2 and linked(venue, tmp_path, filled(venue)),
                    timeout_s=FIRST_ORDER_WITHIN_S,
                    what="two orders filled and booked",
                )
                before = len(venue.trade_stream.connections)
                await venue.trade_stream.drop_all()
                await eventually(
                    lambda: any(
                        c.subscription_acks and c.is_open
                        for c in venue.trade_stream.connections[before:]
                    ),
                    timeout_s=STOP_WITHIN_S,
                    what="the trade stream back",
                )
                venue.trade_stream.replay_fills()
                executions = len(venue.ledger.executions)
                await eventually(
                    lambda: any(e.side == "sell" for e in venue.ledger.executions[executions:]),
                    timeout_s=FIRST_ORDER_WITHIN_S,
                    what="a position closed at the venue after the reconnect",
                )
                code, _, err = await running_trader.stop()
            assert code == 0, err[-4000:]
        await reconciled(env)
        assert_invariants(venue, tmp_path, watch)
        assert_costs_agree(venue, tmp_path)
