"""The text form of an indicator, shared by the CLI and configuration.

Grammar (no spaces)::

    indicator  := trajectory | simple
    trajectory := ("slope" | "accel") ":" N ":" indicator
    simple     := NAME [":" PARAMS] ["@" FIELD] ["." OUTPUT]
    PARAMS     := number ("," number)*

PARAMS fill the indicator's numeric parameters in order (as in its constructor); omitted ones
keep their defaults. FIELD (open, high, low, close, volume) replaces the source of indicators
that have one; OUTPUT picks one output of a multi-output indicator. Examples::

    rsi:14                 RSI(14)
    ema:9                  EMA(9)
    ema:12,26              EMA(12, warmup=26)          (MACD's aligned fast EMA)
    sma:20@volume          SMA(20, source="volume")
    max:20  min:20@close   Highest(20) of the highs, Lowest(20, source="close")
    bbands:20,2.5          BBands(20, 2.5)
    macd:12,26,9           MACD(12, 26, 9)            (all of line, signal, hist)
    macd:12,26,9.signal    MACD(12, 26, 9).signal
    stoch:14,3,3           Stoch(14, 3, 3)
    rvol:20,5              RelVolume(20, 5)
    vwap  vwap_bands:2  obv  trange  gap_pct  minutes_since_open
    slope:3:ema:9          Slope(EMA(9), 3)
    accel:2:macd:12,26,9.hist   Accel(MACD(12, 26, 9).hist, 2)

Names: adx, atr, bbands, donchian, ema, gap_pct, max, min, minutes_since_open, macd, obv, roc,
rsi, rvol, sma, stddev, stoch, trange, vwap, vwap_bands, wma (plus slope, accel).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Final

from app.indicators.averages import EMA, SMA, WMA
from app.indicators.directional import ADX
from app.indicators.dispersion import BBands, StdDev
from app.indicators.errors import IndicatorSyntaxError
from app.indicators.momentum import MACD, ROC, RSI, Stoch
from app.indicators.ranges import ATR, Donchian, Highest, Lowest, TrueRange
from app.indicators.session import GapPct, MinutesSinceOpen
from app.indicators.spec import FIELDS, IndicatorSpec, Output, Ref
from app.indicators.trajectory import Accel, Slope
from app.indicators.volume import OBV, VWAP, RelVolume, VWAPBands

CATALOG: Final[dict[str, type[IndicatorSpec]]] = {
    cls.name: cls
    for cls in (
        SMA, EMA, WMA, RSI, ROC, MACD, Stoch, StdDev, BBands, TrueRange, ATR, Highest, Lowest,
        Donchian, ADX, OBV, VWAP, VWAPBands, RelVolume, GapPct, MinutesSinceOpen,
    )
}  # fmt: skip
TRAJECTORIES: Final[dict[str, type[Slope | Accel]]] = {"slope": Slope, "accel": Accel}

_TRAJECTORY = re.compile(r"(?P<kind>[a-z]+):(?P<n>[0-9]+):(?P<inner>.+)")
_SIMPLE = re.compile(
    r"(?P<name>[a-z_]+)(?::(?P<params>[-+0-9.,eE]*))?(?:@(?P<source>[a-z]+))?(?:\.(?P<output>[a-z_]+))?"
)


def _number(text: str, kind: type, name: str, field: str) -> int | float:
    try:
        return int(text) if kind is int else float(text)
    except ValueError:
        wanted = "an integer" if kind is int else "a number"
        raise IndicatorSyntaxError(f"{name}: {field} must be {wanted}, got {text!r}") from None


def _simple(text: str) -> Ref:
    match = _SIMPLE.fullmatch(text)
    if match is None:
        raise IndicatorSyntaxError(
            f"cannot parse indicator {text!r}; expected name[:p1,p2,...][@field][.output]"
        )
    name = match["name"]
    cls = CATALOG.get(name)
    if cls is None:
        known = ", ".join(sorted((*CATALOG, *TRAJECTORIES)))
        raise IndicatorSyntaxError(f"unknown indicator {name!r}; known: {known}")
    numeric = [f for f in dataclasses.fields(cls) if f.init and f.name not in ("source", "of")]
    raw = match["params"].split(",") if match["params"] else []
    if "" in raw:
        raise IndicatorSyntaxError(f"{name}: empty parameter in {match['params']!r}")
    if len(raw) > len(numeric):
        spelled = ", ".join(f.name for f in numeric) or "none"
        raise IndicatorSyntaxError(
            f"{name} takes at most {len(numeric)} parameters ({spelled}), got {len(raw)}"
        )
    kwargs: dict[str, object] = {
        f.name: _number(p, type(f.default), name, f.name)
        for f, p in zip(numeric, raw, strict=False)
    }
    if match["source"] is not None:
        if "source" not in {f.name for f in dataclasses.fields(cls)}:
            raise IndicatorSyntaxError(f"{name} has no source field to set with @{match['source']}")
        if match["source"] not in FIELDS:
            raise IndicatorSyntaxError(
                f"{name}: unknown field {match['source']!r}; use one of {', '.join(FIELDS)}"
            )
        kwargs["source"] = match["source"]
    spec = cls(**kwargs)
    if match["output"] is None:
        return spec
    return Output(spec, match["output"])


def parse_indicator(text: str) -> Ref:
    """Parse the text form (see module docstring); IndicatorSyntaxError / IndicatorParamError
    (both ValueError) explain what is wrong."""
    text = text.strip()
    trajectory = _TRAJECTORY.fullmatch(text)
    if trajectory is not None and trajectory["kind"] in TRAJECTORIES:
        inner = parse_indicator(trajectory["inner"])
        return TRAJECTORIES[trajectory["kind"]](inner, int(trajectory["n"]))
    return _simple(text)
