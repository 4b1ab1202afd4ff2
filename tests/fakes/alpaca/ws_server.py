"""What both fake Alpaca WebSocket endpoints share: connections counted, refused, dropped.

`max_concurrent` is the most connections open at once (a closed connection whose handler has
not returned yet does not count), so a test can check the client never held two. Knobs:
`refuse_next` answers that many upgrade requests with HTTP 503 (the client never gets a
socket); `drop_all()` closes every open connection (a stream drop); `close_after_s` closes each
new connection that many (real) seconds after it opened (a venue dropping every connection);
`stop()` then `start(port=)` is a venue that refuses TCP connections in between.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.protocol import State

from app.ports.clock import Clock


@dataclass
class WsConnection:
    ws: ServerConnection
    opened_ns: int
    path: str
    subscription_acks: list[dict[str, list[str]]] = field(default_factory=list)
    data_frames: int = 0

    @property
    def is_open(self) -> bool:
        return self.ws.state is not State.CLOSED


class FakeWsServer:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.connections: list[WsConnection] = []
        self.max_concurrent = 0
        self.refuse_next = 0
        self.refused = 0
        self.close_after_s: float | None = None
        self.crashes: list[Exception] = []
        self.port = 0
        self._server: Server | None = None

    async def start(self, *, port: int = 0) -> int:
        if self._server is not None:
            raise RuntimeError("already running")
        self._server = await serve(
            self._handle, "127.0.0.1", port, process_request=self._process_request
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()

    def open_connections(self) -> list[WsConnection]:
        return [c for c in self.connections if c.is_open]

    async def drop_all(self) -> None:
        for connection in self.open_connections():
            await connection.ws.close(code=1011, reason="dropped by the fake")

    async def session(self, connection: WsConnection) -> None:
        raise NotImplementedError

    def _process_request(self, ws: ServerConnection, request: Request) -> Response | None:
        if self.refuse_next > 0:
            self.refuse_next -= 1
            self.refused += 1
            return ws.respond(503, "service unavailable\n")
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        path = ws.request.path if ws.request is not None else ""
        connection = WsConnection(ws=ws, opened_ns=self.clock.now_ns(), path=path)
        self.connections.append(connection)
        self.max_concurrent = max(self.max_concurrent, len(self.open_connections()))
        closer = None
        if self.close_after_s is not None:
            closer = asyncio.create_task(self._close_later(ws, self.close_after_s))
        try:
            await self.session(connection)
        except ConnectionClosed:
            pass
        except Exception as exc:  # a bug in the fake: kept for the test to fail on
            self.crashes.append(exc)
        finally:
            if closer is not None:
                closer.cancel()
                await asyncio.gather(closer, return_exceptions=True)

    @staticmethod
    async def _close_later(ws: ServerConnection, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        await ws.close(code=1011, reason="closed by the fake")
