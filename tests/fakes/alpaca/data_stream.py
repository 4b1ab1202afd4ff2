"""The fake market-data stream (/v2/{feed}), MessagePack as Alpaca speaks it.

Connect -> [{"T": "success", "msg": "connected"}]; auth -> authenticated or 402; subscribe and
unsubscribe -> a subscription ack listing everything now subscribed (each ack is kept on the
connection). `publish_trade`, `publish_quote` and `publish_batch` send to every connection
subscribed to the symbol. Like Alpaca, one connection per account: a second one gets 406
"connection limit exceeded". Knobs: `silent` (connections stay up and answer the handshake, no
data flows), `limit_exceeded_next` (406 for that many new connections), `close_after_ack`
(close each connection right after its first subscription ack: a venue that drops every
connection), `close_after_frames` (close after that many data frames), plus FakeWsServer's.
"""

from __future__ import annotations

import struct
from typing import Any

import msgspec
from websockets.exceptions import ConnectionClosed

from app.domain.market import TickBatch
from app.ports.clock import Clock
from tests.fakes.alpaca.ws_server import FakeWsServer, WsConnection

_CHANNELS = ("trades", "quotes")
_OTHER_CHANNELS = ("bars", "updatedBars", "dailyBars", "statuses", "lulds", "corrections")


def timestamp(ts_ns: int) -> msgspec.msgpack.Ext:
    """The MessagePack timestamp extension, 96-bit form (nanoseconds, then seconds)."""
    seconds, nanos = divmod(ts_ns, 1_000_000_000)
    return msgspec.msgpack.Ext(-1, struct.pack(">Iq", nanos, seconds))


class FakeDataStream(FakeWsServer):
    def __init__(self, *, clock: Clock, key_id: str, secret_key: str) -> None:
        super().__init__(clock)
        self.key_id = key_id
        self.secret_key = secret_key
        self.silent = False
        self.limit_exceeded_next = 0
        self.close_after_ack = False
        self.close_after_frames: int | None = None
        self._subscribed: dict[int, dict[str, set[str]]] = {}
        self._trade_ids = 0

    async def session(self, connection: WsConnection) -> None:
        ws = connection.ws
        others_open = any(c.is_open for c in self.connections if c is not connection)
        if self.limit_exceeded_next > 0 or others_open:
            self.limit_exceeded_next = max(0, self.limit_exceeded_next - 1)
            await self._send(connection, [_error(406, "connection limit exceeded")])
            await ws.close()
            return
        await self._send(connection, [{"T": "success", "msg": "connected"}])
        auth = msgspec.msgpack.decode(_binary(await ws.recv()))
        if (auth.get("action"), auth.get("key"), auth.get("secret")) != (
            "auth",
            self.key_id,
            self.secret_key,
        ):
            await self._send(connection, [_error(402, "auth failed")])
            await ws.close()
            return
        await self._send(connection, [{"T": "success", "msg": "authenticated"}])
        subscribed = self._subscribed.setdefault(id(connection), {c: set() for c in _CHANNELS})
        async for frame in ws:
            message = msgspec.msgpack.decode(_binary(frame))
            action = message.get("action")
            for channel in _CHANNELS:
                symbols = set(message.get(channel) or [])
                if action == "subscribe":
                    subscribed[channel] |= symbols
                elif action == "unsubscribe":
                    subscribed[channel] -= symbols
            ack = {c: sorted(subscribed[c]) for c in _CHANNELS}
            await self._send(
                connection, [{"T": "subscription", **ack, **{c: [] for c in _OTHER_CHANNELS}}]
            )
            connection.subscription_acks.append(ack)
            if self.close_after_ack:
                await ws.close(code=1011, reason="closed by the fake")
                return

    def subscriptions(self, connection: WsConnection) -> dict[str, set[str]]:
        return self._subscribed.get(id(connection), {c: set() for c in _CHANNELS})

    async def publish_trade(self, symbol: str, *, price: float, size: int, ts_ns: int) -> int:
        message = self._trade_message(symbol, price=price, size=size, ts_ns=ts_ns)
        return await self._publish("trades", symbol, [message])

    async def publish_quote(
        self, symbol: str, *, bid: float, ask: float, size: int, ts_ns: int
    ) -> int:
        message = self._quote_message(symbol, bid=bid, ask=ask, size=size, ts_ns=ts_ns)
        return await self._publish("quotes", symbol, [message])

    def _trade_message(self, symbol: str, *, price: float, size: int, ts_ns: int) -> dict[str, Any]:
        self._trade_ids += 1
        return {
            "T": "t",
            "S": symbol,
            "i": self._trade_ids,
            "x": "V",
            "p": price,
            "s": size,
            "c": ["@"],
            "t": timestamp(ts_ns),
            "z": "C",
        }

    @staticmethod
    def _quote_message(
        symbol: str, *, bid: float, ask: float, size: int, ts_ns: int
    ) -> dict[str, Any]:
        return {
            "T": "q",
            "S": symbol,
            "bx": "V",
            "bp": bid,
            "bs": size,
            "ax": "V",
            "ap": ask,
            "as": size,
            "c": ["R"],
            "t": timestamp(ts_ns),
            "z": "C",
        }

    async def publish_batch(self, batch: TickBatch) -> int:
        """A batch of prints and quotes in one frame per connection (as Alpaca bundles them),
        each connection getting only what it subscribed to."""
        sent = 0
        for connection in self.open_connections():
            wanted = self.subscriptions(connection)
            messages = [
                self._trade_message(t.symbol, price=t.price, size=t.size, ts_ns=t.ts_ns)
                for t in batch.ticks
                if t.symbol in wanted["trades"]
            ]
            messages += [
                self._quote_message(q.symbol, bid=q.bid, ask=q.ask, size=q.bid_size, ts_ns=q.ts_ns)
                for q in batch.quotes
                if q.symbol in wanted["quotes"]
            ]
            if not messages or self.silent:
                continue
            try:
                await self._send(connection, messages)
            except ConnectionClosed:
                continue
            connection.data_frames += 1
            sent += 1
        return sent

    async def publish_raw(self, frame: bytes) -> None:
        """Any bytes to every open connection, for malformed-input tests."""
        for connection in self.open_connections():
            await connection.ws.send(frame)

    async def _publish(self, channel: str, symbol: str, messages: list[dict[str, Any]]) -> int:
        if self.silent:
            return 0
        sent = 0
        for connection in self.open_connections():
            if symbol not in self.subscriptions(connection)[channel]:
                continue
            try:
                await self._send(connection, messages)
            except ConnectionClosed:
                continue
            connection.data_frames += 1
            sent += 1
            if self.close_after_frames and connection.data_frames >= self.close_after_frames:
                await connection.ws.close(code=1011, reason="closed by the fake")
        return sent

    async def _send(self, connection: WsConnection, messages: list[dict[str, Any]]) -> None:
        await connection.ws.send(msgspec.msgpack.encode(messages))


def _error(code: int, message: str) -> dict[str, Any]:
    return {"T": "error", "code": code, "msg": message}


def _binary(frame: str | bytes) -> bytes:
    return frame.encode() if isinstance(frame, str) else frame
