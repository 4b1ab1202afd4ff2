"""ExitConfig to and from the JSON stored with a strategy's configuration."""

import json

import pytest

from app.exits.config import ExitConfig, Target
from app.strategies.exit_codec import exit_from_dict, exit_to_dict

FULL = ExitConfig(
    stop_pct=2.5,
    trailing_pct=1.5,
    trailing_atr=2.0,
    atr_period=10,
    targets=(Target(3.0, 0.5), Target(6.0, 1.0)),
    max_hold_s=900,
    flatten_before_close_s=None,
    stale_after_s=3.0,
)


@pytest.mark.parametrize("config", [ExitConfig(), FULL])
def test_round_trips_through_json(config: ExitConfig) -> None:
    document = exit_to_dict(config)
    assert json.loads(json.dumps(document)) == document
    assert exit_from_dict(json.loads(json.dumps(document))) == config


def test_spells_every_field_in_plain_json_types() -> None:
    assert exit_to_dict(FULL) == {
        "stop_pct": 2.5,
        "trailing_pct": 1.5,
        "trailing_atr": 2.0,
        "atr_period": 10,
        "targets": [{"pct": 3.0, "fraction": 0.5}, {"pct": 6.0, "fraction": 1.0}],
        "max_hold_s": 900,
        "flatten_before_close_s": None,
        "stale_after_s": 3.0,
        "bracket": False,
    }


def test_a_partial_document_is_laid_over_the_base() -> None:
    assert exit_from_dict({"stop_pct": 1}) == ExitConfig(stop_pct=1.0)
    changed = exit_from_dict({"targets": [{"pct": 9, "fraction": 1}]}, base=FULL)
    assert changed.targets == (Target(9.0, 1.0),)
    assert changed.trailing_atr == 2.0 and changed.stop_pct == 2.5


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"stop": 1}, "exit: unknown key 'stop'"),
        (
            {"targets": [{"pct": 1, "fraction": 1, "qty": 3}]},
            r"exit.targets\[0\]: unknown key 'qty'",
        ),
        ({"stop_pct": "2"}, r"Expected `float`, got `str` - at `\$.stop_pct`"),
        ({"stop_pct": 0}, "stop_pct must be in"),
        ({"targets": []}, "targets must be non-empty"),
        ({"targets": [{"pct": 1, "fraction": 2}]}, r"fraction in \(0, 1\]"),
        ({"max_hold_s": 1.5}, r"Expected `int`, got `float`"),
    ],
)
def test_bad_documents_name_what_is_wrong(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        exit_from_dict(data)
