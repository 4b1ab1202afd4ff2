"""Every role in one process, on embedded defaults."""

from __future__ import annotations

import asyncio

from app.bootstrap import Role, build
from app.observability.logging import configure_logging
from app.settings import LogFormat, Settings
from workers._serve import serve


async def _main() -> None:
    settings = Settings()
    configure_logging(json_output=settings.log_format is LogFormat.JSON, level=settings.log_level)
    async with await build(settings, role=Role.MONOLITH) as runtime:
        await serve(runtime)


def main() -> None:
    asyncio.run(_main())


if __name__ == "__main__":
    main()
