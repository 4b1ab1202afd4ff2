"""Composition root: the only package that branches on mode, role, venue and feed."""

from app.bootstrap.roles import build
from app.bootstrap.runtime import (
    ConfigurationError,
    Role,
    Runtime,
    VenueUnreachable,
    process_identity,
)

__all__ = [
    "ConfigurationError",
    "Role",
    "Runtime",
    "VenueUnreachable",
    "build",
    "process_identity",
]
