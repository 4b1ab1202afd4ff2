"""How to reach TWS / IB Gateway and how to behave when it goes away."""

from __future__ import annotations

from dataclasses import dataclass

MARKET_DATA_TYPES = (1, 2, 3, 4)
"""reqMarketDataType: 1 live, 2 frozen, 3 delayed, 4 delayed-frozen."""


@dataclass(frozen=True, slots=True)
class IbkrConfig:
    """`account` empty means the login's only managed account. `request_timeout_s` bounds every
    wait for an answer (order acks, lookups, positions): past it the outcome is unknown, not
    failed. `silence_timeout_s` is how long the socket may stay quiet before it is probed and,
    if the probe goes unanswered, recycled (None: never)."""

    host: str = "127.0.0.1"
    port: int = 4002
    client_id: int = 1
    account: str = ""
    connect_timeout_s: float = 4.0
    request_timeout_s: float = 5.0
    silence_timeout_s: float | None = 30.0
    market_data_type: int = 1
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 5.0
    initial_attempts: int = 3
    exchange: str = "SMART"
    currency: str = "USD"

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ValueError(f"port out of range: {self.port}")
        for name in ("connect_timeout_s", "request_timeout_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.silence_timeout_s is not None and self.silence_timeout_s <= 0:
            raise ValueError("silence_timeout_s must be positive (or None)")
        if self.market_data_type not in MARKET_DATA_TYPES:
            raise ValueError(f"market_data_type must be one of {MARKET_DATA_TYPES}")
        if self.initial_attempts < 1:
            raise ValueError("initial_attempts must be at least 1")
