"""Stream gaps from the venue's connections, passed on to whoever reconciles.

Every reconnect of a venue stream (trade updates, market data, the IB socket) may have lost
messages. The adapters report it as a gap marker; the relay logs it, counts it and asks the
signal consumer to reconcile with the venue at its next housekeeping. The consumer is built
after the broker, so it is bound later; a gap before that is covered by the reconciliation the
consumer runs at startup anyway.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec
import structlog

from app.observability import metrics

log = structlog.get_logger()


class GapRelay:
    def __init__(self) -> None:
        self._targets: list[Callable[[], None]] = []
        self.count = 0

    def bind(self, request_reconcile: Callable[[], None]) -> None:
        self._targets.append(request_reconcile)

    def __call__(self, gap: msgspec.Struct) -> None:
        self.count += 1
        metrics.VENUE_GAPS.inc()
        log.warning("venue_stream_gap", **msgspec.structs.asdict(gap))
        for request in self._targets:
            request()
