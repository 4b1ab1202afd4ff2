"""Worker processes import a real venue's client library only when that venue is configured:
alpaca-py (with pandas) and ib_async cost each process about 75 MB it would never use."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("alpaca", "ib_async", "pandas")


@pytest.mark.parametrize("worker", ["router", "shard", "recorder", "executor", "monolith"])
def test_a_worker_module_leaves_the_venue_libraries_unimported(worker: str) -> None:
    probe = (
        f"import sys, workers.{worker}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == ""


def test_the_probe_sees_a_venue_library_once_its_adapter_is_imported() -> None:
    probe = "import sys, app.bootstrap.venue_alpaca; print('alpaca' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "True"
