"""`simulate --target` into a running sandbox: its documents (several kinds and regions, deliberate
defects rejected) land in that sandbox's journal, the temporary data is gone afterwards, and two
runs with one seed print identical JSON."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox_proc import Sandbox, clean_env, running_sandbox

COUNT = 40  # `simulate --count 300` was run once by hand (docs/benchmarks.md); CI keeps it small


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path_factory.mktemp("sandbox")) as running:
        yield running


def _simulate(sandbox: Sandbox, *args: str) -> tuple[dict[str, object], str]:
    done = subprocess.run(
        [str(sandbox.directory / ".venv/bin/mse-gateway"), "simulate", "--target", sandbox.url, *args],
        cwd=sandbox.directory,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, (done.stdout, done.stderr)
    return json.loads(done.stdout), done.stderr


def _journal(sandbox: Sandbox) -> list[tuple[str, str, str, str]]:
    with sqlite3.connect(f"file:{sandbox.directory / 'var' / 'gateway.sqlite3'}?mode=ro", uri=True) as db:
        return db.execute("SELECT source_system, kind, region, state FROM submissions").fetchall()


def test_simulate_into_the_sandbox_twice_with_one_seed(sandbox: Sandbox) -> None:
    first, err = _simulate(sandbox, "--count", str(COUNT), "--seed", "3", "--json")
    workdir = Path(re.search(r"working directory (\S+)", err).group(1))  # type: ignore[union-attr]
    assert not workdir.exists()  # generated documents removed
    states = first["states"]
    assert isinstance(states, dict) and set(states) <= {"REGISTERED", "REJECTED"} and states["REJECTED"] >= 1
    assert first["defects_not_rejected"] == []
    regions = first["regions"]
    assert isinstance(regions, dict) and len(regions) >= 3
    kinds = first["kinds"]
    assert isinstance(kinds, dict) and {"121", "35", "108"} <= set(kinds)
    rows = _journal(sandbox)
    assert len(rows) == COUNT and {r[0] for r in rows} == {"sandbox-mis"}
    assert len({r[2] for r in rows}) >= 3 and {r[3] for r in rows} == {"REGISTERED", "REJECTED"}
    second, _ = _simulate(sandbox, "--count", str(COUNT), "--seed", "3", "--json")
    assert second == first
    assert len(_journal(sandbox)) == 2 * COUNT  # fresh identifiers: nothing refused as a duplicate


def test_keep_leaves_the_working_directory(sandbox: Sandbox) -> None:
    _, err = _simulate(sandbox, "--count", "2", "--seed", "4", "--json", "--keep")
    workdir = Path(re.search(r"working directory (\S+)", err).group(1))  # type: ignore[union-attr]
    try:
        assert len((workdir / "documents.jsonl").read_bytes().splitlines()) == 2
    finally:
        for path in workdir.iterdir():
            path.unlink()
        workdir.rmdir()


def test_target_without_a_sandbox_data_dir_exits_2(sandbox: Sandbox, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(sandbox.directory / ".venv/bin/mse-gateway"), "simulate", "--target", sandbox.url,
         "--data-dir", str(tmp_path), "--count", "1"],
        cwd=tmp_path, env=clean_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and "holds no sandbox" in done.stderr
