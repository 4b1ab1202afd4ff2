from __future__ import annotations

from typing import Any

import pytest

from app.brokers.ibkr.config import IbkrConfig


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"port": 0}, "port"),
        ({"connect_timeout_s": 0}, "connect_timeout_s"),
        ({"request_timeout_s": -1}, "request_timeout_s"),
        ({"silence_timeout_s": 0}, "silence_timeout_s"),
        ({"market_data_type": 5}, "market_data_type"),
        ({"initial_attempts": 0}, "initial_attempts"),
    ],
)
def test_nonsense_is_refused(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        IbkrConfig(**changes)


def test_silence_watch_can_be_switched_off() -> None:
    assert IbkrConfig(silence_timeout_s=None).silence_timeout_s is None
