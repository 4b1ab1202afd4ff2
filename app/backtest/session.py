"""One backtest's core, driven synchronously: the monolith's effects in the monolith's order.

The objects are the ones a paper session runs (ShardEngine, ExecutionEngine, SimVenue) on a
SimClock; only the transport differs. What SignalConsumer, RiskKeeper, VenueFeeder and the
shard worker do around them over the bus and the ledger happens here in plain calls:

* a print goes to the venue first (it fills what was working), the fills are booked and their
  lots handed back to the shard (`apply_lot(lot, exit_working=...)`), then the shard sees the
  print; so nothing decided on a print can fill on that same print;
* signals are arbitrated and decided by the executor (`decide_batch`; entries an arbitration
  window holds back are decided once it closes); an approved order is tracked, submitted to
  the venue, marked SUBMITTED (or REJECTED when the venue refuses it) and its reports applied;
* the account is read from the venue before each round of decisions (buying power), risk state
  follows every booked trade, a new trading day starts new daily counters, entries still
  unfilled past their TTL and bracket legs in an exit's way are cancelled once, and DAY
  orders expire at the end of each day.

The venue sees every print of a symbol it has orders in, and the last print of a batch for a
symbol it only holds (its mark). Other prints could only move marks nobody reads before they
are overwritten (no order of theirs can fill; decisions, which read the account, come after
the prints), so leaving them out changes no fill and no number; it is most of a bar
backtest's venue work.

Closed lots are dropped from the book once nothing can touch them again (no working entry),
as a restart would (the ledger only loads open lots); the book's per-decision scans stay short.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from app.backtest.bars import BarRow
from app.backtest.metrics import EquityPoint
from app.backtest.setup import CoreSetup
from app.backtest.trades import TradeBook
from app.brokers.sim.venue import SimVenue
from app.clocks.sim import SimClock
from app.domain.bracket import legs_of
from app.domain.calendar import trading_day
from app.domain.decision import Decision
from app.domain.execution import Fill
from app.domain.ids import SequentialIds
from app.domain.market import Tick, TickBatch
from app.domain.money import ZERO
from app.domain.order import Order, OrderStatus
from app.domain.position import Lot
from app.domain.signal import Signal, SignalKind
from app.engine.bars import BarAggregator
from app.engine.execution import ExecutionEngine, ReportOutcome
from app.engine.shard import ShardEngine
from app.exits.config import ExitConfig
from app.exits.engine import EXIT_PRIORITY, ExitEngine
from app.marketdata.prints import BarPrints
from app.ports.broker import OrderRejected
from app.strategies.base import Strategy

FLATTEN = "flatten"


@dataclass
class Journal:
    """Every decision, order (bracket legs included, as the ledger writes them) and fill of a
    run, in order (kept only when asked for: a parity check compares them with a paper
    session's ledger)."""

    decided: list[tuple[Signal, Decision]] = field(default_factory=list)
    orders: list[Order] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)


