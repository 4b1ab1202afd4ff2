"""Schema migrations, run from code: the Alembic scripts ship inside this package.

`upgrade(url)` is what `trader db upgrade` runs. It works from an installed package and any
working directory, because the Alembic configuration is built here rather than read from a file.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, select
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app.persistence.engine import make_engine
from app.persistence.errors import SchemaNotAtHeadError

MIGRATIONS = Path(__file__).with_name("migrations")
# Any fixed 64-bit number: concurrent upgrades of one PostgreSQL database queue on it.
UPGRADE_LOCK_ID = 0x7472616465720001


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head_revision() -> str:
    """The newest revision this code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS}")
    return head


def known_revisions() -> frozenset[str]:
    scripts = ScriptDirectory.from_config(alembic_config())
    return frozenset(script.revision for script in scripts.walk_revisions())


async def upgrade(url: str) -> None:
    """Migrate the database to head in one transaction; a database already at head is unchanged."""
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execute(select(func.pg_advisory_xact_lock(UPGRADE_LOCK_ID)))
            await connection.run_sync(_upgrade_to_head)
    finally:
        await engine.dispose()


async def current_revision(url: str) -> str | None:
    """The revision the database is at; None for a database that was never migrated."""
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(revision_of)
    finally:
        await engine.dispose()


def revision_of(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade_to_head(connection: Connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def open_at_head(url: str, *, what: str) -> AsyncEngine:
    """An engine on a database whose schema is at head; otherwise SchemaNotAtHeadError saying
    what to do (`what` names the store in the message). Nothing is left open on failure."""
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            revision = await connection.run_sync(revision_of)
        _require_head(url, revision, what=what)
    except BaseException:
        await engine.dispose()
        raise
    return engine


def _require_head(url: str, revision: str | None, *, what: str) -> None:
    head = head_revision()
    if revision == head:
        return
    database = make_url(url).render_as_string(hide_password=True)
    if revision is not None and revision not in known_revisions():
        raise SchemaNotAtHeadError(
            f"the {what} database {database} is at revision {revision}, unknown to this "
            f"code (head {head}): newer code migrated it; deploy that version"
        )
    found = "has no schema" if revision is None else f"is at revision {revision}"
    raise SchemaNotAtHeadError(
        f"the {what} database {database} {found}, this code needs {head}: run `trader db upgrade`"
    )
