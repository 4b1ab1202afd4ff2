"""FakeAlpaca: the REST API, trade_updates and the market-data stream over one ledger.

`async with FakeAlpaca(clock=clock) as venue:` serves on loopback ports; `venue.config()` is
an AlpacaConfig aimed at it with test-sized timeouts. Leaving the block stops every endpoint
and fails the test if one of them crashed on a request.
"""

from __future__ import annotations

from decimal import Decimal
from types import TracebackType
from typing import Any, Self

from app.brokers.alpaca.config import AlpacaConfig
from app.ports.clock import Clock
from tests.fakes.alpaca.bars import BarBook
from tests.fakes.alpaca.data_stream import FakeDataStream
from tests.fakes.alpaca.ledger import FakeLedger
from tests.fakes.alpaca.rest import FakeAlpacaRest
from tests.fakes.alpaca.trade_stream import FakeTradeStream

KEY_ID = "PKFAKE0000000000"
SECRET_KEY = "fake-secret"


class FakeAlpaca:
    def __init__(
        self,
        *,
        clock: Clock,
        cash: Decimal = Decimal("100000"),
        key_id: str = KEY_ID,
        secret_key: str = SECRET_KEY,
    ) -> None:
        self.clock = clock
        self.ledger = FakeLedger(clock, cash=cash)
        self.bars = BarBook()
        self.rest = FakeAlpacaRest(
            self.ledger, self.bars, clock=clock, key_id=key_id, secret_key=secret_key
        )
        self.trade_stream = FakeTradeStream(
            self.ledger, clock=clock, key_id=key_id, secret_key=secret_key
        )
        self.data_stream = FakeDataStream(clock=clock, key_id=key_id, secret_key=secret_key)
        self.key_id = key_id
        self.secret_key = secret_key

    def config(self, **overrides: Any) -> AlpacaConfig:
        rest = f"http://127.0.0.1:{self.rest.port}"
        settings: dict[str, Any] = {
            "key_id": self.key_id,
            "secret_key": self.secret_key,
            "base_url": rest,
            "data_url": rest,
            "trade_stream_url": f"ws://127.0.0.1:{self.trade_stream.port}/stream",
            "data_stream_url": f"ws://127.0.0.1:{self.data_stream.port}/v2/iex",
            "request_timeout_s": 2.0,
            "connect_timeout_s": 1.0,
            "handshake_timeout_s": 2.0,
            "close_timeout_s": 1.0,
            "start_timeout_s": 5.0,
            "backoff_base_s": 0.5,
            "backoff_cap_s": 8.0,
        }
        return AlpacaConfig(**(settings | overrides))

    async def __aenter__(self) -> Self:
        await self.rest.start()
        await self.trade_stream.start()
        await self.data_stream.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.data_stream.stop()
        await self.trade_stream.stop()
        await self.rest.stop()
        crashes = self.rest.crashes + self.trade_stream.crashes + self.data_stream.crashes
        if crashes and exc is None:
            raise AssertionError(f"the fake Alpaca crashed: {crashes!r}") from crashes[0]
