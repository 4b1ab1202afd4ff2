"""The one door to Alpaca's REST API: alpaca-py's synchronous clients, budgeted and classified.

alpaca-py sends with `requests` and no timeout, and retries 429/504 itself with a blocking
`time.sleep`. Both are taken over here: a transport adapter with connect and read timeouts is
mounted on each client's session, the client's own retry count is set to zero, and `call` runs
each request on a small thread pool after the rate limiter admitted it. At most one HTTP request
goes out per admission (none when the connect is refused), so the venue never counts more
requests than the limiter.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import requests
import structlog
from alpaca.common.exceptions import APIError
from alpaca.common.rest import RESTClient
from alpaca.data.historical.stock import StockHistoricalDataClient
from alpaca.trading.client import TradingClient
from requests.adapters import HTTPAdapter
from requests.models import PreparedRequest, Response

from app.brokers.alpaca.config import AlpacaConfig
from app.brokers.alpaca.errors import from_api_error, never_sent, transport_error
from app.brokers.ratelimit import Priority, RateLimiter, Sleep
from app.domain.backoff import FullJitterBackoff
from app.ports.broker import BrokerUnavailable, TransientBrokerError
from app.ports.clock import Clock

T = TypeVar("T")

log = structlog.get_logger()

_TimeoutArg = float | tuple[float | None, float | None] | None


class _TimeoutAdapter(HTTPAdapter):
    """Gives every request on the session a (connect, read) timeout unless it set one."""

    def __init__(self, *, connect_s: float, read_s: float) -> None:
        super().__init__()
        self._timeout = (connect_s, read_s)

    def send(
        self,
        request: PreparedRequest,
        stream: bool = False,
        timeout: _TimeoutArg = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> Response:
        return super().send(
            request,
            stream=stream,
            timeout=timeout if timeout is not None else self._timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )


def _take_over(client: RESTClient, config: AlpacaConfig) -> None:
    """Timeouts on, alpaca-py's blocking retry off (RESTClient exposes neither)."""
    adapter = _TimeoutAdapter(connect_s=config.connect_timeout_s, read_s=config.request_timeout_s)
    client._session.mount("https://", adapter)
    client._session.mount("http://", adapter)
    client._retry = 0


class AlpacaRest:
    """Owns the trading and market-data clients and the thread pool they run on."""

    def __init__(
        self,
        config: AlpacaConfig,
        *,
        limiter: RateLimiter,
        clock: Clock,
        sleep: Sleep,
        backoff: FullJitterBackoff,
    ) -> None:
        self._config = config
        self._limiter = limiter
        self._clock = clock
        self._sleep = sleep
        self._backoff = backoff
        self.trading = TradingClient(
            api_key=config.key_id, secret_key=config.secret_key, url_override=config.base_url
        )
        self.data = StockHistoricalDataClient(
            api_key=config.key_id, secret_key=config.secret_key, url_override=config.data_url
        )
        _take_over(self.trading, config)
        _take_over(self.data, config)
        self._executor = ThreadPoolExecutor(
            max_workers=config.rest_workers, thread_name_prefix="alpaca-rest"
        )
        self.sent = 0

    async def call(self, priority: Priority, request: Callable[[], T]) -> T:
        """Run one alpaca-py call. Raises VenueHttpError for an HTTP error answer (the caller
        knows what it means for its operation), TransientBrokerError when the outcome is
        unknown, BrokerUnavailable when the venue refused every connect attempt.

        A 429 is not a venue failure: the whole budget waits for the reset, then the request
        goes again (it was not applied). A refused connect sent nothing, so it is retried too.
        """
        refused = 0
        limited = 0
        loop = asyncio.get_running_loop()
        while True:
            await self._limiter.acquire(priority)
            self.sent += 1
            try:
                return await loop.run_in_executor(self._executor, request)
            except APIError as exc:
                error = from_api_error(exc)
            except requests.RequestException as exc:
                if not never_sent(exc):
                    raise transport_error(exc) from exc
                refused += 1
                if refused >= self._config.connect_attempts:
                    raise BrokerUnavailable(
                        f"alpaca refused {refused} connection attempts in a row"
                    ) from exc
                await self._sleep(self._backoff.delay(refused - 1))
                continue
            except ValueError as exc:
                raise TransientBrokerError(f"unreadable answer from alpaca: {exc}") from exc
            if not error.rate_limited:
                raise error
            limited += 1
            if limited > self._config.rate_limit_retries:
                raise TransientBrokerError(f"still rate limited after {limited} attempts")
            resume_ns = error.resume_ns(
                now_ns=self._clock.now_ns(), fallback_s=self._config.rate_limit_fallback_s
            )
            log.warning("alpaca_rate_limited", resume_ns=resume_ns)
            await self._limiter.block_until(resume_ns)

    async def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.trading._session.close()
        self.data._session.close()
