"""The fake TWS's fault knobs: set them on `FakeTws.faults` at any time; they apply from the
next message on. Faults that act once (drop, notice, silence) are methods of FakeTws."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TwsFaults:
    delay_s: float = 0.0
    """Every request waits this long before it is handled (and so before it is recorded)."""
    refuse_connections: bool = False
    """Accept a connection and close it before the handshake, like a gateway at its limit."""
    drop_on_place: bool = False
    """Record a placeOrder, then close that connection without acknowledging it."""
    duplicate_exec_details: bool = False
    """Send every execDetails and commissionReport twice."""
    fill_before_ack: bool = False
    """A marketable new order's execution goes out before its openOrder and orderStatus."""
    mute_market_data: bool = False
    """Subscriptions stay, ticks stop: the socket is alive, the data is silent."""
    reject_symbols: dict[str, str] = field(default_factory=dict)
    """Orders (new ones and modifies) on these symbols get error 201 with the given reason;
    a refused modify leaves the order as it was."""
    unknown_symbols: set[str] = field(default_factory=set)
    """Contract details for these symbols answer error 200 (no security definition)."""
