"""A worker's health endpoint: GET /healthz answers 200 when every check passes, else 503."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

import msgspec
import structlog

log = structlog.get_logger()

Checks = Callable[[], Mapping[str, bool]]
_MAX_REQUEST = 8 * 1024


class HealthServer:
    """A tiny HTTP/1.1 responder for liveness and readiness probes (no framework needed)."""

    def __init__(self, *, host: str, port: int, role: str, checks: Checks) -> None:
        self._host = host
        self._port = port
        self._role = role
        self._checks = checks
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._answer, self._host, self._port)
        log.info("health_serving", port=self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), timeout=5)
            parts = line[:_MAX_REQUEST].decode("latin-1").split()
            if len(parts) < 2 or parts[0] != "GET" or parts[1] not in ("/healthz", "/readyz"):
                status, body = "404 Not Found", b'{"error":"not found"}'
            else:
                checks = dict(self._checks())
                ok = all(checks.values())
                status = "200 OK" if ok else "503 Service Unavailable"
                body = msgspec.json.encode({"role": self._role, "ok": ok, "checks": checks})
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()
