"""The CLI: --help everywhere, status, db upgrade, configuration errors, and `serve` as a real
process that answers /healthz and stops cleanly on SIGINT."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from loopback_ports import free_port

from gateway.cli import main
from gateway.journal.migrate import head_revision


def _walk(group: click.Group, prefix: list[str]) -> list[list[str]]:
    out = [prefix]
    for name, cmd in group.commands.items():
        if isinstance(cmd, click.Group):
            out.extend(_walk(cmd, [*prefix, name]))
        else:
            out.append([*prefix, name])
    return out


@pytest.mark.parametrize("path", _walk(main, []), ids=lambda p: " ".join(p) or "main")
def test_every_command_has_help(path: list[str]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_db_upgrade_then_status_json(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["db", "upgrade", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"-> {head_revision()}" in result.output
    result = runner.invoke(main, ["status", "--json", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output.strip().splitlines()[-1])
    assert data["total"] == 0 and set(data["states"]) >= {"RECEIVED", "REGISTERED", "DEAD"}


def test_status_without_journal_exits_1(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["status", "--data-dir", str(tmp_path / "none")])
    assert result.exit_code == 1


def test_bad_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    cfg = tmp_path / "g.toml"
    cfg.write_text("[server]\nport = 'x'\n")
    result = CliRunner().invoke(main, ["--config", str(cfg), "status"])
    assert result.exit_code == 2
    assert "server.port" in result.output


@pytest.mark.parametrize("command", ["serve", "sandbox"])
def test_real_process_serves_health_and_stops_on_sigint(tmp_path: Path, command: str) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    if command == "serve":  # no CRL sources here: production refuses that unless told explicitly
        env["GATEWAY_VALIDATION__REQUIRE_REVOCATION"] = "false"
        # serve refuses a peer whose endpoints would accept anyone's calls, and is not ready
        # with a routed peer that has no URL
        env["GATEWAY_PEERS__REMD__AUTH__ALLOW_ADDRESSES"] = '["127.0.0.0/8"]'
        env["GATEWAY_PEERS__REMD__URL"] = '"http://127.0.0.1:9/remd"'
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway", command, "--port", str(port), "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as resp:
                    status = resp.status
                    break
            except OSError:
                time.sleep(0.2)
        assert status == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as resp:
            assert resp.status == 200
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, out.decode()
    if command == "sandbox":
        assert f"http://127.0.0.1:{port}/healthz" in out.decode()
    else:
        assert "revocation checking is not required" in out.decode()


def test_serve_refuses_to_start_without_crl_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14 finding 8: with no CRL source a revoked certificate verified as valid."""
    for name in [k for k in os.environ if k.startswith("GATEWAY_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["serve", "--port", "0", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert "no CRL sources" in result.output and "require_revocation = false" in result.output


def test_clients_callback_hosts(tmp_path: Path) -> None:
    runner = CliRunner()
    data = ["--data-dir", str(tmp_path)]
    added = runner.invoke(
        main, ["clients", "add", "mis-x", "--org", "1.2.3", "--callback-host", "MIS.example.org", "--json", *data]
    )
    assert added.exit_code == 0, added.output
    assert json.loads(added.output)["callback_hosts"] == ["MIS.example.org"]
    listed = json.loads(runner.invoke(main, ["clients", "list", "--json", *data]).output)
    assert listed[0]["callback_hosts"] == ["mis.example.org"]  # stored normalised
    changed = runner.invoke(main, ["clients", "callback-hosts", "mis-x", "--host", "*.gis.example.org", *data])
    assert changed.exit_code == 0 and "*.gis.example.org" in changed.output
    cleared = runner.invoke(main, ["clients", "callback-hosts", "mis-x", *data])
    assert "(none)" in cleared.output


# ------------------------------------------------------------------ start-up refusals (issue 13)


def _serve_with(tmp_path: Path, toml: str, routes: str | None = None) -> tuple[int, str]:
    cfg = tmp_path / "gateway.toml"
    if routes is not None:
        (tmp_path / "routes.toml").write_text(routes)
        toml = f'[routing]\nroutes_file = "{tmp_path / "routes.toml"}"\n\n' + toml
    cfg.write_text(toml)
    result = CliRunner().invoke(main, ["--config", str(cfg), "serve", "--data-dir", str(tmp_path / "var")])
    return result.exit_code, result.output


def test_serve_refuses_a_route_to_a_missing_peer_in_one_line(tmp_path: Path) -> None:
    """A real process: exit 2, and one line naming the route and the peer."""
    (tmp_path / "routes.toml").write_text(
        '[[routes]]\nname = "kz-031u-to-shep"\nkinds = ["kz-031u"]\ndestination = "shep"\n'
    )
    cfg = tmp_path / "gateway.toml"
    cfg.write_text(f'[routing]\nroutes_file = "{tmp_path / "routes.toml"}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    proc = subprocess.run(
        [sys.executable, "-m", "gateway", "--config", str(cfg), "serve", "--data-dir", str(tmp_path / "var")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "route 'kz-031u-to-shep' sends to peer 'shep', which is not configured" in lines[0]
    assert not (tmp_path / "var" / "gateway.sqlite3").exists()  # refused before anything was opened


def test_serve_refuses_an_unknown_protocol(tmp_path: Path) -> None:
    code, out = _serve_with(tmp_path, '[peers.remd]\n\n[peers.fhir]\nprotocol = "fhir"\n')
    assert code == 2
    assert "peers.fhir.protocol: unknown protocol 'fhir' (installed: remd, shep, smev3)" in out
    assert len(out.strip().splitlines()) == 1, out


def test_serve_refuses_an_unknown_peer_key(tmp_path: Path) -> None:
    code, out = _serve_with(tmp_path, '[peers.remd]\nurl = "http://127.0.0.1:9/"\ncolour = "green"\n')
    assert code == 2
    assert "peers.remd.colour: unknown key" in out
    assert len(out.strip().splitlines()) == 1, out


def test_serve_refuses_two_peers_with_one_name(tmp_path: Path) -> None:
    toml = '[peers.remd]\nurl = "http://a/"\n\n[peers.gis-77]\nprotocol = "remd"\n\n[peers.remd]\nurl = "http://b/"\n'
    code, out = _serve_with(tmp_path, toml)
    assert code == 2
    (line,) = out.strip().splitlines()
    assert "not valid TOML" in line and "('peers', 'remd')" in line and "line 7" in line, line


# ------------------------------------------------------------------ ports and processes (issue 18)


def _serve_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env["GATEWAY_VALIDATION__REQUIRE_REVOCATION"] = "false"
    env["GATEWAY_PEERS__REMD__AUTH__ALLOW_ADDRESSES"] = '["127.0.0.0/8"]'
    env["GATEWAY_PEERS__REMD__URL"] = '"http://127.0.0.1:9/remd"'
    return env


def _wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[0].decode()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail("not ready")


@pytest.mark.parametrize("command", ["serve", "sandbox"])
def test_an_explicit_busy_port_is_an_error(tmp_path: Path, command: str) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "gateway", command, "--port", str(port), "--data-dir", str(tmp_path / "var")],
            capture_output=True,
            text=True,
            env=_serve_env(),
            cwd=tmp_path,
            timeout=120,
        )
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert f"127.0.0.1:{port} (gateway) is in use" in proc.stderr and "--port" in proc.stderr
    if command == "sandbox":  # refused before the sandbox wrote its keys and journal
        assert not (tmp_path / "var" / "gateway.sqlite3").exists()


def test_a_second_process_on_one_sqlite_data_dir_refuses_and_the_lock_dies_with_its_holder(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "var")]
    first_port = free_port()
    first = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--port", str(first_port), *data],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=_serve_env(),
        cwd=tmp_path,
    )
    try:
        _wait_ready(first_port, first)
        for command in ("serve", "sandbox"):
            second = subprocess.run(
                [sys.executable, "-m", "gateway", command, "--port", str(free_port()), *data],
                capture_output=True,
                text=True,
                env=_serve_env(),
                cwd=tmp_path,
                timeout=120,
            )
            assert second.returncode == 1, (second.stdout, second.stderr)
            assert f"in use by process {first.pid}" in second.stderr and "PostgreSQL" in second.stderr
        assert not (tmp_path / "var" / "twins").exists()  # the refused sandbox wrote nothing there
        first.kill()  # a crash: no clean-up runs, the kernel drops the flock
        first.wait(timeout=30)
        third_port = free_port()
        third = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--port", str(third_port), *data],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=_serve_env(),
            cwd=tmp_path,
        )
        try:
            _wait_ready(third_port, third)
            assert (tmp_path / "var" / "gateway.lock").read_text().strip() == str(third.pid)
        finally:
            third.send_signal(signal.SIGINT)
            third.communicate(timeout=30)
        assert third.returncode == 0
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate()
