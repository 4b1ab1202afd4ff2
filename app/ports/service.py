"""A process role's unit of work: runs until it finishes, is drained or is cancelled."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


class Service(Protocol):
    name: str

    async def run(self) -> None:
        """Do the work; return when the input ends or after request_stop() has drained it."""
        ...

    def request_stop(self) -> None:
        """Stop taking new input, finish what is in hand, then let run() return."""
        ...


@runtime_checkable
class GroupConsumer(Protocol):
    """A service that reads streams through consumer groups. Its groups are joined before any
    service of the process starts, so no entry published meanwhile is dropped before it is read."""

    def consumer_groups(self) -> list[tuple[str, str]]:
        """The (topic, group) pairs it reads."""
        ...
