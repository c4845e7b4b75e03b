"""The README's "Using it" flow, run as written: its blocks marked ``<!-- readme-test -->`` go
through ``bash -e`` in a fresh directory, against a sandbox this test starts there the way
``make run`` does (``mse-gateway sandbox`` on ``./var``).

Only two things differ from a newcomer's terminal, both documented in the README: ``.venv/bin``
holds this interpreter (``mse-gateway`` runs this checkout), and ``MSE_GATEWAY_URL`` names the
sandbox's port, a free one rather than 8080.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox_proc import ROOT, Sandbox, clean_env, get_json, http_get, running_sandbox

_BLOCK = re.compile(r"<!-- readme-test -->\n```sh\n(.*?)```", re.S)


def readme_blocks() -> list[str]:
    return _BLOCK.findall((ROOT / "README.md").read_text("utf-8"))


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path) as running:
        yield running
    banner = running.banner
    assert "clientEntityId sandbox-mis-entity" in banner and f"{running.url}/remd/service?wsdl" in banner, banner


def _run(block: str, cwd: Path, url: str) -> str:
    env = {**clean_env(), "MSE_GATEWAY_URL": url}
    done = subprocess.run(["bash", "-e"], input=block, text=True, capture_output=True, cwd=cwd, env=env, timeout=300)
    assert done.returncode == 0, (block, done.stdout, done.stderr)
    return done.stdout


def test_the_readme_blocks_are_found() -> None:
    blocks = readme_blocks()
    assert len(blocks) == 2
    assert "mse-gateway samples ./samples" in blocks[0] and "/api/v1/submissions" in blocks[0]
    assert "clientEntityId" in blocks[1]


def test_the_readme_flow_works_as_written(sandbox: Sandbox) -> None:
    directory, url = sandbox.directory, sandbox.url
    first, soap = readme_blocks()
    out = _run(first, directory, url)
    # check passes the valid sample and rejects the broken one naming the ministry's rule
    assert "PASSED" in out and "Extra02-1" in out and "rejected (exit 1)" in out, out
    accepted = json.loads(out.strip().splitlines()[-1])
    assert accepted["source_system"] == "sandbox-mis" and accepted["state"] == "RECEIVED"
    token = json.loads((directory / "var" / "sandbox-client.json").read_text())["token"]
    deadline = time.monotonic() + 60
    state = None
    while time.monotonic() < deadline and state != "REGISTERED":
        state = get_json(f"{url}/api/v1/submissions/{accepted['id']}", token)["state"]
        time.sleep(0.5)
    assert state == "REGISTERED"
    answer = _run(soap, directory, url)
    assert "<emdr:status>success</emdr:status>" in answer, answer
    assert f"<emdr:localUid>{accepted['local_uid']}</emdr:localUid>" in answer, answer
    # the WSDL the README names, with the schemas it imports beside it
    wsdl = http_get(f"{url}/remd/service?wsdl").decode()
    assert f'location="{url}/remd/service"' in wsdl
    assert b"searchRegistryItemRequest" in http_get(f"{url}/remd/emdr-service.xsd")
