"""`trader indicators`: compute indicators over a bar file and write them next to the bars.

    trader indicators --bars bars.parquet --indicator rsi:14 --indicator macd:12,26,9 \\
        --out with_indicators.parquet [--mode batch|incremental]

The bar file needs the columns symbol, ts, open, high, low, close, volume (`ts` is the bar start,
as int ns since the epoch or a timestamp column). Each symbol is computed on its own, in time
order; the output has the bar columns in the input's row order plus one float column per
indicator output, named by its key (`rsi_14`, `macd_12_26_9_signal`, ...; NaN while not ready).
Indicators use the `name:params` form of app.indicators.grammar. Both modes give the same
numbers; `incremental` replays the bars one by one through the live engine.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import typer

from app.domain.market import Bar
from app.indicators import (
    BarArrays,
    BatchRun,
    IndicatorPlan,
    IndicatorSet,
    NewYorkCalendar,
    Output,
    Ref,
    parse_indicator,
)
from app.indicators.spec import FloatArray, outputs_of

BAR_COLUMNS = ("symbol", "ts", "open", "high", "low", "close", "volume")


class Mode(enum.StrEnum):
    batch = "batch"
    incremental = "incremental"


def _parse_all(texts: list[str]) -> list[Output]:
    if not texts:
        raise typer.BadParameter(
            "give at least one indicator, e.g. --indicator rsi:14", param_hint="--indicator"
        )
    columns: dict[str, Output] = {}
    for text in texts:
        try:
            ref: Ref = parse_indicator(text)
        except ValueError as err:
            raise typer.BadParameter(f"{text!r}: {err}", param_hint="--indicator") from None
        for out in (ref,) if isinstance(ref, Output) else outputs_of(ref):
            columns.setdefault(out.key, out)
    return list(columns.values())


def _read_bars(path: Path) -> pa.Table:
    if not path.is_file():
        raise typer.BadParameter(f"no such file: {path}", param_hint="--bars")
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as err:
        raise typer.BadParameter(
            f"cannot read {path} as parquet: {err}", param_hint="--bars"
        ) from None
    missing = [name for name in BAR_COLUMNS if name not in table.column_names]
    if missing:
        raise typer.BadParameter(
            f"{path} lacks column(s) {', '.join(missing)}; needs {', '.join(BAR_COLUMNS)}",
            param_hint="--bars",
        )
    return table.select(list(BAR_COLUMNS))


def _timestamps_ns(column: pa.ChunkedArray) -> np.ndarray[Any, np.dtype[np.int64]]:
    if pa.types.is_timestamp(column.type):
        column = pc.cast(column, pa.timestamp("ns", tz=column.type.tz))
    elif not pa.types.is_integer(column.type):
        raise typer.BadParameter(
            f"ts must be int ns or a timestamp, not {column.type}", param_hint="--bars"
        )
    if column.null_count:
        raise typer.BadParameter("ts has nulls", param_hint="--bars")
    return np.asarray(pc.cast(column, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)


def _float_column(table: pa.Table, name: str) -> FloatArray:
    column = table.column(name)
    if column.null_count:
        raise typer.BadParameter(f"{name} has nulls", param_hint="--bars")
    try:
        return np.asarray(
            pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
        )
    except pa.ArrowException as err:
        raise typer.BadParameter(f"{name} is not numeric: {err}", param_hint="--bars") from None


def _batch(arrays: BarArrays, outputs: list[Output], calendar: NewYorkCalendar) -> list[FloatArray]:
    run = BatchRun(arrays, calendar=calendar)
    return [np.asarray(run.series(out)) for out in outputs]


def _incremental(
    symbol: str, arrays: BarArrays, outputs: list[Output], calendar: NewYorkCalendar
) -> list[FloatArray]:
    indicator_set = IndicatorSet(IndicatorPlan(outputs), symbol=symbol, calendar=calendar)
    slots = [indicator_set.index(out) for out in outputs]
    values = indicator_set.values
    result = np.empty((len(outputs), len(arrays)))
    rows = zip(
        arrays.ts.tolist(),
        arrays.open.tolist(),
        arrays.high.tolist(),
        arrays.low.tolist(),
        arrays.close.tolist(),
        arrays.volume.tolist(),
        strict=True,
    )
    for i, (ts, open_, high, low, close, volume) in enumerate(rows):
        bar = Bar(symbol, ts, 0, open_, high, low, close, int(volume), 0, close)
        indicator_set.update(bar)
        result[:, i] = [values[slot] for slot in slots]
    return list(result)


def indicators(
    bars: Annotated[Path, typer.Option("--bars", help="Input bar file (parquet).")],
    out: Annotated[Path, typer.Option("--out", help="Output parquet file.")],
    indicator: Annotated[
        list[str] | None,
        typer.Option(
            "--indicator", "-i", help="Indicator as name:params, e.g. rsi:14 (repeatable)."
        ),
    ] = None,
    mode: Annotated[
        Mode, typer.Option("--mode", help="batch (vectorized) or incremental.")
    ] = Mode.batch,
) -> None:
    """Compute indicators per symbol over a bar file and write bars + indicator columns."""
    outputs = _parse_all(indicator or [])
    table = _read_bars(bars)
    if table.column("symbol").null_count:
        raise typer.BadParameter("symbol has nulls", param_hint="--bars")
    symbols = np.asarray(table.column("symbol").cast(pa.string()).to_pylist(), dtype=object)
    ts = _timestamps_ns(table.column("ts"))
    fields = {
        name: _float_column(table, name) for name in ("open", "high", "low", "close", "volume")
    }
    columns = np.full((len(outputs), table.num_rows), np.nan)
    calendar = NewYorkCalendar()
    for symbol in dict.fromkeys(symbols.tolist()):
        rows = np.flatnonzero(symbols == symbol)
        rows = rows[np.argsort(ts[rows], kind="stable")]
        try:
            arrays = BarArrays(
                ts=ts[rows],
                open=fields["open"][rows],
                high=fields["high"][rows],
                low=fields["low"][rows],
                close=fields["close"][rows],
                volume=fields["volume"][rows],
            )
        except ValueError as err:
            raise typer.BadParameter(f"symbol {symbol}: {err}", param_hint="--bars") from None
        if mode is Mode.batch:
            computed = _batch(arrays, outputs, calendar)
        else:
            computed = _incremental(str(symbol), arrays, outputs, calendar)
        for k, values in enumerate(computed):
            columns[k, rows] = values
    result = table
    for k, output in enumerate(outputs):
        result = result.append_column(output.key, pa.array(columns[k], type=pa.float64()))
    pq.write_table(result, out)
    typer.echo(f"wrote {table.num_rows} bars with {len(outputs)} indicator columns to {out}")
