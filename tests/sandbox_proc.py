"""A real `mse-gateway sandbox` process in a directory of its own, as `make run` starts it (for
tests that drive the product the way a newcomer does)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from loopback_ports import free_port

ROOT = Path(__file__).resolve().parents[1]


def clean_env(locale: str = "C.UTF-8") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env["LC_ALL"] = locale  # the CLI follows the locale: C is neither Russian nor English, so English
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def make_venv(directory: Path) -> None:
    """``.venv/bin/mse-gateway`` and ``.venv/bin/python`` as `make run` leaves them."""
    bin_dir = directory / ".venv" / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    if not (bin_dir / "python").exists():
        (bin_dir / "python").symlink_to(sys.executable)
    script = bin_dir / "mse-gateway"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m gateway "$@"\n')
    script.chmod(0o755)


def http_get(url: str, token: str | None = None) -> bytes:
    """GET a loopback URL of the sandbox (nothing else: the scheme is checked)."""
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError(f"not the sandbox: {url}")
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310
        body: bytes = resp.read()
        return body


def get_json(url: str, token: str | None = None) -> dict[str, object]:
    data: dict[str, object] = json.loads(http_get(url, token))
    return data


@dataclass
class Sandbox:
    directory: Path
    url: str
    banner: str = ""

    @property
    def token(self) -> str:
        return str(json.loads((self.directory / "var" / "sandbox-client.json").read_text())["token"])


@contextlib.contextmanager
def running_sandbox(directory: Path, *args: str, locale: str = "C.UTF-8") -> Iterator[Sandbox]:
    """Start ``mse-gateway sandbox --port <free>`` in ``directory`` (data in ./var), wait until it
    is ready, stop it with SIGINT afterwards and require a clean exit. ``locale`` (LC_ALL) sets the
    language of what it prints."""
    make_venv(directory)
    port = free_port()
    # A file, not a pipe: nobody reads a pipe while the test runs, and a sandbox whose log fills
    # the pipe's buffer blocks in write() with its event loop.
    log = (directory / "sandbox.log").open("wb")
    proc = subprocess.Popen(
        [str(directory / ".venv/bin/mse-gateway"), "sandbox", "--port", str(port), *args],
        cwd=directory,
        env=clean_env(locale),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    sandbox = Sandbox(directory, f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                get_json(f"{sandbox.url}/readyz")
                break
            except OSError:
                if proc.poll() is not None:
                    raise AssertionError((directory / "sandbox.log").read_text(encoding="utf-8")) from None
                if time.monotonic() > deadline:
                    raise AssertionError("the sandbox did not become ready") from None
                time.sleep(0.3)
        yield sandbox
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        sandbox.banner = (directory / "sandbox.log").read_text(encoding="utf-8")
    assert proc.returncode == 0, sandbox.banner
