"""What a strategy says: a frozen, serializable signal with its dedup key."""

from __future__ import annotations

import enum
from decimal import Decimal

import msgspec


class Side(enum.StrEnum):
    BUY = "buy"
    SELL = "sell"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1


class SignalKind(enum.StrEnum):
    ENTRY = "entry"
    EXIT = "exit"


class Signal(msgspec.Struct, frozen=True):
    """A strategy's wish to enter or exit, as of the close of one bar.

    `price` is the reference price the strategy saw; `stop_price` sizes entries by the stop
    distance; `closes` names the entry order an exit closes (structural linking, not FIFO).
    """

    strategy: str
    symbol: str
    side: Side
    kind: SignalKind
    ts_ns: int
    price: float
    dedup_key: str
    confidence: float = 1.0
    priority: int = 0
    stop_price: float | None = None
    reason: str = ""
    closes: str | None = None
    qty: Decimal | None = None
    indicators: dict[str, float] = {}
    price_ts_ns: int = 0  # when the symbol last traded as the signal was made (0: unknown)
    detection: str = ""  # the symbol's detection tag when the signal was made ("": none)
    returns: tuple[float, ...] = ()  # recent 1-minute returns ending at the bar, oldest first

    @property
    def price_age_from_ns(self) -> int:
        """The time the signal's price information dates from."""
        return self.price_ts_ns or self.ts_ns
