"""A retaining SimVenue forgets what ended before its window (brackets whole, once every leg
has ended) and keeps everything newer or still working; without retain_ns it keeps it all."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from app.brokers.sim.venue import SimVenue
from app.brokers.sim.venue_config import VenueConfig
from app.domain.ids import SequentialIds
from app.ports.broker import OrderRejected
from tests.unit.brokers.sim_builders import make_order, make_tick

MINUTE_NS = 60_000_000_000
HOUR_NS = 60 * MINUTE_NS


def venue(retain_ns: int | None) -> SimVenue:
    config = VenueConfig(starting_cash=Decimal("1000000"), retain_ns=retain_ns)
    return SimVenue(config, ids=SequentialIds("sim"))


def test_ended_orders_executions_and_refusals_age_out_and_working_ones_stay() -> None:
    v = venue(HOUR_NS)
    v.on_tick(make_tick(1, 10.0))
    v.submit(make_order("filled"), now_ns=2)
    v.on_tick(make_tick(3, 10.0))
    v.submit(make_order("resting", limit="5.00"), now_ns=4)
    with pytest.raises(OrderRejected):
        v.submit(make_order("filled"), now_ns=5)
    assert len(v.ledger.executions) == 1 and len(v.ledger.rejections) == 1

    v.on_tick(make_tick(HOUR_NS + 10 * MINUTE_NS, 10.0))

    assert set(v.ledger.orders) == {"resting"}
    assert not v.ledger.executions and not v.ledger.rejections
    assert v.order("filled") is None and v.order("resting") is not None

    v.cancel("resting", now_ns=HOUR_NS + 20 * MINUTE_NS)  # ends now, though it arrived long ago
    v.on_tick(make_tick(2 * HOUR_NS + 15 * MINUTE_NS, 10.0))
    assert set(v.ledger.orders) == {"resting"}
    v.on_tick(make_tick(2 * HOUR_NS + 25 * MINUTE_NS, 10.0))
    assert set(v.ledger.orders) == set()


def test_a_bracket_is_kept_while_a_leg_works_and_forgotten_whole_after() -> None:
    v = venue(HOUR_NS)
    v.on_tick(make_tick(1, 10.0))
    entry = dataclasses.replace(
        make_order("entry", limit="10.05"),
        take_profit=Decimal("12.00"),
        stop_loss=Decimal("9.00"),
        ref_price=Decimal("10"),
    )
    v.submit(entry, now_ns=2)
    v.on_tick(make_tick(3, 10.0))
    legs = set(v.ledger.orders) - {"entry"}
    assert len(legs) == 2

    v.on_tick(make_tick(2 * HOUR_NS, 10.0))
    assert set(v.ledger.orders) == {"entry", *legs}  # legs still working

    v.on_tick(make_tick(2 * HOUR_NS + 1, 12.5))  # the take-profit fills, the stop is canceled
    v.on_tick(make_tick(3 * HOUR_NS + 2 * MINUTE_NS, 12.5))
    assert set(v.ledger.orders) == set()


def test_without_retention_everything_is_kept() -> None:
    v = venue(None)
    v.on_tick(make_tick(1, 10.0))
    v.submit(make_order("filled"), now_ns=2)
    v.on_tick(make_tick(30 * 24 * HOUR_NS, 10.0))
    assert set(v.ledger.orders) == {"filled"} and len(v.ledger.executions) == 1
