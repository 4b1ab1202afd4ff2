"""Choosing a venue by settings: what is refused before anything connects, and why."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from pydantic import ValidationError

from app.bootstrap.runtime import ConfigurationError
from app.bootstrap.venue_alpaca import alpaca_config, alpaca_limiter
from app.bootstrap.venue_ibkr import ibkr_config
from app.bootstrap.venue_link import Closer
from app.brokers.ratelimit import SlidingWindowLimiter
from app.brokers.ratelimit_redis import RedisRateLimiter
from app.services.gap_relay import GapRelay
from app.settings import FeedKind, Settings, Venue

KEYS: dict[str, Any] = {"key_id": "PKTEST", "secret_key": "secret"}
ALPACA: dict[str, Any] = {
    "venue": "alpaca",
    "feed": "venue",
    "symbols": "aapl, MSFT,AAPL",
    "alpaca": KEYS,
}


def settings(**values: Any) -> Settings:
    return Settings.model_validate(values)


def test_the_watchlist_is_comma_separated_upper_cased_and_deduplicated() -> None:
    assert settings(**ALPACA).symbols == ("AAPL", "MSFT")


def test_the_watchlist_comes_comma_separated_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRADER_VENUE", "alpaca")
    monkeypatch.setenv("TRADER_FEED", "venue")
    monkeypatch.setenv("TRADER_SYMBOLS", "SYNA,SYNB")
    assert Settings().symbols == ("SYNA", "SYNB")


@pytest.mark.parametrize("symbol", ["1ABC", "A B", "TOOLONGSYMBOL", "$"])
def test_a_symbol_that_is_not_a_us_stock_symbol_is_refused(symbol: str) -> None:
    with pytest.raises(ValidationError, match="not a US stock symbol"):
        settings(**{**ALPACA, "symbols": symbol})


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"venue": "sim", "feed": "venue", "symbols": "AAPL"}, "no market data of its own"),
        ({**ALPACA, "feed": "synthetic"}, "set TRADER_FEED=venue"),
        ({**ALPACA, "symbols": ""}, "needs TRADER_SYMBOLS"),
    ],
)
def test_a_real_venue_trades_on_its_own_market_data(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        settings(**values)


def test_alpaca_settings_become_the_adapters_config() -> None:
    config = alpaca_config(settings(**{**ALPACA, "alpaca": {**KEYS, "data_feed": "sip"}}))
    assert (config.feed, config.base_url) == ("sip", "https://paper-api.alpaca.markets")
    assert config.trade_stream_url == "wss://paper-api.alpaca.markets/stream"
    assert config.data_stream_url == "wss://stream.data.alpaca.markets/v2/sip"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"alpaca": {}}, "needs TRADER_ALPACA__KEY_ID"),
        ({"alpaca": {"key_id": "AKLIVE", "secret_key": "s"}}, "live key"),
        (
            {"alpaca": {**KEYS, "base_url": "https://api.alpaca.markets"}},
            "paper key|set to paper",
        ),
        (
            {
                "account": "live",
                "alpaca": {"key_id": "AKLIVE", "secret_key": "s"},
            },
            "set to live but the URL is paper",
        ),
        ({"synthetic": {"speed": 30.0, "anchor_ns": 1}}, "Alpaca trades in real time"),
    ],
)
def test_alpaca_refuses_to_start_on_mismatched_settings(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        alpaca_config(settings(**{**ALPACA, **overrides}))


def test_a_rate_limit_reserve_as_large_as_the_limit_is_refused() -> None:
    chosen = settings(**{**ALPACA, "alpaca": {**KEYS, "rate_limit_per_min": 10}})
    with pytest.raises(ConfigurationError, match="rate limit"):
        alpaca_limiter(chosen, [])


async def test_sharded_processes_share_the_rate_limit_in_redis() -> None:
    closers: list[Closer] = []
    limiter = alpaca_limiter(settings(**{**ALPACA, "mode": "sharded"}), closers)
    assert isinstance(limiter, RedisRateLimiter)
    for close in closers:
        await close()
    assert isinstance(alpaca_limiter(settings(**ALPACA), []), SlidingWindowLimiter)


def test_a_rehearsal_clock_is_allowed_against_a_venue_simulator() -> None:
    simulator = {**KEYS, "base_url": "http://127.0.0.1:9999"}
    chosen = settings(**{**ALPACA, "alpaca": simulator, "synthetic": {"speed": 30.0}})
    assert alpaca_config(chosen).base_url == "http://127.0.0.1:9999"


def test_ib_trades_in_real_time_and_its_feed_has_its_own_client_id() -> None:
    chosen = settings(venue="ibkr", feed="venue", symbols="AAPL", ibkr={"client_id": 7})
    assert ibkr_config(chosen).client_id == 7
    assert ibkr_config(chosen, client_offset=1).client_id == 8
    sped = settings(venue="ibkr", feed="venue", symbols="AAPL", synthetic={"speed": 2.0})
    with pytest.raises(ConfigurationError, match="IB trades in real time"):
        ibkr_config(sped)


def test_the_defaults_are_the_simulated_venue_on_the_synthetic_tape() -> None:
    chosen = Settings()
    assert (chosen.venue, chosen.feed, chosen.symbols) == (Venue.SIM, FeedKind.SYNTHETIC, ())


class Gap(msgspec.Struct, frozen=True):
    from_ns: int
    to_ns: int


def test_every_gap_asks_each_bound_reconciler_once() -> None:
    relay = GapRelay()
    asked: list[str] = []
    relay(Gap(1, 2))
    relay.bind(lambda: asked.append("consumer"))
    relay(Gap(3, 4))
    relay(Gap(5, 6))
    assert (relay.count, asked) == (3, ["consumer", "consumer"])
