"""An asyncio TCP server on 127.0.0.1 that owns its connections, so stopping it leaks nothing."""

from __future__ import annotations

import asyncio
import contextlib


class FakeTcpServer:
    """Subclasses implement `serve(reader, writer)`; one call per accepted connection.

    `start()` binds a free port (or the given one, to come back after `stop()` like a restarted
    server); `stop()` closes the listener and every open connection and waits for the handlers.
    A handler that raises is a bug in the fake: the exception is kept in `crashes`.
    """

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0
        self.connections = 0
        self.crashes: list[Exception] = []

    async def start(self, *, port: int = 0) -> int:
        if self._server is not None:
            raise RuntimeError("the fake server is already running")
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for writer in list(self._writers):
            writer.close()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await server.wait_closed()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._writers.add(writer)
        self.connections += 1
        try:
            await self.serve(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client went away mid-message: a server just drops the connection
        except Exception as exc:  # a bug in the fake: kept for the test to fail on
            self.crashes.append(exc)
        finally:
            self._writers.discard(writer)
            self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
