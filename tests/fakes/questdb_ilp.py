"""QuestDB's ILP-over-HTTP endpoint, as far as the `questdb` client uses it.

- `GET /settings`: the JSON a QuestDB server answers, advertising `supported_versions` (the client
  asks for it to pick a line protocol version unless `protocol_version` is set in its conf).
- `GET /ping`: 204.
- `POST /write?precision=n`: the body is ILP; 204 when committed, 400 with QuestDB's JSON error
  (`code`, `message`, `line`, `errorId`) when a line cannot be parsed or stored.

HTTP/1.1 with keep-alive and Content-Length bodies (what the client sends). Fault knobs:
`fail_next_writes` answers that many writes with 500 and stores nothing; `delay_s` waits
before every answer. Every request is recorded in `requests`, every stored line in `lines`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from tests.fakes.ilp_parser import IlpError, IlpLine, parse_ilp
from tests.fakes.questdb_tables import FakeQuestDb, IngestError
from tests.fakes.tcp_server import FakeTcpServer

_REASONS = {200: "OK", 204: "No Content", 400: "Bad Request", 404: "Not Found", 500: "Server Error"}


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


class FakeIlpHttpServer(FakeTcpServer):
    def __init__(self, db: FakeQuestDb, *, supported_versions: tuple[int, ...] = (1, 2)) -> None:
        super().__init__()
        self.db = db
        self.supported_versions = supported_versions
        self.fail_next_writes = 0
        self.delay_s = 0.0
        self.requests: list[HttpRequest] = []
        self.lines: list[IlpLine] = []
        self._error_ids = itertools.count(1)

    @property
    def writes(self) -> list[HttpRequest]:
        return [r for r in self.requests if r.method == "POST" and r.path == "/write"]

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return  # the client closed a kept-alive connection between requests
            request = await _read_request(head, reader)
            self.requests.append(request)
            status, body = self._answer(request)
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            writer.write(_response(status, body))
            await writer.drain()
            if request.headers.get("connection", "").lower() == "close":
                return

    def _answer(self, request: HttpRequest) -> tuple[int, bytes]:
        if request.method == "GET" and request.path == "/settings":
            config = {
                "line.proto.support.versions": list(self.supported_versions),
                "cairo.max.file.name.length": 127,
            }
            return 200, json.dumps({"config": config, "preferences.version": 0}).encode()
        if request.method == "GET" and request.path == "/ping":
            return 204, b""
        if request.method == "POST" and request.path == "/write":
            return self._write(request)
        return 404, b""

    def _write(self, request: HttpRequest) -> tuple[int, bytes]:
        if self.fail_next_writes > 0:
            self.fail_next_writes -= 1
            return self._error(500, "internal error", "fake failure injected", line=0)
        if request.query.get("precision", ["n"]) != ["n"]:
            return self._error(400, "invalid", "the fake only takes precision=n", line=0)
        try:
            lines = parse_ilp(request.body)
        except IlpError as exc:
            return self._error(400, "invalid", str(exc), line=exc.line)
        try:
            self.db.ingest(lines)
        except IngestError as exc:
            return self._error(400, "invalid", f"failed to parse line protocol: {exc}", line=1)
        self.lines.extend(lines)
        return 204, b""

    def _error(self, status: int, code: str, message: str, *, line: int) -> tuple[int, bytes]:
        error_id = f"fake-{next(self._error_ids)}"
        body = {"code": code, "message": message, "line": line, "errorId": error_id}
        return status, json.dumps(body).encode()


async def _read_request(head: bytes, reader: asyncio.StreamReader) -> HttpRequest:
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
    return HttpRequest(method, url.path, parse_qs(url.query), headers, body)


def _response(status: int, body: bytes) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS[status]}"]
    if status != 204:
        lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
