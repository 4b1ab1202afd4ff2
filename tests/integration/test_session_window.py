"""The simulated session a paper run trades: from the open, or from where the ledger stopped,
to the close, or TRADER_SYNTHETIC__MINUTES of market time after its start."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from app.bootstrap.runtime import ConfigurationError
from app.bootstrap.session import SessionWindow, market_clock, venue_clock
from app.domain.calendar import session_close_ns
from app.persistence.ledger import SqlLedger
from app.persistence.migrate import upgrade
from app.settings import Settings, SyntheticSettings
from tests.builders import MINUTE, OPEN_NS, order

DAY = dt.date(2026, 11, 20)
CLOSE_NS = session_close_ns(DAY)


async def _window(tmp_path: Path, *, minutes: int | None, resume_at: int | None) -> SessionWindow:
    settings = Settings(
        data_dir=tmp_path,
        database_url=None,
        synthetic=SyntheticSettings(session_date=DAY.isoformat(), minutes=minutes),
    )
    await upgrade(settings.ledger_url)
    ledger = SqlLedger(settings.ledger_url)
    await ledger.start()
    try:
        if resume_at is not None:
            await ledger.insert_order(dataclasses.replace(order(), updated_ns=resume_at))
        _, window = await market_clock(settings, ledger)
    finally:
        await ledger.close()
    return window


async def test_a_fresh_account_runs_from_the_open_to_the_close(tmp_path: Path) -> None:
    window = await _window(tmp_path, minutes=None, resume_at=None)
    assert (window.open_ns, window.start_ns) == (OPEN_NS, OPEN_NS)
    assert window.end_ns == CLOSE_NS


async def test_minutes_end_the_session_early(tmp_path: Path) -> None:
    window = await _window(tmp_path, minutes=45, resume_at=None)
    assert (window.start_ns, window.end_ns) == (OPEN_NS, OPEN_NS + 45 * MINUTE)


async def test_minutes_count_from_where_the_ledger_stopped(tmp_path: Path) -> None:
    stopped = OPEN_NS + 30 * MINUTE
    window = await _window(tmp_path, minutes=45, resume_at=stopped)
    assert (window.start_ns, window.end_ns) == (stopped + 1, stopped + 1 + 45 * MINUTE)


@pytest.mark.parametrize("minutes", [390, 10_000])
async def test_minutes_never_run_past_the_close(tmp_path: Path, minutes: int) -> None:
    window = await _window(tmp_path, minutes=minutes, resume_at=OPEN_NS + MINUTE)
    assert window.end_ns == CLOSE_NS


def test_a_shared_or_real_venue_clock_refuses_minutes() -> None:
    """The sharded processes and the real venues run on a clock no one process can end."""
    settings = Settings(synthetic=SyntheticSettings(session_date=DAY.isoformat(), minutes=45))
    with pytest.raises(ConfigurationError, match="TRADER_SYNTHETIC__MINUTES"):
        venue_clock(settings)
