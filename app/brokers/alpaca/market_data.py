"""Alpaca's market-data stream protocol (MessagePack), as Ticks and Quotes.

Wire, as alpaca-py's StockDataStream speaks it: on connect the venue sends
`[{"T": "success", "msg": "connected"}]` (or `[{"T": "error", "code": 406, "msg": "connection
limit exceeded"}]`); the client sends `{"action": "auth", "key", "secret"}` and gets
`[{"T": "success", "msg": "authenticated"}]`; `{"action": "subscribe", "trades": [...],
"quotes": [...]}` is answered by `[{"T": "subscription", "trades": [...], "quotes": [...]}]`,
the full set now subscribed. Data frames are arrays of `{"T": "t", "S", "i", "p", "s", "t"}`
(trades) and `{"T": "q", "S", "bp", "bs", "ap", "as", "t"}` (quotes); "t" is a MessagePack
timestamp, read to the nanosecond.

Only the structure is checked here; prices and sizes are judged by the router's TickValidator.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from typing import TypeVar

import msgspec
import structlog
from websockets.asyncio.client import ClientConnection

from app.brokers.alpaca.stream import StreamRefused
from app.brokers.alpaca.timestamps import BadTimestamp, msgpack_timestamp_ns
from app.domain.market import Quote, Tick

log = structlog.get_logger()

STREAM = "market_data"
CHANNELS = ("trades", "quotes")
_SYNC_ROUNDS = 3
_ERRORS_KEPT = 100

MarketEvent = Tick | Quote
S = TypeVar("S", bound=msgspec.Struct)


class _Kind(msgspec.Struct):
    T: str


class _Control(msgspec.Struct):
    T: str
    msg: str = ""
    code: int = 0


class _Subscription(msgspec.Struct):
    trades: list[str] = []
    quotes: list[str] = []


class _Trade(msgspec.Struct):
    S: str
    p: float
    s: int
    t: msgspec.msgpack.Ext
    i: int = 0


class _Quote(msgspec.Struct):
    S: str
    bp: float
    bs: int
    ap: float
    ask_size: int = msgspec.field(name="as")
    t: msgspec.msgpack.Ext


class Subscriptions:
    """The symbols wanted per channel, and what the venue last confirmed on this connection."""

    def __init__(self, *, trades: Iterable[str], quotes: Iterable[str]) -> None:
        self.desired: dict[str, set[str]] = {"trades": set(trades), "quotes": set(quotes)}
        self.acked: dict[str, set[str]] = {channel: set() for channel in CHANNELS}

    def confirm(self, ack: _Subscription) -> None:
        self.acked = {"trades": set(ack.trades), "quotes": set(ack.quotes)}

    def missing(self) -> dict[str, list[str]]:
        return {c: sorted(self.desired[c] - self.acked[c]) for c in CHANNELS}

    def extra(self) -> dict[str, list[str]]:
        return {c: sorted(self.acked[c] - self.desired[c]) for c in CHANNELS}

    @property
    def in_sync(self) -> bool:
        return self.desired == self.acked


def _pack(action: str, symbols: dict[str, list[str]]) -> bytes:
    return msgspec.msgpack.encode({"action": action, **symbols})


def change_messages(missing: dict[str, list[str]], extra: dict[str, list[str]]) -> list[bytes]:
    """The subscribe and unsubscribe frames that turn the acked set into the desired one."""
    frames = []
    if any(missing.values()):
        frames.append(_pack("subscribe", {c: s for c, s in missing.items() if s}))
    if any(extra.values()):
        frames.append(_pack("unsubscribe", {c: s for c, s in extra.items() if s}))
    return frames


class DataWire:
    """The market-data protocol for StreamSession."""

    name = STREAM

    def __init__(
        self, *, url: str, key_id: str, secret_key: str, subscriptions: Subscriptions
    ) -> None:
        self.url = url
        self.headers: Sequence[tuple[str, str]] = (("Content-Type", "application/msgpack"),)
        self._key_id = key_id
        self._secret_key = secret_key
        self.subscriptions = subscriptions
        self.malformed = 0
        self.venue_errors: deque[str] = deque(maxlen=_ERRORS_KEPT)

    async def handshake(self, ws: ClientConnection) -> list[MarketEvent]:
        """Connected, authenticated, then subscribed to exactly the desired set: the venue's
        acknowledgement is compared with it and corrected, so a reconnect restores it exactly
        even when it changed during the handshake."""
        early: list[MarketEvent] = []
        await self._expect(ws, "connected", early)
        auth = {"action": "auth", "key": self._key_id, "secret": self._secret_key}
        await ws.send(msgspec.msgpack.encode(auth))
        await self._expect(ws, "authenticated", early)
        self.subscriptions.acked = {channel: set() for channel in CHANNELS}
        for _ in range(_SYNC_ROUNDS):
            frames = change_messages(self.subscriptions.missing(), self.subscriptions.extra())
            if not frames:
                break
            for frame in frames:
                await ws.send(frame)
                await self._expect(ws, "subscription", early)
        if not self.subscriptions.in_sync:
            log.warning("alpaca_subscription_mismatch", missing=self.subscriptions.missing())
        return early

    async def _expect(self, ws: ClientConnection, what: str, early: list[MarketEvent]) -> None:
        """Read frames until the success message saying `what`, or the subscription ack when
        `what` is "subscription"; data on the way is kept in `early`."""
        while True:
            for kind, raw in self._messages(await ws.recv()):
                if kind == "error":
                    control = self._typed(raw, _Control)
                    raise StreamRefused(f"{control.code} {control.msg}" if control else "error")
                if kind == "subscription" and what == "subscription":
                    ack = self._typed(raw, _Subscription)
                    if ack is not None:
                        self.subscriptions.confirm(ack)
                        return
                elif kind == "success":
                    control = self._typed(raw, _Control)
                    if control is not None and control.msg == what:
                        return
                else:
                    early.extend(self._event(kind, raw))

    def decode(self, frame: str | bytes) -> list[MarketEvent]:
        events: list[MarketEvent] = []
        for kind, raw in self._messages(frame):
            if kind == "subscription":
                ack = self._typed(raw, _Subscription)
                if ack is not None:
                    self.subscriptions.confirm(ack)
            elif kind == "error":
                control = self._typed(raw, _Control)
                detail = f"{control.code} {control.msg}" if control else "unreadable error"
                self.venue_errors.append(detail)
                log.warning("alpaca_stream_error", error=detail)
            else:
                events.extend(self._event(kind, raw))
        return events

    def _messages(self, frame: str | bytes) -> list[tuple[str, msgspec.Raw]]:
        """The frame's messages with their type tag; unreadable ones are counted and left out."""
        if isinstance(frame, str):
            self._count("a text frame on the msgpack stream")
            return []
        try:
            raws = msgspec.msgpack.decode(frame, type=list[msgspec.Raw])
        except msgspec.DecodeError as exc:
            self._count(str(exc))
            return []
        tagged = []
        for raw in raws:
            kind = self._typed(raw, _Kind)
            if kind is not None:
                tagged.append((kind.T, raw))
        return tagged

    def _typed(self, raw: msgspec.Raw, kind: type[S]) -> S | None:
        try:
            return msgspec.msgpack.decode(raw, type=kind)
        except msgspec.DecodeError as exc:
            self._count(str(exc))
            return None

    def _event(self, kind: str, raw: msgspec.Raw) -> list[MarketEvent]:
        try:
            if kind == "t":
                trade = msgspec.msgpack.decode(raw, type=_Trade)
                ts_ns = msgpack_timestamp_ns(trade.t.code, bytes(trade.t.data))
                return [Tick(trade.S, ts_ns, trade.p, trade.s, trade.i)]
            if kind == "q":
                quote = msgspec.msgpack.decode(raw, type=_Quote)
                ts_ns = msgpack_timestamp_ns(quote.t.code, bytes(quote.t.data))
                return [Quote(quote.S, ts_ns, quote.bp, quote.ap, quote.bs, quote.ask_size)]
        except (msgspec.DecodeError, BadTimestamp) as exc:
            self._count(str(exc))
        return []

    def _count(self, error: str) -> None:
        self.malformed += 1
        log.warning("alpaca_market_data_malformed", error=error)
