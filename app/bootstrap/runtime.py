"""What a built process is: its role, its services in drain order, what to close."""

from __future__ import annotations

import enum
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from app.ports.bus import MessageBus
from app.ports.clock import Clock
from app.ports.ledger import Ledger
from app.ports.service import Service
from app.services.market_data import StreamRouter
from app.services.shard_worker import ShardWorker
from app.services.signal_consumer import SignalConsumer


class Role(enum.StrEnum):
    """What a process runs: everything (monolith) or one role of the sharded topology."""

    MONOLITH = "monolith"
    ROUTER = "router"
    SHARD = "shard"
    RECORDER = "recorder"
    EXECUTOR = "executor"


class ConfigurationError(RuntimeError):
    """The settings ask for something this build cannot run; the message says what."""


class VenueUnreachable(RuntimeError):
    """The configured venue could not be reached or refused the login at startup."""


@dataclass
class Runtime:
    """Everything a process role runs, in the order it must be drained on stop."""

    role: Role
    stages: list[list[Service]]
    bus: MessageBus
    clock: Clock
    ledger: Ledger | None = None
    router: StreamRouter | None = None
    shards: list[ShardWorker] = field(default_factory=list)
    consumer: SignalConsumer | None = None
    metrics_port: int | None = None
    health_port: int | None = None
    health_host: str = "127.0.0.1"
    checks: dict[str, Callable[[], bool]] = field(default_factory=dict)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def __aenter__(self) -> Runtime:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.bus.close()
        for close in self.closers:
            await close()
        if self.ledger is not None:
            await self.ledger.close()


def process_identity(role: str) -> str:
    """Who this process is, for leases and consumer names: unique per incarnation."""
    return f"{role}-{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
