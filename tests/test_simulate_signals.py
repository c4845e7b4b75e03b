"""`simulate` stopped by SIGTERM or Ctrl-C (SIGINT) removes its temporary working directory (the
journal, generated documents and a ``secret.key``) as it does at a normal end, and exits 128 +
the signal's number. A real subprocess, a real signal."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_removes_the_working_directory(tmp_path: Path, sig: signal.Signals) -> None:
    log = tmp_path / "stderr.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "simulate", "--count", "400", "--profile", "none", "--json"],
            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=err,
        )  # fmt: skip
        try:
            workdir = None
            deadline = time.monotonic() + 120
            # wait until the run is under way: its directory holds the journal and the documents
            while time.monotonic() < deadline and proc.poll() is None:
                match = re.search(r"working directory (\S+)", log.read_text(errors="replace"))
                if match:
                    workdir = Path(match.group(1))
                    if (workdir / "secret.key").exists() and (workdir / "documents.jsonl").exists():
                        break
                time.sleep(0.2)
            assert workdir is not None and workdir.is_dir(), log.read_text(errors="replace")
            assert proc.poll() is None, "the run ended before the signal"
            time.sleep(1.0)
            proc.send_signal(sig)
            code = proc.wait(timeout=90)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    text = log.read_text(errors="replace")
    assert code == 128 + sig.value, text[-2000:]
    assert f"stopped by {sig.name}" in text
    assert not workdir.exists(), sorted(p.name for p in workdir.iterdir())
