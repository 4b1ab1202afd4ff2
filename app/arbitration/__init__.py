"""Arbitration: the signals of one symbol resolved to at most one entry, each with its reason."""

from app.arbitration.arbiter import Arbiter, Holdings, Verdict
from app.arbitration.policy import ArbiterConfig, StrategyPolicy

__all__ = ["Arbiter", "ArbiterConfig", "Holdings", "StrategyPolicy", "Verdict"]
