from dataclasses import dataclass
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from app.domain.signal import Side
from app.risk.chain import RiskChain
from app.risk.intent import OrderIntent, Outcome
from app.risk.rules import MaxExposureRule, MaxOpenPositionsRule
from app.risk.sizing import FixedFractionalSizer, SizingConfig


@dataclass
class View:
    exposure: Decimal = Decimal(0)
    positions: int = 0

    def equity(self) -> Decimal:
        return Decimal("100000")

    def committed_exposure(self) -> Decimal:
        return self.exposure

    def open_position_count(self) -> int:
        return self.positions


def _intent(qty: str = "100", price: str = "10") -> OrderIntent:
    return OrderIntent("s", "ABC", Side.BUY, Decimal(qty), Decimal(price))


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
    assert rule.check(_intent("100"), View()).outcome is Outcome.APPROVE
    cut = rule.check(_intent("100"), View(exposure=Decimal("9500")))
    assert cut.outcome is Outcome.MODIFY and cut.qty == Decimal("50")
    assert rule.check(_intent("100"), View(exposure=Decimal("9995"))).outcome is Outcome.REJECT


def test_chain_applies_modifications_and_records_every_check() -> None:
    chain = RiskChain([MaxOpenPositionsRule(limit=3), MaxExposureRule(limit=Decimal("10000"))])
    result = chain.evaluate(_intent("2000"), View(exposure=Decimal("5000")))
    assert result.approved and result.qty == Decimal("500")
    assert set(result.checks) == {"max_open_positions", "max_exposure"}
    rejected = chain.evaluate(_intent("1"), View(positions=3))
    assert not rejected.approved and rejected.reason.startswith("max_open_positions")
