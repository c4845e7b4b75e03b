"""SIGKILL the gateway process twice during a run and restart it: every outcome is still known,
nothing accepted is lost, and REMD (its twin) registers nothing twice. Runs the repository's chaos
script for real (separate OS processes, real HTTP, the SQLite journal on disk)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_two_sigkills_lose_nothing_and_duplicate_nothing() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "chaos_simulate.py"), "--count", "200", "--kills", "2",
         "--profile", "egisz-2023", "--speed", "600", "--settle", "300"],
        capture_output=True, text=True, timeout=900, cwd=ROOT,
    )  # fmt: skip
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["kills"] == 2
    assert result["accepted"] == 200
    assert result["lost"] == 0
    assert result["unknown"] == 0
    assert result["duplicates_at_peer"] == 0
    assert result["registrations_at_peer"] == result["registered"] == 200
    assert proc.returncode == 0, proc.stderr[-2000:]
