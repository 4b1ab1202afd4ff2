"""The fake trade_updates endpoint (/stream): authenticate, listen, then every ledger event.

Frames are binary JSON, as the paper venue sends them. Knobs: `silent` keeps connections open
and answered but sends no events (a silent socket); `replay_on_listen` sends every past fill
event again to a connection that starts listening (a venue replaying after a reconnect);
`replay_fills()` does it now on every open connection; `close_after_events` closes a
connection after it got that many events; `limit_exceeded_next` refuses that many
authentications with "connection limit exceeded". Each listening answer is kept in the
connection's `subscription_acks`. `pause()` holds every event (none is lost) until `resume()`:
a venue whose stream lags behind its REST answers.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

from websockets.asyncio.server import ServerConnection

from app.ports.clock import Clock
from tests.fakes.alpaca.ledger import FakeLedger, Json
from tests.fakes.alpaca.ws_server import FakeWsServer, WsConnection

STREAM = "trade_updates"
_FILLS = ("fill", "partial_fill")


@dataclass
class _Listener:
    connection: WsConnection
    outbox: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)


class FakeTradeStream(FakeWsServer):
    def __init__(self, ledger: FakeLedger, *, clock: Clock, key_id: str, secret_key: str) -> None:
        super().__init__(clock)
        self.ledger = ledger
        self.key_id = key_id
        self.secret_key = secret_key
        self.silent = False
        self.replay_on_listen = False
        self.close_after_events: int | None = None
        self.limit_exceeded_next = 0
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._listeners: list[_Listener] = []
        ledger.listeners.append(self._broadcast)

    def pause(self) -> None:
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def replay_fills(self) -> None:
        for listener in self._listeners:
            self._queue_fills(listener)

    async def session(self, connection: WsConnection) -> None:
        ws = connection.ws
        auth = json.loads(await ws.recv())
        data = auth.get("data") or {}
        authorized = auth.get("action") == "authenticate" and (
            data.get("key_id"),
            data.get("secret_key"),
        ) == (self.key_id, self.secret_key)
        status = "authorized" if authorized else "unauthorized"
        answer: Json = {"action": "authenticate", "status": status}
        if authorized and self.limit_exceeded_next > 0:
            self.limit_exceeded_next -= 1
            authorized = False
            answer = {**answer, "status": "unauthorized", "message": "connection limit exceeded"}
        await _send(ws, {"stream": "authorization", "data": answer})
        if not authorized:
            await ws.close()
            return
        listen = json.loads(await ws.recv())
        wanted = (listen.get("data") or {}).get("streams") or []
        streams = [s for s in wanted if s == STREAM]
        await _send(ws, {"stream": "listening", "data": {"streams": streams}})
        connection.subscription_acks.append({"streams": streams})
        listener = _Listener(connection)
        if self.replay_on_listen:
            self._queue_fills(listener)
        self._listeners.append(listener)
        writer = asyncio.create_task(self._write(listener))
        try:
            async for _ in ws:
                pass
        finally:
            self._listeners.remove(listener)
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)

    def _queue_fills(self, listener: _Listener) -> None:
        for event in self.ledger.events:
            if event["event"] in _FILLS:
                listener.outbox.put_nowait(_frame(event))

    def _broadcast(self, event: Json) -> None:
        for listener in self._listeners:
            listener.outbox.put_nowait(_frame(event))

    async def _write(self, listener: _Listener) -> None:
        connection = listener.connection
        while True:
            frame = await listener.outbox.get()
            await self._flowing.wait()
            if self.silent:
                continue
            await connection.ws.send(frame)
            connection.data_frames += 1
            if self.close_after_events and connection.data_frames >= self.close_after_events:
                await connection.ws.close(code=1011, reason="closed by the fake")
                return


def _frame(event: Json) -> bytes:
    return json.dumps({"stream": STREAM, "data": event}).encode()


async def _send(ws: ServerConnection, message: Json) -> None:
    await ws.send(json.dumps(message).encode())
