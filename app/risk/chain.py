"""Rules run in order; each may approve, cut the quantity, or reject with a reason."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from app.risk.intent import OrderIntent, Outcome, RiskRule, RiskView


@dataclass(frozen=True, slots=True)
class ChainResult:
    approved: bool
    reason: str
    qty: Decimal
    checks: dict[str, str] = field(default_factory=dict)


class RiskChain:
    def __init__(self, rules: Sequence[RiskRule]) -> None:
        self._rules = tuple(rules)

    def evaluate(self, intent: OrderIntent, view: RiskView) -> ChainResult:
        checks: dict[str, str] = {}
        for rule in self._rules:
            verdict = rule.check(intent, view)
            checks[rule.name] = f"{verdict.outcome.value}: {verdict.reason}"
            if verdict.outcome is Outcome.REJECT:
                return ChainResult(False, f"{rule.name}: {verdict.reason}", intent.qty, checks)
            if verdict.outcome is Outcome.MODIFY and verdict.qty is not None:
                intent = replace(intent, qty=verdict.qty)
        return ChainResult(True, "approved", intent.qty, checks)
