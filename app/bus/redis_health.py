"""What the bus knows about its Redis connection: up or down, since when, how many failures."""

from __future__ import annotations


class ConnectionHealth:
    """Healthy once a command succeeded, unhealthy from the first failure until the next success.

    Times are monotonic nanoseconds (the event loop's clock), fine for "how long ago", never
    for wall-clock timestamps.
    """

    def __init__(self) -> None:
        self._healthy = False
        self._last_ok_ns: int | None = None
        self._consecutive_failures = 0
        self._reconnects = 0
        self._last_error: str | None = None

    @property
    def healthy(self) -> bool:
        return self._healthy

    @property
    def last_ok_ns(self) -> int | None:
        return self._last_ok_ns

    @property
    def consecutive_failures(self) -> int:
        return self._consecutive_failures

    @property
    def reconnects(self) -> int:
        """How many times the connection pool was replaced (a half-open connection suspected)."""
        return self._reconnects

    @property
    def last_error(self) -> str | None:
        return self._last_error

    def record_success(self, now_ns: int) -> None:
        self._healthy = True
        self._last_ok_ns = now_ns
        self._consecutive_failures = 0

    def record_failure(self, error: BaseException) -> None:
        self._healthy = False
        self._consecutive_failures += 1
        self._last_error = f"{type(error).__name__}: {error}"

    def record_reconnect(self) -> None:
        self._reconnects += 1
