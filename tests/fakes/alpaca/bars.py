"""Historical bars for the fake venue's GET /v2/stocks/bars, paginated as Alpaca does.

Bars are stored split-adjusted only when the request asks `adjustment=split`; otherwise the
raw series is served, so a test can tell which one the client asked for. Pages hold at most
`page_size` bars (or the request's `limit`, if smaller) across all symbols, symbol by symbol
in time order; `next_page_token` is opaque to the client (here: the offset of the next bar).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.alpaca.ledger import iso

_NS_PER_S = 1_000_000_000


@dataclass(frozen=True)
class StoredBar:
    ts_ns: int
    open: float
    high: float
    low: float
    close: float
    volume: int
    trades: int = 1
    vwap: float = 0.0

    def json(self, *, ratio: float = 1.0) -> dict[str, Any]:
        return {
            "t": iso(self.ts_ns).replace(".000000000Z", "Z"),
            "o": self.open / ratio,
            "h": self.high / ratio,
            "l": self.low / ratio,
            "c": self.close / ratio,
            "v": int(self.volume * ratio),
            "n": self.trades,
            "vw": (self.vwap or self.close) / ratio,
        }


@dataclass
class BarBook:
    page_size: int = 10_000
    bars: dict[str, list[StoredBar]] = field(default_factory=dict)
    splits: dict[str, tuple[int, float]] = field(default_factory=dict)

    def add(self, symbol: str, bars: list[StoredBar]) -> None:
        self.bars.setdefault(symbol, []).extend(bars)
        self.bars[symbol].sort(key=lambda bar: bar.ts_ns)

    def split(self, symbol: str, *, effective_ns: int, ratio: float) -> None:
        """A split of `ratio` (4.0 for 4:1) effective at `effective_ns`: stored bars before it
        are raw, and an adjusted request divides their prices by the ratio."""
        self.splits[symbol] = (effective_ns, ratio)

    def page(self, query: dict[str, list[str]]) -> dict[str, Any]:
        symbols = query.get("symbols", [""])[0].split(",")
        start_ns = _ns(query.get("start", [None])[0], default=0)
        end_ns = _ns(query.get("end", [None])[0], default=2**63)
        limit = min(int(query.get("limit", [str(self.page_size)])[0]), self.page_size)
        offset = int(query.get("page_token", ["0"])[0])
        adjusted = query.get("adjustment", ["raw"])[0] in ("split", "all")
        series = [
            (symbol, bar)
            for symbol in symbols
            for bar in self.bars.get(symbol, [])
            if start_ns <= bar.ts_ns <= end_ns
        ]
        chunk = series[offset : offset + limit]
        out: dict[str, list[dict[str, Any]]] = {}
        for symbol, bar in chunk:
            out.setdefault(symbol, []).append(bar.json(ratio=self._ratio(symbol, bar, adjusted)))
        more = offset + limit < len(series)
        return {"bars": out, "next_page_token": str(offset + limit) if more else None}

    def _ratio(self, symbol: str, bar: StoredBar, adjusted: bool) -> float:
        split = self.splits.get(symbol)
        if not adjusted or split is None or bar.ts_ns >= split[0]:
            return 1.0
        return split[1]


def _ns(text: str | None, *, default: int) -> int:
    if text is None:
        return default
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return int(moment.timestamp()) * _NS_PER_S
