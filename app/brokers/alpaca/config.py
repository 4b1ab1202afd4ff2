"""What the Alpaca adapter needs to know, and the refusal to mix paper and live credentials."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

PAPER_TRADING_URL = "https://paper-api.alpaca.markets"
LIVE_TRADING_URL = "https://api.alpaca.markets"
DATA_URL = "https://data.alpaca.markets"
DATA_STREAM_URL = "wss://stream.data.alpaca.markets/v2"

_ORDERS_PAGE_MAX = 500  # Alpaca lists at most this many orders per request
_PAPER_KEY = "PK"
_LIVE_KEY = "AK"
_ALPACA_DOMAIN = "alpaca.markets"
_LIVE_TRADING_HOST = "api.alpaca.markets"


class CredentialMismatch(ValueError):
    """A paper key aimed at the live venue or a live key at the paper one: refuse to start."""


def check_credentials(key_id: str, *trading_urls: str) -> None:
    """Paper keys start with PK, live keys with AK; paper trading hosts contain 'paper-api'.

    Only Alpaca's own trading hosts are judged: a test venue or a proxy says nothing about which
    account it reaches. The message names the key's prefix only, never the key.
    """
    for url in trading_urls:
        host = (urlsplit(url).hostname or "").lower()
        if not host.endswith(_ALPACA_DOMAIN):
            continue
        paper_host = "paper-api" in host
        live_host = host == _LIVE_TRADING_HOST
        if key_id.startswith(_LIVE_KEY) and paper_host:
            raise CredentialMismatch(f"a live key (AK...) is configured with the paper URL {url}")
        if key_id.startswith(_PAPER_KEY) and live_host:
            raise CredentialMismatch(f"a paper key (PK...) is configured with the live URL {url}")
        if not key_id.startswith((_LIVE_KEY, _PAPER_KEY)) and (paper_host or live_host):
            raise CredentialMismatch(
                f"cannot tell whether the key is a paper (PK...) or live (AK...) key for {url}"
            )


def alpaca_hosted(url: str) -> bool:
    """Whether the URL is one of Alpaca's own hosts (not a test venue or a proxy)."""
    return (urlsplit(url).hostname or "").lower().endswith(_ALPACA_DOMAIN)


def check_account(*, live: bool, trading_url: str) -> None:
    """The account the settings name must be the one Alpaca's trading host serves: a paper
    setting never reaches the live venue, a live one never trades on paper by mistake."""
    host = (urlsplit(trading_url).hostname or "").lower()
    if not live and host == _LIVE_TRADING_HOST:
        raise CredentialMismatch(f"the account is set to paper but the URL is live: {trading_url}")
    if live and alpaca_hosted(trading_url) and "paper-api" in host:
        raise CredentialMismatch(f"the account is set to live but the URL is paper: {trading_url}")


def _stream_url(base_url: str) -> str:
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}/stream"


@dataclass(frozen=True, slots=True, kw_only=True)
class AlpacaConfig:
    """URLs default to Alpaca's paper venue; tests point them all at the fake venue.

    `trade_stream_url` defaults to the trading host's /stream, `data_stream_url` to the SIP or
    IEX market-data stream chosen by `feed`. Silence timeouts of None disable the watchdog
    (trade_updates is legitimately quiet while nothing trades, so it is off by default there).
    """

    key_id: str = field(repr=False)
    secret_key: str = field(repr=False)
    base_url: str = PAPER_TRADING_URL
    data_url: str = DATA_URL
    trade_stream_url: str = ""
    data_stream_url: str = ""
    feed: str = "iex"
    extended_hours: bool = False
    request_timeout_s: float = 10.0
    connect_timeout_s: float = 3.0
    connect_attempts: int = 3
    rate_limit_retries: int = 5
    rate_limit_fallback_s: float = 1.0
    rest_workers: int = 4
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    handshake_timeout_s: float = 10.0
    close_timeout_s: float = 2.0
    start_timeout_s: float = 10.0
    data_silence_timeout_s: float | None = 30.0
    trade_silence_timeout_s: float | None = None
    batch_max: int = 5_000
    queue_max: int = 1_000
    orders_page_size: int = 500

    def __post_init__(self) -> None:
        if not self.key_id or not self.secret_key:
            raise ValueError("Alpaca needs both key_id and secret_key")
        if self.feed not in ("iex", "sip"):
            raise ValueError(f"feed must be 'iex' or 'sip', got {self.feed!r}")
        if not self.trade_stream_url:
            object.__setattr__(self, "trade_stream_url", _stream_url(self.base_url))
        if not self.data_stream_url:
            object.__setattr__(self, "data_stream_url", f"{DATA_STREAM_URL}/{self.feed}")
        positive = ("request_timeout_s", "connect_timeout_s", "handshake_timeout_s")
        for name in (*positive, "close_timeout_s", "start_timeout_s", "rate_limit_fallback_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        for name in ("connect_attempts", "rest_workers", "batch_max", "queue_max"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if not 1 <= self.orders_page_size <= _ORDERS_PAGE_MAX:
            raise ValueError(f"orders_page_size must be in [1, {_ORDERS_PAGE_MAX}]")
        if self.rate_limit_retries < 0:
            raise ValueError("rate_limit_retries must be >= 0")
        for timeout in (self.data_silence_timeout_s, self.trade_silence_timeout_s):
            if timeout is not None and timeout <= 0:
                raise ValueError("a silence timeout must be positive (or None to disable it)")
        check_credentials(self.key_id, self.base_url, self.trade_stream_url)
