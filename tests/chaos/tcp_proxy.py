"""A loopback TCP proxy that can turn the connections it carries into half-open ones (S8)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class _Link:
    __slots__ = ("dead", "writers")

    def __init__(self, writers: tuple[asyncio.StreamWriter, asyncio.StreamWriter]) -> None:
        self.dead = False
        self.writers = writers


class BlackholeProxy:
    """Forwards 127.0.0.1:<port> to an upstream port. `blackhole()` makes every connection open
    at that moment swallow all bytes in both directions without closing it, as when packets
    are dropped and no reset ever comes; connections opened afterwards work normally."""

    def __init__(self, upstream_port: int) -> None:
        self._upstream_port = upstream_port
        self._links: list[_Link] = []
        self._handlers: set[asyncio.Task[None]] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def blackhole(self) -> None:
        for link in self._links:
            link.dead = True

    async def _serve(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        handler = asyncio.current_task()
        assert handler is not None
        self._handlers.add(handler)
        try:
            upstream_in, upstream_out = await asyncio.open_connection(
                "127.0.0.1", self._upstream_port
            )
        except OSError:
            client_out.close()
            self._handlers.discard(handler)
            return
        link = _Link((client_out, upstream_out))
        self._links.append(link)
        try:
            async with asyncio.TaskGroup() as pumps:
                pumps.create_task(self._pump(client_in, upstream_out, link))
                pumps.create_task(self._pump(upstream_in, client_out, link))
        finally:
            self._links.remove(link)
            self._handlers.discard(handler)

    @staticmethod
    async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter, link: _Link) -> None:
        try:
            while data := await source.read(65_536):
                if not link.dead:
                    sink.write(data)
                    await sink.drain()
        except ConnectionError:
            pass
        finally:
            sink.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for link in list(self._links):
            for writer in link.writers:
                writer.close()
        handlers = set(self._handlers)
        if handlers:
            await asyncio.wait(handlers)
        if self._server is not None:
            await self._server.wait_closed()


@asynccontextmanager
async def blackhole_proxy(upstream_port: int) -> AsyncIterator[BlackholeProxy]:
    proxy = BlackholeProxy(upstream_port)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.close()
