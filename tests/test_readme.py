"""The README's "Using it" flow, run as written: its blocks marked ``<!-- readme-test -->`` go
through ``bash -e`` in a fresh directory, against a sandbox this test starts there the way
``make run`` does (``mse-gateway sandbox`` on ``./var``).

Only two things differ from a newcomer's terminal, both documented in the README: ``.venv/bin``
holds this interpreter (``mse-gateway`` runs this checkout), and ``MSE_GATEWAY_URL`` names the
sandbox's port, a free one rather than 8080.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_BLOCK = re.compile(r"<!-- readme-test -->\n```sh\n(.*?)```", re.S)


def readme_blocks() -> list[str]:
    return _BLOCK.findall((ROOT / "README.md").read_text("utf-8"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _venv(directory: Path) -> None:
    """``.venv/bin/mse-gateway`` and ``.venv/bin/python`` as `make run` leaves them."""
    bin_dir = directory / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "python").symlink_to(sys.executable)
    script = bin_dir / "mse-gateway"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m gateway "$@"\n')
    script.chmod(0o755)


def _get(url: str, token: str | None = None) -> dict[str, object]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(request, timeout=5) as resp:
        data: dict[str, object] = json.loads(resp.read())
        return data


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    _venv(tmp_path)
    port = _free_port()
    proc = subprocess.Popen(
        [str(tmp_path / ".venv/bin/mse-gateway"), "sandbox", "--port", str(port)],
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if _get(f"{url}/readyz"):
                    break
            except OSError:
                assert proc.poll() is None, proc.communicate()[0].decode()
                time.sleep(0.3)
        else:
            pytest.fail("the sandbox did not become ready")
        yield tmp_path, url
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    banner = out.decode()
    assert "clientEntityId sandbox-mis-entity" in banner and f"{url}/remd/service?wsdl" in banner, banner
    assert proc.returncode == 0, banner


def _run(block: str, cwd: Path, url: str) -> str:
    env = {**_env(), "MSE_GATEWAY_URL": url}
    done = subprocess.run(["bash", "-e"], input=block, text=True, capture_output=True, cwd=cwd, env=env, timeout=300)
    assert done.returncode == 0, (block, done.stdout, done.stderr)
    return done.stdout


def test_the_readme_blocks_are_found() -> None:
    blocks = readme_blocks()
    assert len(blocks) == 2
    assert "mse-gateway samples ./samples" in blocks[0] and "/api/v1/submissions" in blocks[0]
    assert "clientEntityId" in blocks[1]


def test_the_readme_flow_works_as_written(sandbox: tuple[Path, str]) -> None:
    directory, url = sandbox
    first, soap = readme_blocks()
    out = _run(first, directory, url)
    # check passes the valid sample and rejects the broken one naming the ministry's rule
    assert "ПРОЙДЕНА" in out and "Extra02-1" in out and "rejected (exit 1)" in out, out
    accepted = json.loads(out.strip().splitlines()[-1])
    assert accepted["source_system"] == "sandbox-mis" and accepted["state"] == "RECEIVED"
    token = json.loads((directory / "var" / "sandbox-client.json").read_text())["token"]
    deadline = time.monotonic() + 60
    state = None
    while time.monotonic() < deadline and state != "REGISTERED":
        state = _get(f"{url}/api/v1/submissions/{accepted['id']}", token)["state"]
        time.sleep(0.5)
    assert state == "REGISTERED"
    answer = _run(soap, directory, url)
    assert "<emdr:status>success</emdr:status>" in answer, answer
    assert f"<emdr:localUid>{accepted['local_uid']}</emdr:localUid>" in answer, answer
    # the WSDL the README names, with the schemas it imports beside it
    with urllib.request.urlopen(f"{url}/remd/service?wsdl", timeout=5) as resp:
        wsdl = resp.read().decode()
    assert f'location="{url}/remd/service"' in wsdl
    with urllib.request.urlopen(f"{url}/remd/emdr-service.xsd", timeout=5) as resp:
        assert b"searchRegistryItemRequest" in resp.read()
