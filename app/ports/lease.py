"""The execution lease: at most one process submits orders, and the database can tell which."""

from __future__ import annotations

from typing import Protocol


class LeaseLost(RuntimeError):
    """This process no longer holds the execution lease: it must not submit anything."""


class ExecutionLease(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def acquire(self, *, holder: str, ttl_ms: int) -> int | None:
        """Take the lease if it is free, expired or already ours; returns a new fencing token
        (strictly greater than every earlier one), or None while another holder's lease lives."""
        ...

    async def renew(self, *, holder: str, token: int, ttl_ms: int) -> bool:
        """Extend our lease; False when it expired or was taken over (then we are fenced)."""
        ...

    async def verify(self, token: int) -> bool:
        """Is `token` the current, unexpired lease? Checked before every submit."""
        ...

    async def release(self, *, holder: str, token: int) -> None: ...
