from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from app.ports.risk_state import Halt, HaltKind, StrategyState
from app.risk.chain import RiskChain
from app.risk.guards import (
    CooldownRule,
    DailyLossRule,
    HaltRule,
    PatternDayTraderRule,
    StaleDataRule,
)
from app.risk.intent import Outcome
from app.risk.rules import (
    BuyingPowerRule,
    MaxExposureRule,
    MaxOpenPositionsRule,
    MaxSymbolExposureRule,
    MaxTradeRiskRule,
    StrategyCapitalRule,
)
from app.risk.sizing import FixedFractionalSizer, SizingConfig
from tests.builders import OPEN_NS, SECOND
from tests.unit.risk.views import View, intent


def test_fixed_fractional_risks_the_stated_fraction() -> None:
    sizer = FixedFractionalSizer(SizingConfig(Decimal("1"), Decimal("1000000")))
    qty = sizer.size(equity=Decimal("100000"), entry=Decimal("10.00"), stop=Decimal("9.50"))
    assert qty == Decimal("2000")  # $1,000 risk / $0.50 per share


def test_sizing_is_capped_by_position_value() -> None:
    sizer = FixedFractionalSizer(SizingConfig(Decimal("1"), Decimal("5000")))
    assert sizer.size(equity=Decimal("100000"), entry=Decimal("10"), stop=Decimal("9.5")) == 500


def test_no_size_without_stop_distance() -> None:
    sizer = FixedFractionalSizer(SizingConfig(Decimal("1"), Decimal("5000")))
    assert sizer.size(equity=Decimal("100000"), entry=Decimal("10"), stop=Decimal("10")) == 0


@given(
    equity=st.decimals(min_value=1, max_value=10_000_000, places=2),
    entry=st.decimals(min_value=Decimal("0.5"), max_value=500, places=2),
    stop_frac=st.decimals(min_value=Decimal("0.001"), max_value=Decimal("0.5"), places=3),
    risk=st.decimals(min_value=Decimal("0.1"), max_value=5, places=1),
    cap=st.decimals(min_value=100, max_value=100_000, places=0),
)
def test_size_never_exceeds_risk_or_value_cap(
    equity: Decimal, entry: Decimal, stop_frac: Decimal, risk: Decimal, cap: Decimal
) -> None:
    stop = entry * (1 - stop_frac)
    qty = FixedFractionalSizer(SizingConfig(risk, cap)).size(equity=equity, entry=entry, stop=stop)
    assert qty == qty.to_integral_value()
    assert qty * entry <= cap
    assert qty * (entry - stop) <= equity * risk / 100


def test_exposure_rule_cuts_to_what_fits_then_rejects() -> None:
    rule = MaxExposureRule(limit=Decimal("10000"))
    assert rule.check(intent("100"), View()).outcome is Outcome.APPROVE
    cut = rule.check(intent("100"), View(exposure=Decimal("9500")))
    assert cut.outcome is Outcome.MODIFY and cut.qty == Decimal("50")
    assert rule.check(intent("100"), View(exposure=Decimal("9995"))).outcome is Outcome.REJECT


def test_symbol_strategy_trade_risk_and_buying_power_caps() -> None:
    view = View(
        by_symbol={"ABC": Decimal("4000")},
        by_strategy={"s": Decimal("9000")},
        power=Decimal("700"),
    )
    assert MaxSymbolExposureRule(limit=Decimal("5000")).check(intent("200"), view).qty == 100
    assert StrategyCapitalRule(limits={"s": Decimal("9800")}).check(intent(), view).qty == 80
    assert StrategyCapitalRule().check(intent(), view).outcome is Outcome.APPROVE
    assert MaxTradeRiskRule(limit=Decimal("25")).check(intent(), view).qty == 50  # $0.50/share
    assert BuyingPowerRule().check(intent(), view).qty == 70
    assert BuyingPowerRule().check(intent(), View(power=None)).outcome is Outcome.REJECT


def test_gates_refuse_outright() -> None:
    halt = Halt("global", HaltKind.KILL_SWITCH, "operator", OPEN_NS, "me")
    assert HaltRule().check(intent(), View(halt=halt)).outcome is Outcome.REJECT
    assert HaltRule().check(intent(), View()).outcome is Outcome.APPROVE
    stale = StaleDataRule(max_age_ns=5 * SECOND)
    assert stale.check(intent(ts=OPEN_NS - 6 * SECOND), View()).outcome is Outcome.REJECT
    assert stale.check(intent(ts=OPEN_NS - 4 * SECOND), View()).outcome is Outcome.APPROVE
    cooling = View(state=StrategyState("s", loss_streak=0, cooldown_until_ns=OPEN_NS + 1))
    refused = CooldownRule().check(intent(), cooling)
    assert refused.outcome is Outcome.REJECT
    assert refused.reason == "cooling down after a losing streak until 2026-11-20 09:30:00 ET"
    daily = DailyLossRule(limit=Decimal("500"))
    assert daily.check(intent(), View(today=Decimal("-500"))).outcome is Outcome.REJECT
    assert daily.check(intent(), View(today=Decimal("-499.99"))).outcome is Outcome.APPROVE
    pdt = PatternDayTraderRule()
    small = View(equity_=Decimal("20000"), day_trades_=3)
    assert pdt.check(intent(), small).outcome is Outcome.REJECT
    assert pdt.check(intent(), View(day_trades_=3)).outcome is Outcome.APPROVE


def test_chain_applies_modifications_and_records_every_check() -> None:
    chain = RiskChain([MaxOpenPositionsRule(limit=3), MaxExposureRule(limit=Decimal("10000"))])
    result = chain.evaluate(intent("2000"), View(exposure=Decimal("5000")))
    assert result.approved and result.qty == Decimal("500")
    assert set(result.checks) == {"max_open_positions", "max_exposure"}
    rejected = chain.evaluate(intent("1"), View(positions=3))
    assert not rejected.approved and rejected.reason.startswith("max_open_positions")


@given(
    qty=st.integers(min_value=1, max_value=100_000),
    price=st.decimals(min_value=Decimal("0.01"), max_value=1000, places=2),
    used=st.decimals(min_value=0, max_value=20_000, places=2),
)
def test_caps_never_let_an_entry_past_the_limit(qty: int, price: Decimal, used: Decimal) -> None:
    limit = Decimal("10000")
    verdict = MaxExposureRule(limit=limit).check(
        intent(str(qty), str(price), str(price / 2)), View(exposure=used)
    )
    approved = {Outcome.APPROVE: Decimal(qty), Outcome.MODIFY: verdict.qty, Outcome.REJECT: 0}
    shares = approved[verdict.outcome] or Decimal(0)
    assert used + shares * price <= max(limit, used)
