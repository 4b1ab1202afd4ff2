"""Specs are values with stable keys; the plan dedups them, orders dependencies first and
refuses dependency loops when it is built."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.indicators import (
    ATR,
    EMA,
    MACD,
    RSI,
    SMA,
    VWAP,
    BBands,
    Donchian,
    Highest,
    IndicatorCycleError,
    IndicatorParamError,
    IndicatorPlan,
    IndicatorSpec,
    Lowest,
    Output,
    RelVolume,
    Slope,
    StdDev,
    Stoch,
    TrueRange,
    VWAPBands,
)
from app.indicators.spec import output_of


@dataclass(frozen=True, slots=True, eq=False)
class Loop(IndicatorSpec):
    """A spec whose dependency points back at it through `Pool`."""

    name = "loop"
    tag: int = 0

    def params(self) -> tuple[object, ...]:
        return (self.tag,)

    def deps(self) -> tuple[IndicatorSpec, ...]:
        return (Pool(self.tag),)


@dataclass(frozen=True, slots=True, eq=False)
class Pool(IndicatorSpec):
    name = "pool"
    tag: int = 0

    def params(self) -> tuple[object, ...]:
        return (self.tag,)

    def deps(self) -> tuple[IndicatorSpec, ...]:
        return (Loop(self.tag),) if self.tag >= 0 else ()


@dataclass(frozen=True, slots=True, eq=False)
class SelfLoop(IndicatorSpec):
    name = "self_loop"

    def deps(self) -> tuple[IndicatorSpec, ...]:
        return (SelfLoop(),)


@pytest.mark.parametrize(
    ("ref", "key"),
    [
        (SMA(10), "sma_10"),
        (EMA(9, source="close"), "ema_9"),
        (EMA(12, warmup=26), "ema_12_26"),
        (SMA(20, "volume"), "sma_20_volume"),
        (RSI(14), "rsi_14"),
        (MACD(12, 26, 9), "macd_12_26_9"),
        (MACD(12, 26, 9).signal, "macd_12_26_9_signal"),
        (BBands(20, 2), "bbands_20_2"),
        (BBands(20, 2.5).upper, "bbands_20_2.5_upper"),
        (Stoch(14, 3, 3).d, "stoch_14_3_3_d"),
        (Donchian(20).middle, "donchian_20_middle"),
        (Highest(20), "max_20_high"),
        (VWAPBands(2).lower, "vwap_bands_2_lower"),
        (RelVolume(20, 5), "rvol_20_5"),
        (TrueRange(), "trange"),
        (Slope(EMA(9), 3), "slope_3_ema_9"),
        (Slope(MACD(12, 26, 9).hist, 2), "slope_2_macd_12_26_9_hist"),
    ],
)
def test_keys_are_stable_column_names(ref: IndicatorSpec | Output, key: str) -> None:
    assert output_of(ref).key == key if isinstance(ref, Output) else ref.key == key


def test_specs_are_equal_and_hash_equal_by_value() -> None:
    assert EMA(9) == EMA(period=9, source="close")
    assert hash(EMA(9)) == hash(EMA(period=9, source="close"))
    assert BBands(20, 2) == BBands(20, 2.0)
    assert EMA(9, warmup=5) == EMA(9)  # a warm-up shorter than the period changes nothing
    assert EMA(9) != SMA(9)
    assert EMA(9) != EMA(9, source="open")
    assert len({EMA(9), EMA(9), SMA(9), EMA(10)}) == 3
    assert Slope(EMA(9), 3) == Slope(EMA(9), 3)
    assert MACD(12, 26, 9).signal == Output(MACD(12, 26, 9), "signal")


@given(
    a=st.tuples(st.integers(1, 4), st.integers(0, 6), st.sampled_from(["close", "open"])),
    b=st.tuples(st.integers(1, 4), st.integers(0, 6), st.sampled_from(["close", "open"])),
)
def test_equality_is_exactly_key_equality(a: tuple[int, int, str], b: tuple[int, int, str]) -> None:
    x = EMA(a[0], warmup=a[1], source=a[2])  # type: ignore[arg-type]
    y = EMA(b[0], warmup=b[1], source=b[2])  # type: ignore[arg-type]
    assert (x == y) == (x.key == y.key)
    same_ema = (max(a[0], a[1]), a[0], a[2]) == (max(b[0], b[1]), b[0], b[2])
    assert (x == y) == same_ema


def test_specs_survive_pickling_with_a_fresh_hash() -> None:
    for spec in (EMA(12, warmup=26), BBands(20, 2.5), Slope(MACD(12, 26, 9).hist, 2), VWAP()):
        copy = pickle.loads(pickle.dumps(spec))
        assert copy == spec and hash(copy) == hash(spec) and copy.key == spec.key
    payload = pickle.dumps(RSI(14))
    script = (
        "import pickle\n"
        "from app.indicators import RSI\n"
        f"print(hash(pickle.loads({payload!r})) == hash(RSI(14)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
        env={**os.environ, "PYTHONHASHSEED": "4242"},  # another process, another str hash
    )
    assert done.stdout.strip() == "True"


def test_specs_are_frozen() -> None:
    spec = SMA(10)
    with pytest.raises(AttributeError):
        spec.period = 11  # type: ignore[misc]


@pytest.mark.parametrize(
    "make",
    [
        lambda: SMA(0),
        lambda: SMA(2.5),  # type: ignore[arg-type]
        lambda: SMA(True),
        lambda: EMA(9, source="vwap"),  # type: ignore[arg-type]
        lambda: MACD(26, 12, 9),
        lambda: BBands(20, -1.0),
        lambda: BBands(20, float("nan")),
        lambda: RelVolume(20, 0),
        lambda: Slope(MACD(12, 26, 9), 3),  # ambiguous: which MACD output?
        lambda: Slope(EMA(9), 0),
        lambda: Output(EMA(9), "signal"),
    ],
)
def test_bad_parameters_are_refused(make: object) -> None:
    with pytest.raises(IndicatorParamError):
        make()  # type: ignore[operator]


def _assert_topological(plan: IndicatorPlan) -> None:
    position = {spec: i for i, spec in enumerate(plan.order)}
    for spec in plan.order:
        for dep in spec.deps():
            assert position[dep] < position[spec], f"{dep.key} must come before {spec.key}"


def test_dependencies_are_resolved_and_ordered_first() -> None:
    plan = IndicatorPlan.of(Slope(MACD(12, 26, 9).hist, 2), BBands(20, 2), ATR(14))
    assert plan.keys == (
        "ema_12_26",
        "ema_26",
        "macd_12_26_9",
        "slope_2_macd_12_26_9_hist",
        "sma_20",
        "stddev_20",
        "bbands_20_2",
        "trange",
        "atr_14",
    )
    _assert_topological(plan)
    assert plan.demanded == (Slope(MACD(12, 26, 9).hist, 2), BBands(20, 2), ATR(14))


def test_equal_specs_are_planned_once() -> None:
    plan = IndicatorPlan.of(
        EMA(26), MACD(12, 26, 9), MACD(12, 26, 9).signal, SMA(20), BBands(20, 2), Stoch(20, 3, 3),
        Donchian(20), EMA(26),
    )  # fmt: skip
    keys = plan.keys
    assert len(keys) == len(set(keys))
    assert keys.count("ema_26") == 1
    assert keys.count("max_20_high") == 1  # shared by Stoch(20, ...) and Donchian(20)
    assert set(plan.demanded) == {
        EMA(26),
        MACD(12, 26, 9),
        SMA(20),
        BBands(20, 2),
        Stoch(20, 3, 3),
        Donchian(20),
    }
    assert Highest(20) in plan and Lowest(20) in plan and StdDev(20) in plan
    _assert_topological(plan)


def test_with_demands_grows_a_new_plan() -> None:
    base = IndicatorPlan.of(EMA(9), VWAP())
    grown = base.with_demands(RSI(14), EMA(9))
    assert base.keys == ("ema_9", "vwap")
    assert grown.keys == ("ema_9", "vwap", "rsi_14")


def test_cycles_are_refused_when_the_plan_is_built() -> None:
    with pytest.raises(IndicatorCycleError, match="loop_1 -> pool_1 -> loop_1"):
        IndicatorPlan.of(Loop(1))
    with pytest.raises(IndicatorCycleError, match="self_loop -> self_loop"):
        IndicatorPlan.of(EMA(9), SelfLoop())
    assert IndicatorPlan.of(Pool(-1)).keys == ("pool_-1",)  # no loop, no error