class BacktestSession:
    """Bars mode (`exit_interval_s` = the bar interval: exits decide on closed bars) or ticks
    mode (the monolith's 1 s exit bars); see app.backtest.runner for how each is fed."""

    def __init__(
        self,
        *,
        strategies: Sequence[Strategy],
        setup: CoreSetup,
        interval_s: int,
        tick_input: bool,
        start_ns: int,
        seed: int,
        journal: bool = False,
    ) -> None:
        self.clock = SimClock(start_ns)
        self._prints = (
            None
            if tick_input
            else BarPrints(interval_s=interval_s, open_offset_ns=setup.venue.latency_ns, seed=seed)
        )
        exits = ExitEngine({s.name: s.exit for s in strategies}, default=ExitConfig())
        intervals = (1, interval_s) if tick_input else (interval_s,)
        self.shard = ShardEngine(
            strategies=strategies,
            exits=exits,
            aggregator=BarAggregator(intervals=intervals),
            exit_interval_s=1 if tick_input else interval_s,
        )
        self.execution: ExecutionEngine = setup.execution.engine(strategies)
        self._latency_ns = setup.venue.latency_ns
        self.venue = SimVenue(
            setup.venue.config(starting_cash=setup.execution.starting_cash),
            ids=SequentialIds(f"bt{seed}"),
        )
        self.trades = TradeBook()
        self.curve: list[EquityPoint] = []
        self.decisions = 0
        self.rejected = 0
        self.orders = 0
        self.fills = 0
        self.skipped_entries = 0
        self._watched: set[str] = set()
        self._cancel_sent: set[str] = set()
        self._day: dt.date | None = None
        self.journal: Journal | None = Journal() if journal else None

    @property
    def starting_cash(self) -> float:
        return float(self.execution.portfolio.starting_cash)

    # driving -------------------------------------------------------------------------------
    def bar_step(self, start_ns: int, bars: Sequence[BarRow]) -> None:
        """The bars starting at `start_ns`, played as prints: to the venue, then to the shard."""
        prints = self._prints
        if prints is None:
            raise RuntimeError("bar_step needs a session built for bar input")
        watched = self._watched
        self._to_venue(prints.of(start_ns, [b for b in bars if b.symbol in watched]))
        self._decide(self._shard_step(start_ns, bars), entries=True)

    def _shard_step(self, start_ns: int, bars: Sequence[BarRow]) -> list[Signal]:
        """The shard's side of a bar step: the same prints, each bar aggregated whole."""
        assert self._prints is not None
        ticks = self._prints.of(start_ns, bars)
        if ticks:
            self.clock.advance_to(ticks[-1].ts_ns)
        return self.shard.on_bar_prints(ticks, self._prints.tallies(start_ns, bars))

    def prints(self, ticks: Sequence[Tick], *, entries: bool = True) -> None:
        """Recorded prints in time order: the venue, then the shard; decide what it signals."""
        if not ticks:
            return
        self._to_venue(ticks)
        self.clock.advance_to(ticks[-1].ts_ns)
        self._decide(self.shard.on_ticks(ticks), entries=entries)

    def lockstep(self, ticks: Sequence[Tick], *, start_ns: int, end_ns: int) -> None:
        """One data step as the lockstep monolith runs it (app.services.lockstep): at the
        step's start the periodic duties (a new day, stale entries cancelled, the account
        read); then the venue matches every print of the step and what fills is booked; then
        the shard sees the prints and what they signal is decided at the step's end, against
        the account read at its start."""
        self.clock.advance_to(start_ns)
        self._new_day(start_ns)
        self._send_cancels(start_ns)
        self.execution.view.set_account(self.venue.account(), now_ns=start_ns)
        self.clock.advance_to(end_ns)
        self.venue.on_batch(TickBatch(ticks=list(ticks)))
        self.venue.advance(end_ns)
        self._apply_reports()
        self._decide(self.shard.on_ticks(ticks), entries=True, read_account=False)

    def _to_venue(self, ticks: Sequence[Tick]) -> None:
        """The prints the venue needs: all of a symbol it has orders in, and the last of one it
        only holds (its mark; nothing reads the marks in between: no order of it can fill, and
        decisions, which read the account, come after the prints)."""
        watched = self._watched
        working = {o.symbol for o in self.execution.orders.values()}
        last = {t.symbol: i for i, t in enumerate(ticks) if t.symbol in watched}
        venue, clock = self.venue, self.clock
        for i, tick in enumerate(ticks):
            symbol = tick.symbol
            if symbol in watched and (symbol in working or last.get(symbol) == i):
                clock.advance_to(tick.ts_ns)
                self._send_cancels(tick.ts_ns)
                venue.on_tick(tick)
                self._apply_reports()

    def boundary(self, now_ns: int, *, entries: bool = True) -> None:
        """Time reaches `now_ns` with no print: due venue requests happen, bars ending by then
        close and what they signal is decided."""
        self._at(now_ns)
        self._decide(self.shard.on_time(now_ns), entries=entries)

    def flatten(self, now_ns: int) -> None:
        """Exit every open lot now, at market (the session is ending and nothing is carried).
        A lot the venue's bracket legs guard has them cancelled first; its exit goes out once
        the cancels have reached the venue (one venue latency later)."""
        self._at(now_ns)
        self._decide(self._flatten_signals(now_ns), entries=False)
        if not any(o.is_leg for o in self.execution.cancels_due(now_ns)):
            return
        self._send_cancels(now_ns)
        settled_ns = now_ns + self._latency_ns
        self._at(settled_ns)
        self._decide(self._flatten_signals(settled_ns, after="|legs"), entries=False)

    def _flatten_signals(self, now_ns: int, *, after: str = "") -> list[Signal]:
        return [
            Signal(
                strategy=lot.strategy,
                symbol=lot.symbol,
                side=lot.side.opposite,
                kind=SignalKind.EXIT,
                ts_ns=now_ns,
                price=self.shard.last_price.get(lot.symbol, float(lot.avg_price)),
                dedup_key=f"{FLATTEN}|{lot.entry_order_id}|{now_ns}{after}",
                priority=EXIT_PRIORITY,
                reason=FLATTEN,
                closes=lot.entry_order_id,
            )
            for lot in self.open_lots()
        ]

    def end_of_day(self, now_ns: int) -> None:
        """The session closed: open DAY orders expire at the venue."""
        self._at(now_ns)
        self.venue.expire_day_orders(now_ns)
        self._apply_reports()

    def sample(self, ts_ns: int) -> None:
        """Record the book marked to the last prints (one equity-curve point)."""
        portfolio = self.execution.portfolio
        lots = self.open_lots()
        equity = portfolio.equity_at_cost() + portfolio.unrealized(self.shard.last_price)
        self.curve.append(
            EquityPoint(
                ts_ns=ts_ns,
                equity=float(equity),
                open_positions=len(lots),
                invested=float(sum((lot.qty_open * lot.avg_price for lot in lots), ZERO)),
            )
        )

    def open_lots(self) -> list[Lot]:
        return [lot for lot in self.execution.portfolio.lots.values() if lot.qty_open > ZERO]

    # what the services do around the engines ---------------------------------------------
    def _at(self, now_ns: int) -> None:
        self.clock.advance_to(now_ns)
        self._new_day(now_ns)
        self.venue.advance(now_ns)
        self._apply_reports()
        self._send_cancels(now_ns)
        self._decide_due(now_ns)
        self.shard.drain_exit_states()

    def _new_day(self, now_ns: int) -> None:
        day = trading_day(now_ns)
        if day != self._day:
            self._day = day
            self.execution.risk_book.new_day(day.isoformat())

    def _decide(
        self, signals: Sequence[Signal], *, entries: bool, read_account: bool = True
    ) -> None:
        if not signals:
            return
        now = self.clock.now_ns()
        if not entries:
            kept = [s for s in signals if s.kind is SignalKind.EXIT]
            self.skipped_entries += len(signals) - len(kept)
            signals = kept
        if read_account:
            self.execution.view.set_account(self.venue.account(), now_ns=now)
        self._act_on(self.execution.decide_batch(signals, now_ns=now), now_ns=now)

    def _decide_due(self, now_ns: int) -> None:
        """Entries the arbiter held for a window that has closed by now."""
        engine = self.execution
        if not engine.arbiter.waiting:
            return
        engine.view.set_account(self.venue.account(), now_ns=now_ns)
        decided: list[tuple[Signal, Decision, Order | None]] = []
        for verdict in engine.arbitration_due(now_ns):
            decision, order = engine.decide_verdict(verdict, now_ns=now_ns)
            if order is not None:
                engine.track(order)
            decided.append((verdict.signal, decision, order))
        self._act_on(decided, now_ns=now_ns)

    def _act_on(
        self, decided: Sequence[tuple[Signal, Decision, Order | None]], *, now_ns: int
    ) -> None:
        for signal, decision, order in decided:
            self.decisions += 1
            if self.journal is not None:
                self.journal.decided.append((signal, decision))
                if order is not None:
                    self.journal.orders.append(order)
                    self.journal.orders.extend(legs_of(order) if order.has_bracket else ())
            if order is None:
                self.rejected += not decision.approved
                continue
            if order.is_entry:
                self.trades.entry_ordered(order.client_order_id, signal)
            self._submit(order, now_ns=now_ns)

    def _submit(self, order: Order, *, now_ns: int) -> None:
        self.orders += 1
        self._watched.add(order.symbol)
        try:
            self.venue.submit(order, now_ns=now_ns)
        except OrderRejected as exc:
            self._set_status(order.client_order_id, OrderStatus.REJECTED, str(exc))
        else:
            self._set_status(order.client_order_id, OrderStatus.SUBMITTED)
        self._apply_reports()

    def _set_status(self, client_order_id: str, status: OrderStatus, reason: str = "") -> None:
        current = self.execution.orders.get(client_order_id)
        if current is None or current.status is status or not current.can_transition(status):
            return
        updated = replace(current)
        updated.transition(status, now_ns=self.clock.now_ns(), reason=reason)
        self.execution.commit_order(updated)
        self._forget_if_done(current.symbol)

    def _apply_reports(self) -> None:
        engine = self.execution
        for report in self.venue.drain_reports():
            effect = engine.on_report(report)
            if effect.outcome is ReportOutcome.FILL:
                assert effect.fill_effect is not None
                fx = effect.fill_effect
                engine.commit_fill(fx)
                self.fills += 1
                if self.journal is not None:
                    self.journal.fills.append(fx.fill)
                book = engine.risk_book
                if fx.order.is_entry:
                    book.on_entry_fill(fx.lot.entry_order_id, ts_ns=fx.fill.ts_ns)
                if fx.trade is not None:
                    book.on_trade(
                        fx.trade, lot_closed=fx.lot.qty_open == 0, now_ns=self.clock.now_ns()
                    )
                self.trades.on_fill(fx)
                working = engine.exit_working(fx.lot.entry_order_id)
                self.shard.apply_lot(fx.lot, exit_working=working)
                self._prune(fx.lot.entry_order_id)
                self._forget_if_done(fx.lot.symbol)
            elif effect.outcome is ReportOutcome.ORDER_UPDATED:
                assert effect.order is not None
                engine.commit_order(effect.order)
                self._prune(effect.order.client_order_id)
                self._forget_if_done(effect.order.symbol)

    def _send_cancels(self, now_ns: int) -> None:
        """What the executor wants cancelled (stale entries, bracket legs), each sent once."""
        due = [
            o
            for o in self.execution.cancels_due(now_ns)
            if o.client_order_id not in self._cancel_sent
        ]
        for order in due:
            self._cancel_sent.add(order.client_order_id)
            try:
                self.venue.cancel(order.client_order_id, now_ns=now_ns)
            except OrderRejected:
                continue
        if due:
            self._apply_reports()

    def _prune(self, entry_order_id: str) -> None:
        lots = self.execution.portfolio.lots
        lot = lots.get(entry_order_id)
        if lot is not None and lot.qty_open == ZERO and entry_order_id not in self.execution.orders:
            del lots[entry_order_id]

    def _forget_if_done(self, symbol: str) -> None:
        """Stop feeding the venue a symbol once it holds nothing and has no order there (the
        book's open lots are the venue's positions: every fill is booked before this runs)."""
        if any(o.symbol == symbol for o in self.execution.orders.values()):
            return
        if any(lot.symbol == symbol for lot in self.open_lots()):
            return
        self._watched.discard(symbol)
