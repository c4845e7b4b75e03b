"""`bench delivery` for real: the gateway as `serve` processes on SQLite and on PostgreSQL (two
processes sharing the journal, each validating in a worker process), the REMD twin and the sender
in the bench process. A handful of documents, so the test checks the plumbing and the figures'
meaning, not the speed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _bench(*args: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    proc = subprocess.run(
        [sys.executable, "-m", "gateway", "bench", "delivery", "--count", "8", "--json", *args],
        capture_output=True, text=True, timeout=600, cwd=ROOT, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows: list[dict[str, Any]] = json.loads(proc.stdout)
    assert len(rows) == 1
    return rows[0]


def _assert_complete(row: dict[str, Any], database: str, processes: int, validators: int) -> None:
    assert (row["database"], row["processes"], row["validation_processes"]) == (database, processes, validators)
    assert row["registered"] == row["documents"] == 8
    assert row["documents_per_s"] > 0
    # The gateway processes did the validation and delivery work, measurably, and separately
    # from this process's sender and twin.
    assert row["gateway_cpu_s"] > 0
    assert row["gateway_cpu_ms_per_document"] == pytest.approx(1000 * row["gateway_cpu_s"] / 8, rel=0.01)
    assert row["p50_final_s"] is not None and row["p50_final_s"] <= row["p95_final_s"]
    # The yardstick: the offline check of the same documents alone, and the gateway over it.
    assert row["validation_cpu_ms_per_document"] > 0
    assert row["overhead_ratio"] == pytest.approx(
        row["gateway_cpu_ms_per_document"] / row["validation_cpu_ms_per_document"], rel=0.01
    )
    assert 0 < row["intake_p50_ms"] <= row["intake_p99_ms"]


@pytest.mark.slow
def test_bench_delivery_on_sqlite() -> None:
    row = _bench()
    _assert_complete(row, "sqlite", 1, 0)
    assert row["database_cpu_ms_per_document"] is None  # SQLite works inside the gateway


@pytest.mark.slow
@pytest.mark.postgres
def test_bench_delivery_with_two_processes_on_postgresql(pg_dsn: str) -> None:
    """Two gateway processes, each validating in a worker process of its own."""
    row = _bench("--database", pg_dsn, "--processes", "2", "--validation-processes", "1")
    _assert_complete(row, "postgresql", 2, 1)
    assert row["database_cpu_ms_per_document"] > 0  # the local server worked for it


@pytest.mark.slow
def test_bench_journal_growth_compares_an_empty_and_a_preloaded_journal() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    proc = subprocess.run(
        [sys.executable, "-m", "gateway", "bench", "journal-growth", "--rows", "3000", "--count", "8", "--json"],
        capture_output=True, text=True, timeout=900, cwd=ROOT, env=env,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    result: dict[str, Any] = json.loads(proc.stdout)
    assert result["rows"] == 3000 and result["preload_seconds"] > 0
    for label in ("empty", "preloaded"):
        row = result[label]
        _assert_complete(row, "sqlite", 1, 0)
        assert row["gateway_rss_mb"] > 0
        assert set(row["extra"]) == {"ui_overview_s", "ui_messages_s", "message_search_s"}
        assert all(v > 0 for v in row["extra"].values())
    assert result["documents_per_s_ratio"] == pytest.approx(
        result["preloaded"]["documents_per_s"] / result["empty"]["documents_per_s"], rel=0.01
    )
