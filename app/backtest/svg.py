"""Inline SVG charts for the backtest report: a line (equity), an area (drawdown) and candles.

Plain strings, no library and no external resource, so the report opens anywhere offline. The
x axis is the sample (or bar) index rather than time, so nights and weekends take no room.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from app.backtest.bars import BarRow

WIDTH = 900
HEIGHT = 240
PAD = 48


@dataclass(frozen=True, slots=True)
class Marker:
    """A point on a candle chart: bar index, price, and what it marks."""

    index: int
    price: float
    label: str
    entry: bool


class _Scale:
    def __init__(self, *, count: int, low: float, high: float) -> None:
        self._count = max(count - 1, 1)
        span = high - low
        pad = span * 0.05 if span > 0 else max(abs(high) * 0.01, 1e-9)
        self._low, self._high = low - pad, high + pad

    def x(self, index: float) -> float:
        return PAD + (WIDTH - 2 * PAD) * index / self._count

    def y(self, value: float) -> float:
        return HEIGHT - PAD - (HEIGHT - 2 * PAD) * (value - self._low) / (self._high - self._low)


def _frame(body: str, *, title: str, low: str, high: str, first: str, last: str) -> str:
    return (
        f'<svg class="chart" role="img" aria-label="{escape(title)}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}">'
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>'
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" '
        'stroke="#999"/>'
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#999"/>'
        f'<text x="4" y="{PAD}" font-size="11">{escape(high)}</text>'
        f'<text x="4" y="{HEIGHT - PAD}" font-size="11">{escape(low)}</text>'
        f'<text x="{PAD}" y="{HEIGHT - PAD / 2}" font-size="11">{escape(first)}</text>'
        f'<text x="{WIDTH - PAD}" y="{HEIGHT - PAD / 2}" font-size="11" text-anchor="end">'
        f"{escape(last)}</text>"
        f"{body}</svg>"
    )


def line_chart(
    values: Sequence[float], *, title: str, first: str, last: str, fmt: str = "{:,.2f}"
) -> str:
    if not values:
        return _frame("", title=title, low="", high="", first=first, last=last)
    scale = _Scale(count=len(values), low=min(values), high=max(values))
    points = " ".join(f"{scale.x(i):.1f},{scale.y(v):.1f}" for i, v in enumerate(values))
    body = f'<polyline class="series" fill="none" stroke="#1f5fbf" points="{points}"/>'
    return _frame(
        body,
        title=title,
        low=fmt.format(min(values)),
        high=fmt.format(max(values)),
        first=first,
        last=last,
    )


def area_chart(
    values: Sequence[float], *, title: str, first: str, last: str, fmt: str = "{:.2%}"
) -> str:
    """Values at or below zero (a drawdown), filled down from the zero line."""
    if not values:
        return _frame("", title=title, low="", high="", first=first, last=last)
    scale = _Scale(count=len(values), low=min(min(values), 0.0), high=0.0)
    points = " ".join(f"{scale.x(i):.1f},{scale.y(v):.1f}" for i, v in enumerate(values))
    zero = scale.y(0.0)
    outline = f"{scale.x(0):.1f},{zero:.1f} {points} {scale.x(len(values) - 1):.1f},{zero:.1f}"
    body = f'<polygon class="series" fill="#d9534f" fill-opacity="0.5" points="{outline}"/>'
    return _frame(
        body,
        title=title,
        low=fmt.format(min(values)),
        high=fmt.format(0.0),
        first=first,
        last=last,
    )


def candle_chart(
    bars: Sequence[BarRow], markers: Sequence[Marker], *, title: str, first: str, last: str
) -> str:
    if not bars:
        return _frame("", title=title, low="", high="", first=first, last=last)
    low = min([b.low for b in bars] + [m.price for m in markers])
    high = max([b.high for b in bars] + [m.price for m in markers])
    scale = _Scale(count=len(bars), low=low, high=high)
    half = max(1.0, (WIDTH - 2 * PAD) / max(len(bars), 1) * 0.35)
    parts: list[str] = []
    for i, bar in enumerate(bars):
        x = scale.x(i)
        color = "#2e8b57" if bar.close >= bar.open else "#c0392b"
        top, bottom = scale.y(max(bar.open, bar.close)), scale.y(min(bar.open, bar.close))
        parts.append(
            f'<g class="candle"><line x1="{x:.1f}" y1="{scale.y(bar.high):.1f}" x2="{x:.1f}" '
            f'y2="{scale.y(bar.low):.1f}" stroke="{color}"/>'
            f'<rect x="{x - half:.1f}" y="{top:.1f}" width="{2 * half:.1f}" '
            f'height="{max(bottom - top, 1.0):.1f}" fill="{color}"/></g>'
        )
    for marker in markers:
        x, y = scale.x(marker.index), scale.y(marker.price)
        kind, color = ("entry", "#1f5fbf") if marker.entry else ("exit", "#8e44ad")
        tip = f"{y + 10:.1f}" if marker.entry else f"{y - 10:.1f}"
        parts.append(
            f'<polygon class="marker {kind}" fill="{color}" points="{x:.1f},{y:.1f} '
            f'{x - 6:.1f},{tip} {x + 6:.1f},{tip}"><title>{escape(marker.label)}</title>'
            "</polygon>"
        )
    return _frame(
        "".join(parts),
        title=title,
        low=f"{low:,.4f}",
        high=f"{high:,.4f}",
        first=first,
        last=last,
    )
