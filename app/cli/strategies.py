"""`trader strategies list|enable|disable|set|add-rule`: strategy configuration in the database.

Edits are validated by building the strategy before they are saved, and running processes
pick them up within `TRADER_STRATEGY_POLL_S` seconds, without a restart.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import msgspec
import typer
from rich.console import Console
from rich.table import Table

from app.bootstrap.strategies import open_strategy_store
from app.clocks.live import LiveClock
from app.domain.strategy_config import StrategyConfig
from app.persistence.errors import SchemaNotAtHeadError
from app.persistence.migrate import upgrade
from app.persistence.strategy_configs import SqlStrategyConfigStore
from app.settings import Settings
from app.strategies.catalog import RULE, build_configured

T = TypeVar("T")

strategies = typer.Typer(help="Strategy configuration: list, enable, disable, set, add-rule")

Name = Annotated[str, typer.Argument(help="The strategy's name (see `trader strategies list`)")]


def _on_store(action: Callable[[SqlStrategyConfigStore], Awaitable[T]]) -> T:
    async def run() -> T:
        settings = Settings()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if settings.migrate_on_start:
            await upgrade(settings.ledger_url)
        store = await open_strategy_store(settings.ledger_url, LiveClock())
        try:
            return await action(store)
        finally:
            await store.close()

    try:
        return asyncio.run(run())
    except SchemaNotAtHeadError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


@strategies.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line")] = False,
) -> None:
    """Every configured strategy: enabled, priority, parameters, exit overrides."""
    configs = _on_store(lambda store: store.all())
    if as_json:
        for config in configs:
            typer.echo(msgspec.json.encode(config).decode())
        return
    table = Table("name", "kind", "on", "priority", "params", "exit", "version", title="strategies")
    for c in configs:
        try:
            priority = str(build_configured(c).priority)
        except ValueError as exc:
            priority = f"invalid: {exc}"
        table.add_row(
            c.name,
            c.kind,
            "yes" if c.enabled else "no",
            priority,
            json.dumps(c.params, sort_keys=True),
            json.dumps(c.exit, sort_keys=True) if c.exit else "-",
            str(c.version),
        )
    Console().print(table)


@strategies.command()
def enable(name: Name) -> None:
    """Let the strategy take entries again."""
    _switch(name, enabled=True)


@strategies.command()
def disable(name: Name) -> None:
    """Refuse the strategy's entries (its open positions still exit by their rules)."""
    _switch(name, enabled=False)


def _switch(name: str, *, enabled: bool) -> None:
    config = _existing(name)
    _save(msgspec.structs.replace(config, enabled=enabled))
    typer.echo(f"{name}: {'enabled' if enabled else 'disabled'}")


@strategies.command("set")
def set_(
    name: Name,
    assignments: Annotated[
        list[str] | None,
        typer.Argument(help='Parameters as key=value; values are JSON (30, 2.5, true, "x")'),
    ] = None,
    priority: Annotated[int | None, typer.Option(help="Arbitration priority (higher wins)")] = None,
    exit_: Annotated[
        list[str] | None,
        typer.Option("--exit", help="Exit setting as key=value, e.g. --exit stop_pct=2.5"),
    ] = None,
) -> None:
    """Change parameters, priority or exit settings; checked before anything is saved."""
    config = _existing(name)
    params = {**config.params, **_pairs(assignments or [])}
    exit_config = {**(config.exit or {}), **_pairs(exit_ or [])} or None
    updated = msgspec.structs.replace(
        config,
        params=params,
        exit=exit_config,
        priority=config.priority if priority is None else priority,
    )
    _save(updated)
    typer.echo(f"{name}: saved")


@strategies.command("add-rule")
def add_rule(
    path: Annotated[Path, typer.Argument(help="A rule as JSON (see README: discovered rules)")],
    priority: Annotated[int | None, typer.Option(help="Arbitration priority")] = None,
    disabled: Annotated[bool, typer.Option(help="Store it switched off")] = False,
) -> None:
    """Promote a discovered rule to a running strategy, without code."""
    try:
        rule = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise typer.BadParameter(f"{path}: {exc}") from exc
    if not isinstance(rule, dict) or not isinstance(rule.get("name"), str):
        raise typer.BadParameter(f"{path}: a rule is a JSON object with a string 'name'")
    config = StrategyConfig(
        name=rule["name"], kind=RULE, enabled=not disabled, priority=priority, params=rule
    )
    _save(config)
    typer.echo(f"{config.name}: rule saved")


def _existing(name: str) -> StrategyConfig:
    config = _on_store(lambda store: store.get(name))
    if config is None:
        known = ", ".join(c.name for c in _on_store(lambda store: store.all()))
        typer.echo(f"error: no strategy named {name!r}; known: {known}", err=True)
        raise typer.Exit(1)
    return config


def _save(config: StrategyConfig) -> None:
    try:
        build_configured(config)
    except ValueError as exc:
        typer.echo(f"error: {config.name}: {exc}", err=True)
        raise typer.Exit(1) from exc
    _on_store(lambda store: store.save(config, now_ns=LiveClock().now_ns()))


def _pairs(items: list[str]) -> dict[str, Any]:
    pairs: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{item!r}: expected key=value")
        try:
            pairs[key] = json.loads(raw)
        except json.JSONDecodeError:
            pairs[key] = raw  # a bare word is a string
    return pairs
