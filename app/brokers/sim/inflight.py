"""Requests on their way to the simulated matching engine, due latency_ns after receipt."""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class GoLive:
    """A new order reaches the engine and goes live."""

    client_order_id: str


@dataclass(frozen=True, slots=True)
class CancelRequest:
    client_order_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplaceRequest:
    """Replace old_id by new_id; total_qty counts the shares old_id has already filled."""

    old_id: str
    new_id: str
    total_qty: Decimal


Request = GoLive | CancelRequest | ReplaceRequest


class InFlight:
    """Requests ordered by due time, then by arrival, so equal due times keep receipt order."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, Request]] = []
        self._arrivals = itertools.count()

    def schedule(self, due_ns: int, request: Request) -> None:
        heapq.heappush(self._heap, (due_ns, next(self._arrivals), request))

    def pop_due(self, now_ns: int) -> tuple[int, Request] | None:
        """The next request due at or before now_ns with its due time, or None."""
        if not self._heap or self._heap[0][0] > now_ns:
            return None
        due_ns, _, request = heapq.heappop(self._heap)
        return due_ns, request
