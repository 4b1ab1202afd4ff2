"""AlpacaConfig refuses a paper key on the live venue and a live key on the paper one (S24)."""

from __future__ import annotations

import pytest

from app.brokers.alpaca.config import (
    LIVE_TRADING_URL,
    PAPER_TRADING_URL,
    AlpacaConfig,
    CredentialMismatch,
)

PAPER_KEY = "PKCANARY1234567890"
LIVE_KEY = "AKCANARY1234567890"


def test_a_live_key_with_the_paper_url_refuses_to_start_without_naming_the_key() -> None:
    with pytest.raises(CredentialMismatch, match="live key") as raised:
        AlpacaConfig(key_id=LIVE_KEY, secret_key="s", base_url=PAPER_TRADING_URL)
    assert LIVE_KEY not in str(raised.value)


def test_a_paper_key_with_the_live_url_refuses_to_start() -> None:
    with pytest.raises(CredentialMismatch, match="paper key"):
        AlpacaConfig(key_id=PAPER_KEY, secret_key="s", base_url=LIVE_TRADING_URL)


def test_a_mismatched_stream_url_is_refused_too() -> None:
    with pytest.raises(CredentialMismatch):
        AlpacaConfig(
            key_id=PAPER_KEY,
            secret_key="s",
            base_url=PAPER_TRADING_URL,
            trade_stream_url="wss://api.alpaca.markets/stream",
        )


def test_a_key_of_unknown_kind_is_refused_on_alpaca_hosts() -> None:
    with pytest.raises(CredentialMismatch, match="cannot tell"):
        AlpacaConfig(key_id="XX123", secret_key="s", base_url=PAPER_TRADING_URL)


def test_matching_keys_and_urls_start_and_derive_the_stream_urls() -> None:
    paper = AlpacaConfig(key_id=PAPER_KEY, secret_key="s", feed="sip")
    live = AlpacaConfig(key_id=LIVE_KEY, secret_key="s", base_url=LIVE_TRADING_URL)
    assert paper.trade_stream_url == "wss://paper-api.alpaca.markets/stream"
    assert paper.data_stream_url == "wss://stream.data.alpaca.markets/v2/sip"
    assert live.trade_stream_url == "wss://api.alpaca.markets/stream"


def test_a_test_venue_is_not_judged_by_the_key() -> None:
    config = AlpacaConfig(key_id=LIVE_KEY, secret_key="s", base_url="http://127.0.0.1:9999")
    assert config.trade_stream_url == "ws://127.0.0.1:9999/stream"


def test_secrets_stay_out_of_the_repr() -> None:
    config = AlpacaConfig(key_id=PAPER_KEY, secret_key="topsecret")
    assert PAPER_KEY not in repr(config)
    assert "topsecret" not in repr(config)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("feed", "otc", "feed"),
        ("request_timeout_s", 0.0, "request_timeout_s"),
        ("data_silence_timeout_s", -1.0, "silence timeout"),
    ],
)
def test_bad_values_are_refused(field: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AlpacaConfig(key_id=PAPER_KEY, secret_key="s", **{field: value})  # type: ignore[arg-type]
