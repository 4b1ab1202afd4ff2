"""Owns the event loop of a worker process: signal handling, running services, graceful drain."""

from __future__ import annotations

import asyncio
import gc
import signal
from collections.abc import Awaitable, Callable

import prometheus_client
import structlog

from app.bootstrap import ConfigurationError, Role, Runtime, build
from app.observability.health import HealthServer
from app.observability.logging import configure_logging
from app.ports.service import GroupConsumer, Service
from app.settings import LogFormat, Settings

log = structlog.get_logger()

DRAIN_TIMEOUT_S = 15.0


async def serve(
    runtime: Runtime,
    *,
    duration_s: float | None = None,
    on_tick: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Run every service until SIGINT/SIGTERM, the duration, or the feed ends; then drain the
    stages in order (inputs first) so nothing taken in is left half-done. Every consumer group
    is joined before any service starts, so entries published while a consumer is still
    warming up wait for it."""
    structlog.contextvars.bind_contextvars(role=runtime.role.value)
    if runtime.metrics_port is not None:
        prometheus_client.start_http_server(runtime.metrics_port)
        log.info("metrics_serving", port=runtime.metrics_port)
    stages = [stage for stage in runtime.stages if stage]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    health: HealthServer | None = None
    for stage in stages:
        for service in stage:
            if isinstance(service, GroupConsumer):
                for topic, group in service.consumer_groups():
                    await runtime.bus.join(topic, group)
    try:
        async with asyncio.TaskGroup() as tasks:
            running = {
                service.name: (service, tasks.create_task(service.run(), name=service.name))
                for stage in stages
                for service in stage
            }
            if runtime.health_port is not None:
                health = HealthServer(
                    host=runtime.health_host,
                    port=runtime.health_port,
                    role=runtime.role.value,
                    checks=lambda: {
                        **{name: not task.done() for name, (_, task) in running.items()},
                        **{name: check() for name, check in runtime.checks.items()},
                    },
                )
                await health.start()
            first_stage = [running[s.name][1] for s in stages[0]]
            ended = asyncio.ensure_future(asyncio.wait(first_stage))
            deadline = None if duration_s is None else loop.time() + duration_s
            while not stop.is_set() and not ended.done():
                if deadline is not None and loop.time() >= deadline:
                    break
                if on_tick is not None:
                    await on_tick()
                await asyncio.wait([ended], timeout=0.25)
            ended.cancel()
            log.info("draining", reason="signal" if stop.is_set() else "duration or end of feed")
            for stage in stages:
                await _drain(stage, [running[s.name][1] for s in stage])
    finally:
        if health is not None:
            await health.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def _drain(stage: list[Service], tasks: list[asyncio.Task[None]]) -> None:
    for service in stage:
        service.request_stop()
    _, pending = await asyncio.wait(tasks, timeout=DRAIN_TIMEOUT_S)
    for task in pending:
        log.warning("drain_timed_out", service=task.get_name())
        task.cancel()
    if pending:
        await asyncio.wait(pending)


def settle_heap() -> None:
    """Move everything alive after start-up (modules, settings, the built services) out of the
    collector's reach. A full collection over an imported stack costs 100-450 ms here and
    stalls the event loop with it; frozen objects are never scanned again, so later full
    collections only walk what the services created since."""
    gc.collect()
    gc.freeze()


def main(role: Role) -> None:
    """The entrypoint of every worker module: settings, logging, build the role, serve it."""
    settings = Settings()
    configure_logging(json_output=settings.log_format is LogFormat.JSON, level=settings.log_level)

    async def run() -> None:
        async with await build(settings, role=role) as runtime:
            settle_heap()
            await serve(runtime)

    try:
        asyncio.run(run())
    except ConfigurationError as exc:
        log.error("configuration_refused", error=str(exc))
        raise SystemExit(2) from exc
