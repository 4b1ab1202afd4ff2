"""Protocols for everything that does I/O."""
