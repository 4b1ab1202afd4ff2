"""Every Prometheus metric of the platform: trader_<area>_<name>_<unit>, labels bounded."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

TICKS_RECEIVED = Counter(
    "trader_marketdata_ticks_received_total", "Raw ticks received from the feed"
)
TICKS_QUARANTINED = Counter(
    "trader_marketdata_ticks_quarantined_total", "Ticks refused at the edge", ["reason"]
)
TICKS_PUBLISHED = Counter(
    "trader_bus_ticks_published_total", "Validated ticks published to shard streams"
)
TICKS_PROCESSED = Counter(
    "trader_engine_ticks_processed_total", "Ticks processed by shard engines", ["shard"]
)
BUS_LATENCY = Histogram(
    "trader_bus_tick_latency_seconds",
    "Wall time from the router publishing a tick batch to a shard starting on it",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
TICKS_RECORDED = Counter("trader_tickstore_ticks_written_total", "Ticks written to the tick store")
BARS_CLOSED = Counter("trader_engine_bars_closed_total", "Bars closed (every interval)")
SIGNALS_EMITTED = Counter(
    "trader_engine_signals_emitted_total", "Signals emitted by strategies and exits", ["kind"]
)
DETECTIONS = Counter(
    "trader_engine_detections_total", "Symbols detected moving, by kind (fast, slow)", ["kind"]
)
TICK_TO_SIGNAL = Histogram(
    "trader_engine_tick_to_signal_seconds",
    "Time from receiving the tick that closed a bar to publishing its signals",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
# 1 ms to 2.5 s, each bucket 25% wider than the one before: quantiles to within a quarter
_FINE_LATENCY_BUCKETS = tuple(round(0.001 * 1.25**k, 6) for k in range(36))
SIGNAL_LATENCY = Histogram(
    "trader_engine_signal_latency_seconds",
    "Wall time from the router stamping a tick batch to a shard having published a signal"
    " that batch produced (L1's tick->signal), one observation per signal",
    buckets=_FINE_LATENCY_BUCKETS,
)
DECISIONS = Counter("trader_execution_decisions_total", "Signals decided by execution", ["outcome"])
ORDERS_SUBMITTED = Counter("trader_execution_orders_submitted_total", "Orders sent to the broker")
ORDER_SUBMIT_ERRORS = Counter(
    "trader_execution_submit_errors_total", "Broker submit failures", ["kind"]
)
FILLS_BOOKED = Counter("trader_execution_fills_booked_total", "Fills booked into the ledger")
FILLS_DUPLICATE = Counter(
    "trader_execution_fills_duplicate_total", "Fill reports refused as already booked"
)
OPEN_POSITIONS = Gauge("trader_portfolio_open_positions_count", "Open positions")
REALIZED_PNL = Gauge("trader_portfolio_realized_pnl_dollars", "Realized P&L")
BATCHES_CONSUMED = Counter(
    "trader_bus_batches_consumed_total", "Stream entries handled and acknowledged", ["topic"]
)
BUS_REDELIVERIES = Counter(
    "trader_bus_redeliveries_total", "Stream entries delivered more than once", ["topic"]
)
POISON_MESSAGES = Counter(
    "trader_bus_poison_messages_total",
    "Entries dead-lettered: undecodable, or their handler kept failing",
    ["topic"],
)
VENUE_GAPS = Counter(
    "trader_venue_stream_gaps_total", "Venue stream reconnects that may have lost messages"
)
SIGNAL_TO_SUBMIT = Histogram(
    "trader_execution_signal_to_submit_seconds",
    "Wall time from the executor taking a signal batch off the bus to the broker answering "
    "the submit of an order of it, before any bookkeeping (signals carry no wall-clock stamp "
    "of their own)",
    buckets=_FINE_LATENCY_BUCKETS,
)
