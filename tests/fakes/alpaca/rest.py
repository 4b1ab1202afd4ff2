"""The fake Alpaca REST API (trading and market data) over a small HTTP/1.1 server.

Routes, as alpaca-py calls them: POST/GET /v2/orders, GET/PATCH/DELETE /v2/orders/{id},
GET /v2/orders:by_client_order_id, GET /v2/positions, GET /v2/account, GET /v2/stocks/bars.
Requests without the configured APCA-API-KEY-ID/SECRET-KEY headers get 401. A bracket's legs
come nested under their entry in the answer to its POST and where `nested=true` asks for them
(the listing, GET by id); the listing shows them as orders of their own otherwise.

Fault knobs act on the next requests a `Fault` matches (by method and path prefix):
`status` answers that status (after applying the request when `after_apply`, so the venue has
the order but the client does not know), `reset` drops the connection with a TCP reset instead
of answering, `rate_limit` answers 429 with X-RateLimit-Reset (and Retry-After when given)
without applying anything, `delay` waits before answering (with `after_apply=False` it holds
the request, then answers `status` without applying it: the venue never took it).
`clear_faults()` drops every fault not yet used (a venue that recovers). Every request is
recorded, with the clock time it arrived, in `requests`.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections import deque
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from app.brokers.alpaca.timestamps import rfc3339_ns
from app.ports.clock import Clock
from tests.fakes.alpaca.bars import BarBook
from tests.fakes.alpaca.ledger import FakeLedger, Json, VenueRefusal
from tests.fakes.tcp_server import FakeTcpServer

_REASONS = {
    200: "OK",
    204: "No Content",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at_ns: int

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


FaultKind = Literal["status", "reset", "rate_limit", "delay"]


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    status: int = 502
    after_apply: bool = True
    retry_after_s: float | None = None
    reset_in_s: int = 1
    delay_s: float = 0.0
    method: str | None = None
    path: str | None = None

    def matches(self, request: HttpRequest) -> bool:
        return (self.method is None or self.method == request.method) and (
            self.path is None or request.path.startswith(self.path)
        )


@dataclass
class _Answer:
    status: int
    body: Any = None
    headers: dict[str, str] | None = None


class FakeAlpacaRest(FakeTcpServer):
    def __init__(
        self, ledger: FakeLedger, bars: BarBook, *, clock: Clock, key_id: str, secret_key: str
    ) -> None:
        super().__init__()
        self.ledger = ledger
        self.bars = bars
        self.clock = clock
        self.key_id = key_id
        self.secret_key = secret_key
        self.requests: list[HttpRequest] = []
        self._faults: deque[Fault] = deque()

    def inject(self, fault: Fault, *, times: int = 1) -> None:
        self._faults.extend([fault] * times)

    def clear_faults(self) -> None:
        self._faults.clear()

    def count(self, method: str, path: str) -> int:
        return sum(1 for r in self.requests if r.method == method and r.path.startswith(path))

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return
            request = await self._read(head, reader)
            self.requests.append(request)
            fault = self._take_fault(request)
            answer = self._answer(request, fault)
            if fault is not None and fault.kind == "delay":
                await asyncio.sleep(fault.delay_s)
            if fault is not None and fault.kind == "reset":
                _reset(writer)
                return
            writer.write(_encode(answer))
            await writer.drain()

    def _take_fault(self, request: HttpRequest) -> Fault | None:
        for fault in self._faults:
            if fault.matches(request):
                self._faults.remove(fault)
                return fault
        return None

    def _answer(self, request: HttpRequest, fault: Fault | None) -> _Answer:
        if (
            request.headers.get("apca-api-key-id") != self.key_id
            or request.headers.get("apca-api-secret-key") != self.secret_key
        ):
            return _Answer(401, {"code": 40110000, "message": "request is not authorized"})
        if fault is not None and fault.kind == "rate_limit":
            return self._rate_limited(fault)
        if fault is not None and not fault.after_apply:
            return self._fault_answer(fault)
        answer = self._route(request)
        if fault is not None and fault.kind == "status":
            return self._fault_answer(fault)
        return answer

    def _fault_answer(self, fault: Fault) -> _Answer:
        return _Answer(fault.status, {"code": fault.status * 100_000, "message": "fake failure"})

    def _rate_limited(self, fault: Fault) -> _Answer:
        now_s = self.clock.now_ns() // 1_000_000_000
        headers = {
            "X-RateLimit-Limit": "200",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(now_s + fault.reset_in_s),
        }
        if fault.retry_after_s is not None:
            headers["Retry-After"] = str(fault.retry_after_s)
        return _Answer(429, {"code": 42910000, "message": "rate limit exceeded"}, headers)

    def _route(self, request: HttpRequest) -> _Answer:
        try:
            return self._dispatch(request)
        except VenueRefusal as refusal:
            return _Answer(refusal.status, {"code": refusal.code, "message": refusal.message})

    def _dispatch(self, request: HttpRequest) -> _Answer:
        ledger = self.ledger
        method, path = request.method, request.path
        if path == "/v2/orders" and method == "POST":
            return _Answer(200, ledger.submit(_json(request)).json(nested=True))
        if path == "/v2/orders" and method == "GET":
            return _Answer(200, self._list_orders(request))
        if path == "/v2/orders:by_client_order_id" and method == "GET":
            order = ledger.order_by_client_id(request.param("client_order_id") or "")
            if order is None:
                raise VenueRefusal(404, 40410000, "order not found")
            return _Answer(200, order.json())
        if path.startswith("/v2/orders/"):
            order_id = path.removeprefix("/v2/orders/")
            if method == "DELETE":
                ledger.cancel(order_id)
                return _Answer(204)
            if method == "PATCH":
                return _Answer(200, ledger.replace(order_id, _json(request)).json())
            if method == "GET" and order_id in ledger.orders:
                return _Answer(200, ledger.orders[order_id].json(nested=_nested(request)))
            raise VenueRefusal(404, 40410000, "order not found")
        if path == "/v2/positions" and method == "GET":
            return _Answer(200, ledger.positions_json())
        if path == "/v2/account" and method == "GET":
            return _Answer(200, ledger.account_json())
        if path == "/v2/stocks/bars" and method == "GET":
            return _Answer(200, self.bars.page(request.query))
        return _Answer(404, {"code": 40410000, "message": "endpoint not found"})

    def _list_orders(self, request: HttpRequest) -> list[Json]:
        """status open/closed/all, `after` (exclusive, by creation), direction (default desc),
        limit; legs listed on their own unless `nested`."""
        status = request.param("status", "open")
        nested = _nested(request)
        orders = [o for o in self.ledger.orders.values() if not (nested and o.is_leg)]
        if status == "open":
            orders = [o for o in orders if o.is_open]
        elif status == "closed":
            orders = [o for o in orders if not o.is_open]
        after = request.param("after")
        if after is not None:
            after_ns = rfc3339_ns(after)
            orders = [o for o in orders if o.created_ns > after_ns]
        orders.sort(key=lambda o: o.created_ns, reverse=request.param("direction") != "asc")
        limit = int(request.param("limit", "50") or "50")
        return [o.json(nested=nested) for o in orders[:limit]]

    async def _read(self, head: bytes, reader: asyncio.StreamReader) -> HttpRequest:
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, _version = request_line.split(" ", 2)
        headers: dict[str, str] = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        body = await reader.readexactly(length) if length else b""
        url = urlsplit(target)
        return HttpRequest(
            method, url.path, parse_qs(url.query), headers, body, self.clock.now_ns()
        )


def _nested(request: HttpRequest) -> bool:
    """Whether the request asks for bracket legs rolled up under their entry."""
    return (request.param("nested") or "").lower() == "true"


def _json(request: HttpRequest) -> Json:
    """Bodies are parsed with Decimal numbers, as a venue that books exact amounts would."""
    try:
        body = json.loads(request.body or b"{}", parse_float=Decimal)
    except ValueError as exc:
        raise VenueRefusal(400, 40010000, f"malformed body: {exc}") from exc
    if not isinstance(body, dict):
        raise VenueRefusal(422, 40010000, "the body must be an object")
    return body


def _encode(answer: _Answer) -> bytes:
    lines = [f"HTTP/1.1 {answer.status} {_REASONS.get(answer.status, 'Unknown')}"]
    body = b""
    if answer.status != 204:
        body = json.dumps(answer.body, default=str).encode()
        lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(body)}")
    for name, value in (answer.headers or {}).items():
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP RST (SO_LINGER 0), as a load balancer dropping the connection does."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
