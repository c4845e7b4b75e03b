"""`simulate` under a faulty REMD profile is reproducible: two runs with one ``--seed`` print the
same JSON but for its ``timing`` object (real seconds, and durations on a simulated clock that runs
at ``speed`` x real time). The twin draws each call's faults from a generator keyed by the seed and
the document, so the order in which concurrent submissions reach it does not matter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _simulate(*args: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "simulate", "--json", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def test_two_runs_with_one_seed_under_a_faulty_profile_print_the_same_json() -> None:
    args = ("--count", "24", "--profile", "flaky", "--seed", "7")
    first, second = _simulate(*args), _simulate(*args)
    assert set(first["timing"]) == {"p50_final_s", "p95_final_s", "wall_seconds", "intake_per_s", "delivery_seconds"}
    first.pop("timing"), second.pop("timing")
    assert first == second
    # the profile did bite: some documents met RATE_LIMIT or a 503 and were registered on a retry
    assert first["registered"] == 24 and first["registered_after_retry"] > 0, first
