"""Ports the sandbox picks for itself and its twins (below the kernel's ephemeral range, where no
outgoing connection can take them between the pick and the server's bind), and serving on a port
that turns out to be taken."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from gateway.sandbox import twins
from gateway.sandbox.twins import free_port


def _range_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ip_local_port_range"
    path.write_text(text, encoding="ascii")
    return path


def test_a_port_without_preference_lies_below_the_ephemeral_range(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(twins, "_EPHEMERAL_RANGE", _range_file(tmp_path, "32768\t60999\n"))
    ports = {free_port() for _ in range(50)}
    assert all(20000 <= port < 32768 for port in ports), sorted(ports)
    assert len(ports) > 1  # drawn, not one fixed port that every sandbox would race for


def test_an_unknown_or_narrow_range_falls_back_to_any_free_port(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for text in ("", "not numbers", "20500 60999"):
        monkeypatch.setattr(twins, "_EPHEMERAL_RANGE", _range_file(tmp_path, text))
        port = free_port()
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))  # it was free


def test_the_preferred_port_when_free_another_when_busy() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        assert free_port(preferred=busy) != busy
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        released = probe.getsockname()[1]
    assert free_port(preferred=released) == released


async def test_an_app_whose_port_is_taken_is_cleaned_up() -> None:
    """setup() has started the app's background work (the gateway's workers); a port that cannot be
    bound must stop it, not leave it to the garbage collector."""
    from collections.abc import AsyncIterator

    from aiohttp import web

    from gateway.sandbox.simulate import serve_app

    stages: list[str] = []

    async def work(_app: web.Application) -> AsyncIterator[None]:
        stages.append("started")
        yield
        stages.append("stopped")

    app = web.Application()
    app.cleanup_ctx.append(work)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        with pytest.raises(OSError):
            async with serve_app(app, holder.getsockname()[1]):
                pass
    assert stages == ["started", "stopped"]
