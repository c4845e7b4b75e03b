"""Issue 14, finding 6 (item 5): ten concurrent maximum-size /check requests, each document the
costliest markup to parse (empty elements), must leave /healthz answering within 100 ms and the
process's peak RSS within its documented bound (docs/security.md, "Parsing and resource limits"):

    peak RSS − idle RSS ≤ 2 × server.max_inflight_bytes

(the estimates the budget charges are upper bounds; the factor 2 covers allocator slack, the
thread stacks and the burst's own client buffers, which live in the same process here).

Before: parsing on the event loop, no budget — a 20 MB body of empty elements peaked near 900 MB
and blocked everything for 2–4 s. The scenario runs in a fresh process so that its VmHWM is its
own; sizes are scaled down (1 MiB bodies, 64 MiB budget) to keep the test fast on two cores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

MAX_BODY = 1024 * 1024
INFLIGHT = 64 * 1024 * 1024


# the 100 ms is of this burst alone: beside other test processes on two cores it measures them
@pytest.mark.serial
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
def test_ten_max_size_checks_keep_healthz_fast_and_memory_bounded(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[2]
    script = Path(__file__).with_name("resource_burst.py")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(repo), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path), str(MAX_BODY), str(INFLIGHT), "10"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(result)  # the numbers, for docs/security.md
    assert result["body_bytes"] > 0.99 * MAX_BODY
    statuses = result["statuses"]
    assert set(statuses) <= {200, 503} and 200 in statuses, statuses  # served, or shed: never a 5xx other than 503
    assert result["budget_peak"] <= INFLIGHT
    assert result["healthz_max_ms"] < 100, result
    assert (result["peak_rss_kb"] - result["idle_rss_kb"]) * 1024 <= 2 * INFLIGHT, result
