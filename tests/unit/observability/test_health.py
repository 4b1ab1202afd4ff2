from __future__ import annotations

import asyncio

import msgspec

from app.observability.health import HealthServer


async def _get(port: int, path: str) -> tuple[str, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    await writer.drain()
    response = await reader.read()
    writer.close()
    await writer.wait_closed()
    head, _, body = response.partition(b"\r\n\r\n")
    return head.split(b"\r\n")[0].decode(), body


async def test_healthz_reports_every_check() -> None:
    state = {"bus": True, "shard_worker.0": True}
    server = HealthServer(host="127.0.0.1", port=0, role="shard", checks=lambda: state)
    await server.start()
    try:
        status, body = await _get(server.port, "/healthz")
        assert status == "HTTP/1.1 200 OK"
        assert msgspec.json.decode(body) == {"role": "shard", "ok": True, "checks": state}
        state["bus"] = False
        status, body = await _get(server.port, "/readyz")
        assert status == "HTTP/1.1 503 Service Unavailable"
        assert msgspec.json.decode(body)["ok"] is False
        status, _ = await _get(server.port, "/admin")
        assert status == "HTTP/1.1 404 Not Found"
    finally:
        await server.close()
