"""The configured venue: its broker, its market data, what runs and what closes beside them.

The simulated venue is built from the ledger, as at every start. Alpaca and IB are connected
for real: Alpaca's keys are checked (account call) and its trade-update stream is listening
before anything can be sent; IB's socket is up. Every reconnect of their streams goes to the
link's GapRelay, which the composition binds to the signal consumer's reconciliation.

A real venue's adapter modules are imported when that venue is chosen, not before: their
client libraries (alpaca-py brings pandas) cost a process about 75 MB of memory and half a
second of start-up, and a paper run or a shard worker never uses them.
"""

from __future__ import annotations

from app.bootstrap.runtime import ConfigurationError
from app.bootstrap.venue_link import Closer, VenueLink
from app.brokers.sim.broker import SimBroker
from app.brokers.sim.fill_model import FillModel
from app.brokers.sim.venue import SimVenue, VenueConfig
from app.domain.ids import SequentialIds
from app.domain.money import ZERO
from app.ports.bars import BarSource
from app.ports.bus import MessageBus
from app.ports.clock import Clock
from app.ports.feed import MarketDataFeed
from app.ports.ledger import Ledger
from app.services.gap_relay import GapRelay
from app.services.venue_feeder import VenueFeeder
from app.settings import Settings, Venue


async def connect_venue(
    settings: Settings,
    *,
    clock: Clock,
    ledger: Ledger,
    bus: MessageBus,
    with_feed: bool = False,
    streaming: bool = True,
) -> VenueLink:
    """The broker for the configured venue. `with_feed` also opens the venue's market data;
    `streaming=False` is for lookups only (`trader reconcile`): no report stream is started."""
    match settings.venue:
        case Venue.SIM:
            return await _sim(settings, clock=clock, ledger=ledger, bus=bus)
        case Venue.ALPACA:
            from app.bootstrap.venue_alpaca import connect_alpaca

            return await connect_alpaca(
                settings, clock=clock, with_feed=with_feed, streaming=streaming
            )
        case Venue.IBKR:
            from app.bootstrap.venue_ibkr import connect_ibkr

            return await connect_ibkr(settings, clock=clock, with_feed=with_feed)


async def connect_feed(settings: Settings, *, clock: Clock) -> tuple[MarketDataFeed, list[Closer]]:
    """The venue's market data alone (the sharded router's feed). Its gaps are logged and
    counted; the executor reconciles on its own connection's gaps."""
    gaps = GapRelay()
    match settings.venue:
        case Venue.ALPACA:
            from app.bootstrap.venue_alpaca import alpaca_config, alpaca_feed

            return alpaca_feed(settings, alpaca_config(settings), clock=clock, gaps=gaps), []
        case Venue.IBKR:
            from app.bootstrap.venue_ibkr import connect_ibkr_feed

            return await connect_ibkr_feed(settings, clock=clock, gaps=gaps)
        case Venue.SIM:
            raise ConfigurationError("the simulated venue has no market data of its own")


def venue_bars(settings: Settings, closers: list[Closer]) -> BarSource | None:
    """The venue's bar history for a process that holds no venue link (a sharded shard
    worker), under the account's shared request budget; None for a venue without one here
    (the simulated venue; IB's history is not wired)."""
    if settings.venue is not Venue.ALPACA:
        return None
    from app.bootstrap.venue_alpaca import alpaca_bars, alpaca_config, alpaca_limiter

    bars = alpaca_bars(alpaca_config(settings), alpaca_limiter(settings, closers))
    closers.insert(0, bars.close)
    return bars


async def _sim(settings: Settings, *, clock: Clock, ledger: Ledger, bus: MessageBus) -> VenueLink:
    positions = await ledger.positions()
    lots = await ledger.open_lots()
    cash = settings.risk.starting_cash + sum((p.realized_pnl for p in positions), ZERO)
    cash -= sum((lot.qty_open * lot.avg_price * lot.side.sign + lot.fees for lot in lots), ZERO)
    sim = settings.sim
    venue = SimVenue(
        VenueConfig(
            latency_ns=sim.latency_ms * 1_000_000,
            starting_cash=cash,
            buying_power_multiplier=sim.buying_power_multiplier,
            retain_ns=round(sim.retain_hours * 3_600_000_000_000),
            fill_model=FillModel(
                slippage_bps=sim.slippage_bps,
                participation=sim.participation,
                fee_per_share=sim.fee_per_share,
            ),
        ),
        ids=SequentialIds("sim"),
    )
    for lot in lots:
        venue.seed_position(lot.symbol, qty=lot.signed_qty, avg_price=lot.avg_price)
    broker = SimBroker(venue, clock)
    feeder = VenueFeeder(venue=broker, bus=bus, shard_count=settings.shard_count, consumer="venue")
    return VenueLink(broker=broker, services=[feeder])
