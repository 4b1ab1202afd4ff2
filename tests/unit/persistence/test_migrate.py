from __future__ import annotations

import asyncio
from argparse import Namespace
from pathlib import Path

from alembic import command
from alembic.config import Config

from app.persistence.migrate import MIGRATIONS, current_revision, head_revision


def test_the_package_ships_its_migration_scripts() -> None:
    assert (
        head_revision()
        == sorted(p.stem.split("_")[0] for p in (MIGRATIONS / "versions").glob("0*.py"))[-1]
    )
    for name in ("env.py", "script.py.mako", "alembic.ini", "versions/0001_initial.py"):
        assert (MIGRATIONS / name).is_file()


def test_the_alembic_command_line_migrates_through_an_async_engine(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.cmd_opts = Namespace(x=[f"url={url}"])
    command.upgrade(config, "head")
    assert asyncio.run(current_revision(url)) == head_revision()
    command.downgrade(config, "base")
    assert asyncio.run(current_revision(url)) is None
