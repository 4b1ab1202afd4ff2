"""The executor's hold on the execution lease (S10): wait as a standby, renew, fence each send.

A crashed executor's lease holds its replacement back until it expires, and S1 wants every
venue order linked within 10 s of a restart. Renewed every third of it, a 6 s lease still
outlives a 4 s stall of the event loop; a standby asks for it twice a second.
"""

from __future__ import annotations

import asyncio
import math

import structlog

from app.ports.lease import ExecutionLease, LeaseLost

log = structlog.get_logger()

LEASE_TTL_MS = 6_000
STANDBY_POLL_S = 0.5
# How old the last verification may be when a batch sends a further order (see `recheck`): a
# small fraction of the lease's life, far below its 2 s renewal.
LEASE_RECHECK_S = 0.2


class LeaseHolder:
    """One process's claim on the lease, by the fencing token it was granted."""

    def __init__(
        self,
        lease: ExecutionLease,
        *,
        holder: str,
        ttl_ms: int = LEASE_TTL_MS,
        recheck_s: float = LEASE_RECHECK_S,
    ) -> None:
        self._lease = lease
        self._holder = holder
        self._ttl_ms = ttl_ms
        self._recheck_s = recheck_s
        self._token: int | None = None
        self._verified_at = -math.inf

    async def acquire(self, stopping: asyncio.Event) -> bool:
        """Wait as a standby until this process holds the lease; False if stopped first."""
        while not stopping.is_set():
            self._token = await self._lease.acquire(holder=self._holder, ttl_ms=self._ttl_ms)
            if self._token is not None:
                log.info("execution_lease_acquired", token=self._token)
                return True
            try:
                await asyncio.wait_for(stopping.wait(), STANDBY_POLL_S)
            except TimeoutError:
                continue
        return False

    async def keep(self) -> None:
        """Renew every third of the lease's life; raise LeaseLost once another holds it."""
        while True:
            await asyncio.sleep(self._ttl_ms / 3000)
            token = self._fencing_token()
            if not await self._lease.renew(holder=self._holder, token=token, ttl_ms=self._ttl_ms):
                raise LeaseLost(f"lease {token} was taken over; this executor stops")

    async def release(self) -> None:
        if self._token is not None:
            await self._lease.release(holder=self._holder, token=self._token)

    async def check(self) -> None:
        """Raise LeaseLost unless this process's token is still the current one."""
        started = asyncio.get_running_loop().time()
        token = self._fencing_token()
        if not await self._lease.verify(token):
            raise LeaseLost(f"lease {token} is no longer current; refusing to trade")
        self._verified_at = started

    async def recheck(self) -> None:
        """Verify again only if the last verification began more than `recheck_s` ago.

        This fences as well as a check right before each submit did. A check never proved the
        lease current at the moment the venue got the order: a pause between the check and
        the send (a lock wait, a commit, a stalled event loop) was always possible, and a
        successor can only take the lease once ours has expired, which the check cannot
        foresee either. What fencing rests on is that every submit follows a successful check
        closely; a batch verifies before its decisions are written and its sends follow within
        milliseconds, and the bound keeps any later send of it just as close."""
        if asyncio.get_running_loop().time() - self._verified_at > self._recheck_s:
            await self.check()

    def _fencing_token(self) -> int:
        if self._token is None:
            raise LeaseLost("no execution lease held")
        return self._token
