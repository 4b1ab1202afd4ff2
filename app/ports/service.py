"""A process role's unit of work: runs until it finishes, is drained or is cancelled."""

from __future__ import annotations

from typing import Protocol


class Service(Protocol):
    name: str

    async def run(self) -> None:
        """Do the work; return when the input ends or after request_stop() has drained it."""
        ...

    def request_stop(self) -> None:
        """Stop taking new input, finish what is in hand, then let run() return."""
        ...
