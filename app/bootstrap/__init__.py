"""Composition root: the only package that branches on mode, role, venue and feed."""

from app.bootstrap.roles import build
from app.bootstrap.runtime import ConfigurationError, Role, Runtime, process_identity

__all__ = ["ConfigurationError", "Role", "Runtime", "build", "process_identity"]
