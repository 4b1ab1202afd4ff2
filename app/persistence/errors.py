"""What the ledger raises. None of these is transient: retrying the same call will not help."""

from __future__ import annotations

from app.ports.ledger import StaleOrderUpdateError

__all__ = [
    "DuplicateOrderError",
    "InconsistentWriteError",
    "LedgerError",
    "SchemaNotAtHeadError",
    "StaleOrderUpdateError",
    "UnknownOrderError",
    "UnsupportedDatabaseError",
]


class LedgerError(Exception):
    """Base of the ledger's own errors (driver errors such as a lost connection pass through)."""


class UnsupportedDatabaseError(LedgerError, ValueError):
    """The URL names a database or driver the ledger does not run on."""


class SchemaNotAtHeadError(LedgerError):
    """The database schema is not the one this code was written for: migrate, or upgrade code."""


class UnknownOrderError(LedgerError, LookupError):
    """An update names a client_order_id that was never inserted."""


class InconsistentWriteError(LedgerError, ValueError):
    """A write was handed objects that do not belong together (nothing was written)."""


class DuplicateOrderError(LedgerError):
    """A new signal's order intent reuses a client_order_id already in the ledger."""
