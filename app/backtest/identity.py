"""A run's identity: the hash of its configuration written canonically.

The configuration document holds everything that decides the result: where the data comes
from (a bar file by the digest of its bytes, a tick store by its location), the period, the
strategies and their parameters, carry, the seed, the bar interval and every execution and
venue setting. Written as JSON with sorted keys and no spaces, the same configuration always
gives the same bytes, so the same id: re-running it replaces the stored run instead of adding
one.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import msgspec

ID_CHARS = 32


def canonical_json(document: dict[str, Any]) -> bytes:
    return msgspec.json.encode(document, order="sorted")


def run_id(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(document)).hexdigest()[:ID_CHARS]


def file_digest(path: Path) -> str:
    """The SHA-256 of a file's bytes (a bar file's identity, wherever it lies)."""
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
