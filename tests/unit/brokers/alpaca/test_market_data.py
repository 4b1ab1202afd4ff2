"""Market-data frames (MessagePack) as Ticks and Quotes; subscriptions tracked per connection."""

from __future__ import annotations

from typing import Any

import msgspec

from app.brokers.alpaca.market_data import DataWire, Subscriptions, change_messages
from app.domain.market import Quote, Tick
from tests.fakes.alpaca.data_stream import timestamp

T = 1_795_185_000_123_456_789


def packed(*messages: dict[str, Any]) -> bytes:
    return msgspec.msgpack.encode(list(messages))


def wire() -> DataWire:
    subscriptions = Subscriptions(trades=["ABC"], quotes=["ABC"])
    return DataWire(url="ws://unused", key_id="k", secret_key="s", subscriptions=subscriptions)


def test_trades_and_quotes_keep_nanosecond_timestamps() -> None:
    frame = packed(
        {"T": "t", "S": "ABC", "i": 7, "x": "V", "p": 10.5, "s": 300, "t": timestamp(T)},
        {"T": "q", "S": "ABC", "bp": 10.4, "bs": 2, "ap": 10.6, "as": 3, "t": timestamp(T)},
    )
    assert wire().decode(frame) == [
        Tick("ABC", T, 10.5, 300, 7),
        Quote("ABC", T, 10.4, 10.6, 2, 3),
    ]


def test_a_subscription_ack_is_what_the_venue_now_sends() -> None:
    decoder = wire()
    ack = {"T": "subscription", "trades": ["ABC", "XYZ"], "quotes": [], "bars": []}
    assert decoder.decode(packed(ack)) == []
    assert decoder.subscriptions.acked == {"trades": {"ABC", "XYZ"}, "quotes": set()}
    assert decoder.subscriptions.missing() == {"trades": [], "quotes": ["ABC"]}
    assert decoder.subscriptions.extra() == {"trades": ["XYZ"], "quotes": []}


def test_change_messages_subscribe_what_is_missing_and_drop_what_is_extra() -> None:
    frames = change_messages({"trades": ["A"], "quotes": []}, {"trades": [], "quotes": ["B"]})
    assert [msgspec.msgpack.decode(f) for f in frames] == [
        {"action": "subscribe", "trades": ["A"]},
        {"action": "unsubscribe", "quotes": ["B"]},
    ]
    assert change_messages({"trades": []}, {"quotes": []}) == []


def test_bad_messages_are_counted_and_the_rest_of_the_frame_still_decodes() -> None:
    decoder = wire()
    good = {"T": "t", "S": "ABC", "p": 10.0, "s": 1, "t": timestamp(T)}
    frame = packed(
        {"T": "t", "S": "ABC", "p": "ten", "s": 1, "t": timestamp(T)},
        {"T": "q", "S": "ABC", "bp": 1.0},
        {"T": "t", "S": "ABC", "p": 10.0, "s": 1, "t": msgspec.msgpack.Ext(-1, b"\0")},
        {"no": "type"},
        {"T": "b", "S": "ABC"},
        good,
    )
    assert decoder.decode(frame) == [Tick("ABC", T, 10.0, 1, 0)]
    assert decoder.decode(b"\xc1") == []
    assert decoder.decode("text") == []
    assert decoder.malformed == 6


def test_a_venue_error_mid_stream_is_kept() -> None:
    decoder = wire()
    assert decoder.decode(packed({"T": "error", "code": 407, "msg": "slow client"})) == []
    assert list(decoder.venue_errors) == ["407 slow client"]
