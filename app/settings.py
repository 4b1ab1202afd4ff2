"""Settings: the only reader of the environment. Parsed once, at the entrypoint."""

from __future__ import annotations

import enum
import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_SYMBOL = re.compile(r"[A-Z][A-Z0-9.]{0,9}")


class Mode(enum.StrEnum):
    MONOLITH = "monolith"
    SHARDED = "sharded"


class Venue(enum.StrEnum):
    SIM = "sim"
    ALPACA = "alpaca"
    IBKR = "ibkr"


class Account(enum.StrEnum):
    PAPER = "paper"
    LIVE = "live"


class FeedKind(enum.StrEnum):
    SYNTHETIC = "synthetic"
    REPLAY = "replay"
    VENUE = "venue"  # the market data of the configured venue (Alpaca or IB)


class PartitionKind(enum.StrEnum):
    JUMP = "jump"
    RANGE = "range"


class LogFormat(enum.StrEnum):
    CONSOLE = "console"
    JSON = "json"


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RiskSettings(_Section):
    starting_cash: Decimal = Field(default=Decimal("100000"), gt=0)
    risk_per_trade_pct: Decimal = Field(default=Decimal("0.5"), gt=0, le=10)
    max_position_value: Decimal = Field(default=Decimal("10000"), gt=0)
    max_exposure: Decimal = Field(default=Decimal("50000"), gt=0)
    max_open_positions: int = Field(default=10, ge=1)
    max_symbol_exposure: Decimal = Field(default=Decimal("15000"), gt=0)
    max_trade_risk: Decimal = Field(default=Decimal("1000"), gt=0)
    strategy_capital: Decimal | None = Field(
        default=Decimal("50000"), gt=0, description="committed-capital cap of each strategy"
    )
    daily_loss_limit: Decimal = Field(default=Decimal("2000"), gt=0)
    max_drawdown: Decimal | None = Field(default=Decimal("3000"), gt=0)
    global_max_drawdown: Decimal | None = Field(default=Decimal("5000"), gt=0)
    loss_streak: int = Field(default=4, ge=0, description="losses in a row before a cool-down")
    cooldown_s: int = Field(default=1800, ge=0)
    stale_signal_s: float = Field(default=10.0, gt=0)
    pdt: bool = Field(default=False, description="count day trades for brokers enforcing PDT")
    entry_collar_bps: Decimal = Field(default=Decimal("50"), ge=0, le=1000)
    broker_breaker_failures: int = Field(default=5, ge=1)
    broker_breaker_cooldown_s: int = Field(default=30, ge=1)


class SimSettings(_Section):
    latency_ms: int = Field(default=50, ge=0)
    slippage_bps: Decimal = Field(default=Decimal("5"), ge=0)
    participation: Decimal = Field(default=Decimal("0.25"), gt=0, le=1)
    buying_power_multiplier: Decimal = Field(default=Decimal("4"), ge=1)
    fee_per_share: Decimal = Field(default=Decimal("0"), ge=0)
    retain_hours: float = Field(
        default=72.0,
        gt=0,
        description="how long the paper venue keeps ended orders, executions and refusals "
        "(venue time); reconciliation looks back to the start of the previous trading day",
    )


class SyntheticSettings(_Section):
    seed: int = 7
    symbols: int = Field(default=200, ge=1, le=5000)
    speed: float = Field(default=1.0, gt=0, le=1000)
    session_date: str | None = Field(
        default=None, description="YYYY-MM-DD to simulate; default: the latest trading day"
    )
    anchor_ns: int | None = Field(
        default=None,
        description="sharded, sped-up sessions: wall-clock ns at which the market clock reads "
        "the open, the same for every process",
    )
    quote_prob: float = Field(
        default=0.4, ge=0, le=1, description="chance a trade print comes with a quote"
    )
    minutes: int | None = Field(
        default=None,
        ge=1,
        description="monolith on the simulated venue: end the session this many market minutes "
        "after where it starts (default: at the close)",
    )
    lockstep_ms: int | None = Field(
        default=None,
        ge=1,
        description="monolith on the simulated venue: run in fixed data steps of this many ms, "
        "as fast as the pipeline goes, reproducible to the fill (instead of paced by speed)",
    )


class ArbitrationSettings(_Section):
    window_ms: int = Field(
        default=0, ge=0, description="hold an entry this long for rivals; 0: the same bar"
    )
    correlation_threshold: float | None = Field(
        default=0.9, gt=0, le=1, description="refuse entries this correlated with a held symbol"
    )
    correlation_min_points: int = Field(default=10, ge=3)


class AlpacaSettings(_Section):
    key_id: SecretStr | None = None
    secret_key: SecretStr | None = None
    base_url: str = "https://paper-api.alpaca.markets"
    data_feed: str = Field(default="iex", pattern="^(iex|sip)$")
    data_url: str = "https://data.alpaca.markets"
    trade_stream_url: str | None = Field(default=None, description="default: base_url + /stream")
    data_stream_url: str | None = Field(
        default=None, description="default: wss://stream.data.alpaca.markets/v2/<data_feed>"
    )
    rate_limit_per_min: int = Field(default=200, ge=1, le=200)
    rate_limit_reserve: int = Field(
        default=20, ge=0, description="requests per minute only orders (not polling) may use"
    )
    request_timeout_s: float = Field(default=10.0, gt=0)
    silence_timeout_s: float = Field(
        default=30.0, gt=0, description="a market-data socket silent this long is replaced"
    )
    extended_hours: bool = False


class IbkrSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=4002, ge=1, le=65535)
    client_id: int = 1
    account: str = Field(default="", description="empty: the login's only managed account")
    connect_timeout_s: float = Field(default=4.0, gt=0)
    request_timeout_s: float = Field(default=5.0, gt=0, description="order acks, lookups")
    silence_timeout_s: float | None = Field(
        default=30.0, gt=0, description="probe, then recycle, a socket silent this long"
    )
    market_data_type: int = Field(default=1, ge=1, le=4, description="1 live ... 4 delayed frozen")


class Settings(BaseSettings):
    """Every knob of the platform: environment TRADER_<NAME>, sections TRADER_RISK__X."""

    model_config = SettingsConfigDict(
        env_prefix="TRADER_", env_nested_delimiter="__", extra="ignore", frozen=True
    )

    mode: Mode = Mode.MONOLITH
    venue: Venue = Venue.SIM
    account: Account = Account.PAPER
    feed: FeedKind = FeedKind.SYNTHETIC
    symbols: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), description="the watchlist a venue feed subscribes: AAPL,MSFT,..."
    )
    shard_count: int = Field(default=1, ge=1, le=256)
    shard_id: int | None = Field(default=None, ge=0)
    partition: PartitionKind = PartitionKind.JUMP
    partition_bounds: tuple[str, ...] = Field(
        default=(), description="range partitioning: shard_count - 1 sorted symbol bounds"
    )
    data_dir: Path = Path("var")
    database_url: str | None = None
    redis_url: str = "redis://127.0.0.1:6379/0"
    bus_prefix: str = Field(default="trader", pattern=r"^[A-Za-z0-9_.:-]+$")
    questdb_url: str | None = None
    log_format: LogFormat = LogFormat.CONSOLE
    log_level: str = Field(default="info", pattern="^(debug|info|warning|error)$")
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    health_port: int | None = Field(default=None, ge=0, le=65535)
    health_host: str = "127.0.0.1"
    strategy_interval_s: int = Field(default=60, ge=1)
    order_ttl_s: int = Field(default=30, ge=1)
    migrate_on_start: bool = True
    jwt_secret: SecretStr | None = None
    telegram_token: SecretStr | None = None
    risk: RiskSettings = RiskSettings()
    sim: SimSettings = SimSettings()
    synthetic: SyntheticSettings = SyntheticSettings()
    alpaca: AlpacaSettings = AlpacaSettings()
    ibkr: IbkrSettings = IbkrSettings()
    arbitration: ArbitrationSettings = ArbitrationSettings()
    strategy_poll_s: float = Field(
        default=2.0, gt=0, description="how often edited strategy configuration is picked up"
    )

    @field_validator("symbols", mode="before")
    @classmethod
    def _split_symbols(cls, value: object) -> object:
        """Comma-separated in the environment; upper-cased, order kept, repeats dropped."""
        if isinstance(value, str):
            value = [part for part in value.split(",") if part.strip()]
        if isinstance(value, list | tuple):
            cleaned = [str(part).strip().upper() for part in value]
            for symbol in cleaned:
                if not _SYMBOL.fullmatch(symbol):
                    raise ValueError(f"not a US stock symbol: {symbol!r}")
            return tuple(dict.fromkeys(cleaned))
        return value

    @model_validator(mode="after")
    def _check_shard(self) -> Settings:
        if self.shard_id is not None and self.shard_id >= self.shard_count:
            raise ValueError(
                f"shard_id {self.shard_id} must be below shard_count {self.shard_count}"
            )
        if self.partition is PartitionKind.RANGE and (
            len(self.partition_bounds) != self.shard_count - 1
        ):
            raise ValueError(
                f"range partitioning needs shard_count - 1 = {self.shard_count - 1} bounds, "
                f"got {len(self.partition_bounds)}"
            )
        return self

    @model_validator(mode="after")
    def _check_market_data(self) -> Settings:
        """A real venue fills at real prices, so strategies must see that venue's data; the
        simulated venue has no data of its own."""
        if self.feed is FeedKind.VENUE and self.venue is Venue.SIM:
            raise ValueError(
                "the simulated venue has no market data of its own: "
                "use TRADER_FEED=synthetic or replay, or TRADER_VENUE=alpaca or ibkr"
            )
        if self.venue is not Venue.SIM and self.feed is not FeedKind.VENUE:
            raise ValueError(
                f"TRADER_VENUE={self.venue.value} fills at that venue's prices: "
                "set TRADER_FEED=venue and TRADER_SYMBOLS to the watchlist"
            )
        if self.feed is FeedKind.VENUE and not self.symbols:
            raise ValueError("TRADER_FEED=venue needs TRADER_SYMBOLS (e.g. AAPL,MSFT)")
        return self

    @property
    def ledger_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'trader.db').resolve()}"

    @property
    def tick_dir(self) -> Path:
        return self.data_dir / "ticks"
