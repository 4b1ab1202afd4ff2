"""What the QuestDB tick store raises, and how client errors map onto it.

`TickStoreUnavailable` is transient: the server is down, slow, restarting or answered 5xx.
Retry with backoff; buffered ticks are kept and go out with the next flush. `TickStoreRejected`
is permanent: bad credentials, bad configuration, SQL the server refuses. Retrying will not help.

ILP/HTTP: the `questdb` client reports every HTTP error status as `ServerFlushError` without the
status code. QuestDB answers 4xx only to malformed lines or column type conflicts, which this
store's fixed schema does not produce, so a flush error is treated as transient: the worst
case is a retry that fails the same way, with the ticks still buffered.
"""

from __future__ import annotations

import asyncpg
from questdb import QuestDBError, QuestDBErrorCode

__all__ = [
    "TickStoreError",
    "TickStoreRejected",
    "TickStoreUnavailable",
    "from_ingest_error",
    "from_query_error",
]

_TRANSIENT_INGEST = frozenset(
    {
        QuestDBErrorCode.CouldNotResolveAddr,
        QuestDBErrorCode.SocketError,
        QuestDBErrorCode.ConnectTimeout,
        QuestDBErrorCode.ServerFlushError,
        # establish() reports an unreachable server as "could not detect the protocol version"
        QuestDBErrorCode.ProtocolVersionError,
    }
)
_TRANSIENT_QUERY: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
)


class TickStoreError(Exception):
    """Base of the tick store's own errors."""


class TickStoreUnavailable(TickStoreError):
    """Transient: the store cannot be reached or is not ready; retry with backoff."""


class TickStoreRejected(TickStoreError):
    """Permanent: the server refused the request; retrying the same call will not help."""


def from_ingest_error(error: QuestDBError, *, what: str) -> TickStoreError:
    """The tick store error for a failed ILP call; `what` says what was being done."""
    if error.code in _TRANSIENT_INGEST:
        return TickStoreUnavailable(f"{what}: QuestDB is unavailable ({error})")
    return TickStoreRejected(f"{what}: QuestDB refused it ({error})")


def from_query_error(error: BaseException, *, what: str) -> TickStoreError | None:
    """The tick store error for a failed PostgreSQL-wire call, or None if it is not one."""
    if isinstance(error, _TRANSIENT_QUERY):
        return TickStoreUnavailable(f"{what}: QuestDB is unavailable ({error!r})")
    if isinstance(error, asyncpg.PostgresError):
        return TickStoreRejected(f"{what}: QuestDB refused it ({error})")
    return None
