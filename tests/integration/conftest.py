from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from app.brokers.alpaca.broker import AlpacaBroker
from tests.builders import OPEN_NS
from tests.fakes.alpaca.harness import make_broker
from tests.fakes.alpaca.manual_clock import ManualClock
from tests.fakes.alpaca.venue import FakeAlpaca
from tests.integration.postgres import temporary_database


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped when it ends."""
    async with temporary_database() as url:
        yield url


# The Alpaca adapter's tests: a manual market clock, the fake venue with ABC at $10.00, and a
# started broker on it (a module that needs other settings defines its own).
@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(OPEN_NS)


@pytest.fixture
async def venue(clock: ManualClock) -> AsyncIterator[FakeAlpaca]:
    async with FakeAlpaca(clock=clock) as fake:
        fake.ledger.set_price("ABC", Decimal("10.00"))
        yield fake


@pytest.fixture
async def broker(venue: FakeAlpaca, clock: ManualClock) -> AsyncIterator[AlpacaBroker]:
    async with make_broker(venue, clock) as started:
        yield started
