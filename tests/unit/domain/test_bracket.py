"""Bracket prices, leg ids and the exit configuration that asks for legs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain.bracket import BracketSpec, LegKind, leg_id, leg_kind
from app.domain.signal import Side
from app.exits.config import ExitConfig, Target
from app.strategies.exit_codec import exit_from_dict, exit_to_dict


def test_prices_sit_on_the_tick_and_never_further_out_than_configured() -> None:
    spec = BracketSpec(stop_pct=3.0, target_pct=6.0)
    assert spec.prices(Decimal("10.07"), Side.BUY) == (Decimal("10.67"), Decimal("9.77"))
    assert spec.prices(Decimal("10.07"), Side.SELL) == (Decimal("9.47"), Decimal("10.37"))
    assert spec.prices(Decimal("0.5003"), Side.BUY) == (Decimal("0.5303"), Decimal("0.4853"))


def test_a_spec_refuses_impossible_distances() -> None:
    with pytest.raises(ValueError, match="bracket"):
        BracketSpec(stop_pct=100.0, target_pct=5.0)
    with pytest.raises(ValueError, match="below zero"):
        BracketSpec(stop_pct=3.0, target_pct=120.0).prices(Decimal("10"), Side.SELL)


def test_leg_ids_derive_from_the_entry_and_name_their_kind() -> None:
    assert leg_id("tr-abc", LegKind.TAKE_PROFIT) == "tr-abc-tp"
    assert leg_kind("tr-abc-sl") is LegKind.STOP_LOSS
    assert leg_kind("tr-abc") is None


def test_exit_config_asks_for_legs_only_with_one_whole_target_and_no_trail() -> None:
    config = ExitConfig(stop_pct=2.0, targets=(Target(5.0, 1.0),), bracket=True)
    assert config.bracket_spec() == BracketSpec(stop_pct=2.0, target_pct=5.0)
    assert ExitConfig().bracket_spec() is None
    for bad in (
        {"trailing_pct": 1.0},
        {"trailing_atr": 2.0},
        {"targets": (Target(3.0, 0.5), Target(6.0, 1.0))},
    ):
        with pytest.raises(ValueError, match="bracket takes"):
            ExitConfig(bracket=True, **bad)


def test_the_bracket_flag_round_trips_through_a_stored_configuration() -> None:
    config = exit_from_dict({"bracket": True})
    assert config.bracket and exit_from_dict(exit_to_dict(config)) == config
    with pytest.raises(ValueError, match="bracket takes"):
        exit_from_dict({"bracket": True, "trailing_pct": 1.0})
