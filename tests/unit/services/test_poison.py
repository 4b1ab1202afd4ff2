"""What counts as an outage (propagate, keep the entry pending) rather than a poison message
(retry alone, then dead-letter): S9 and S18 pull in opposite directions, this decides."""

from __future__ import annotations

import asyncio

import asyncpg
import msgspec
import pytest
from redis.exceptions import BusyLoadingError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import InternalError as SqlInternalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from app.bus.connection import BusClosed, BusUnavailable
from app.domain.money import InvalidPrice
from app.persistence.errors import DuplicateOrderError
from app.ports.broker import BrokerUnavailable, OrderRejected, TransientBrokerError
from app.ports.lease import LeaseLost
from app.services.poison import PoisonRetry, is_outage
from app.tickstore.questdb_errors import TickStoreRejected, TickStoreUnavailable


def _raised_from(error: Exception, cause: BaseException) -> Exception:
    error.__cause__ = cause
    return error


def _lost_connection() -> DBAPIError:
    """What SQLAlchemy raises when asyncpg finds its connection terminated mid-query: an
    InternalError, not an OperationalError, marked as having invalidated the connection."""
    return SqlInternalError(
        "SELECT 1", {}, Exception("connection was closed"), connection_invalidated=True
    )


OUTAGES: dict[str, BaseException] = {
    "connection refused": ConnectionRefusedError(111, "Connect call failed"),
    "connection reset": ConnectionResetError(104, "Connection reset by peer"),
    "timeout": TimeoutError(),
    "disk": OSError(28, "No space left on device"),
    "cancelled": asyncio.CancelledError(),
    "redis connection": RedisConnectionError("Error 111 connecting"),
    "redis timeout": RedisTimeoutError("Timeout reading from socket"),
    "redis loading": BusyLoadingError("Redis is loading the dataset in memory"),
    "bus closed": BusClosed("closed"),
    "bus unavailable": BusUnavailable("Redis unreachable after 5 tries"),
    "db operational": OperationalError("SELECT 1", {}, Exception("database is locked")),
    "db interface": InterfaceError("SELECT 1", {}, Exception("connection is closed")),
    "db connection invalidated": _lost_connection(),
    "db pool exhausted": PoolTimeoutError("QueuePool limit of size 5 overflow 10 reached"),
    "pg connection gone": asyncpg.ConnectionDoesNotExistError("connection was closed"),
    "pg shutting down": asyncpg.AdminShutdownError("terminating connection"),
    "pg starting up": asyncpg.CannotConnectNowError("the database system is starting up"),
    "pg too many connections": asyncpg.TooManyConnectionsError("too many clients"),
    "tick store": TickStoreUnavailable("QuestDB is unavailable"),
    "venue unreachable": BrokerUnavailable("venue down"),
    "venue transient": TransientBrokerError("502"),
    "fenced executor": LeaseLost("lease 7 was taken over"),
    "wrapped outage": _raised_from(RuntimeError("flush failed"), ConnectionResetError()),
}

POISON: dict[str, Exception] = {
    "value": ValueError("could not convert string to float"),
    "key": KeyError("strategy"),
    "arithmetic": ZeroDivisionError("division by zero"),
    "validation": msgspec.ValidationError("Expected `int`, got `str`"),
    "bad price": InvalidPrice("price must be positive"),
    "constraint": IntegrityError("INSERT", {}, Exception("violates check constraint")),
    "db error, connection fine": SqlInternalError("SELECT 1", {}, Exception("bad cast")),
    "duplicate order": DuplicateOrderError("client_order_id reused"),
    "venue refused": OrderRejected("insufficient buying power"),
    "tick store refused": TickStoreRejected("QuestDB refused it"),
}


@pytest.mark.parametrize("error", OUTAGES.values(), ids=OUTAGES.keys())
def test_outages_are_not_poison(error: BaseException) -> None:
    assert is_outage(error)


@pytest.mark.parametrize("error", POISON.values(), ids=POISON.keys())
def test_errors_about_the_message_are_poison(error: Exception) -> None:
    assert not is_outage(error)


def test_an_error_raised_while_handling_an_outage_is_judged_on_its_own() -> None:
    """Only an explicit `raise ... from` makes the outage the cause; an unrelated bug that
    happens inside an `except OSError:` block is still a bug."""
    error = ValueError("bug in the fallback")
    error.__context__ = ConnectionResetError()
    assert not is_outage(error)


@pytest.mark.parametrize(
    ("retries", "backoff_s", "complaint"),
    [(0, 0.05, "retries must be at least 1"), (3, -1.0, "backoff_s must not be negative")],
)
def test_a_retry_policy_must_retry_and_wait_forward(
    retries: int, backoff_s: float, complaint: str
) -> None:
    with pytest.raises(ValueError, match=complaint):
        PoisonRetry(retries=retries, backoff_s=backoff_s)
