"""The execution lease in SQL, timed by the database's own clock so hosts need not agree."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, func, literal_column, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from app.persistence.engine import make_engine
from app.persistence.statements import insert_new
from app.persistence.tables import leases

EXECUTION = "execution"


def _db_now_ms(dialect: str) -> ColumnElement[int]:
    """Milliseconds since the epoch, read from the database server's clock."""
    if dialect == "postgresql":
        return literal_column("CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)")
    return literal_column("CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)")


class SqlLease:
    """`ExecutionLease` over the `leases` table; the constructor does no I/O."""

    def __init__(self, url: str, *, name: str = EXECUTION) -> None:
        self._url = url
        self._name = name
        self._engine: AsyncEngine | None = None

    async def start(self) -> None:
        self._engine = make_engine(self._url)

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    @property
    def _db(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("SqlLease is not started: await start() first")
        return self._engine

    async def acquire(self, *, holder: str, ttl_ms: int) -> int | None:
        now = _db_now_ms(self._db.dialect.name)
        async with self._db.connect() as connection, connection.begin():
            await connection.execute(
                insert_new(
                    self._db.dialect,
                    leases,
                    {"name": self._name, "holder": holder, "token": 0, "expires_ms": 0},
                    key=[leases.c.name],
                )
            )
            taken = await connection.execute(
                update(leases)
                .where(
                    leases.c.name == self._name,
                    or_(leases.c.expires_ms <= now, leases.c.holder == holder),
                )
                .values(holder=holder, token=leases.c.token + 1, expires_ms=now + ttl_ms)
                .returning(leases.c.token)
            )
            token = taken.scalar_one_or_none()
        return None if token is None else int(token)

    async def renew(self, *, holder: str, token: int, ttl_ms: int) -> bool:
        now = _db_now_ms(self._db.dialect.name)
        async with self._db.connect() as connection, connection.begin():
            renewed = await connection.execute(
                update(leases)
                .where(self._current(token, now), leases.c.holder == holder)
                .values(expires_ms=now + ttl_ms)
            )
        return renewed.rowcount == 1

    async def verify(self, token: int) -> bool:
        now = _db_now_ms(self._db.dialect.name)
        async with self._db.connect() as connection:
            found = await connection.scalar(select(func.count()).where(self._current(token, now)))
        return bool(found)

    async def release(self, *, holder: str, token: int) -> None:
        async with self._db.connect() as connection, connection.begin():
            await connection.execute(
                update(leases)
                .where(
                    leases.c.name == self._name,
                    leases.c.holder == holder,
                    leases.c.token == token,
                )
                .values(expires_ms=0)
            )

    async def holder(self) -> str | None:
        """Who holds the lease now; None when it is free or expired. For operators' messages."""
        now = _db_now_ms(self._db.dialect.name)
        async with self._db.connect() as connection:
            found = await connection.scalar(
                select(leases.c.holder).where(
                    leases.c.name == self._name, leases.c.expires_ms > now
                )
            )
        return None if found is None else str(found)

    def _current(self, token: int, now: ColumnElement[int]) -> ColumnElement[bool]:
        return and_(leases.c.name == self._name, leases.c.token == token, leases.c.expires_ms > now)
