"""A fake QuestDB: the ILP/HTTP and PostgreSQL wire endpoints over one in-memory database."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

from app.tickstore.questdb import QuestDbConfig
from tests.fakes.pgwire import FakePgWireServer
from tests.fakes.questdb_ilp import FakeIlpHttpServer
from tests.fakes.questdb_tables import FakeQuestDb, FakeTable


class FakeQuestDbServer:
    """`async with FakeQuestDbServer() as qdb:` serves on `qdb.http.port` and `qdb.pg.port`.

    Leaving the block stops both endpoints and fails the test if either crashed on a request.
    """

    def __init__(
        self,
        *,
        user: str = "admin",
        password: str = "quest",
        database: str = "qdb",
        ilp_versions: tuple[int, ...] = (1, 2),
    ) -> None:
        self.db = FakeQuestDb()
        self.http = FakeIlpHttpServer(self.db, supported_versions=ilp_versions)
        self.pg = FakePgWireServer(self.db, user=user, password=password, database=database)

    def table(self, name: str = "ticks") -> FakeTable:
        return self.db.tables[name]

    def store_config(self, **overrides: Any) -> QuestDbConfig:
        """A QuestDbConfig aimed at this server; the client never retries a failed request."""
        settings: dict[str, Any] = {
            "host": "127.0.0.1",
            "http_port": self.http.port,
            "pg_port": self.pg.port,
            "retry_timeout_ms": 0,
            "connect_timeout_s": 5.0,
            "visibility_timeout_s": 5.0,
        }
        return QuestDbConfig(**(settings | overrides))

    async def __aenter__(self) -> Self:
        await self.http.start()
        try:
            await self.pg.start()
        except BaseException:
            await self.http.stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.pg.stop()
        await self.http.stop()
        crashes = self.http.crashes + self.pg.crashes
        if crashes and exc is None:
            raise AssertionError(f"the fake QuestDB crashed: {crashes!r}") from crashes[0]
