"""The gateway as a real OS process, for tools that must measure or kill it from outside
(``bench delivery``, ``scripts/chaos_simulate.py``): ``mse-gateway serve`` started with an
environment of ``GATEWAY_*`` overrides, its output appended to a log file."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import IO, NamedTuple

import aiohttp

__all__ = ["GatewayProcess", "cpu_seconds_of", "gateway_env"]

_ROOT = Path(__file__).resolve().parents[2]


class GatewayProcess:
    """One ``serve`` (or ``sandbox``) process on ``port`` with ``data_dir``; start, SIGKILL, stop,
    CPU used."""

    def __init__(
        self,
        data_dir: Path,
        port: int,
        env: dict[str, str],
        *,
        log_name: str = "gateway.log",
        command: str = "serve",
    ) -> None:
        self.cmd = [sys.executable, "-m", "gateway", command, "--port", str(port), "--data-dir", str(data_dir)]
        self.env = env
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] = open(data_dir / log_name, "ab")  # noqa: SIM115 - kept open across restarts

    async def start(self, *, ready_timeout: float = 60.0) -> None:
        self.proc = subprocess.Popen(  # noqa: ASYNC220 - a long-lived child; readiness is polled below
            self.cmd, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, cwd=_ROOT
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ready_timeout
        async with aiohttp.ClientSession() as http:
            while loop.time() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"gateway exited with {self.proc.returncode}; see {self._log.name}")
                try:
                    async with http.get(f"{self.url}/readyz") as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"gateway did not become ready in {ready_timeout:.0f} s; see {self._log.name}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, leases stay until they expire."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self, timeout: float = 30.0) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()

    def cpu_seconds(self) -> float | None:
        """User + system CPU of the running process and its descendants (validation workers),
        live or finished, from Linux /proc; None where unknown."""
        if self.proc is None or self.proc.poll() is not None:
            return None
        stats = _proc_stats()
        if self.proc.pid not in stats:
            return None
        children: dict[int, list[int]] = {}
        for pid, stat in stats.items():
            children.setdefault(stat.ppid, []).append(pid)
        ticks, todo = 0, [self.proc.pid]
        while todo:
            pid = todo.pop()
            ticks += stats[pid].ticks
            todo.extend(children.get(pid, ()))
        return ticks / os.sysconf("SC_CLK_TCK")

    def rss_bytes(self) -> int | None:
        """Resident memory of the running process and its descendants (validation workers), from
        Linux /proc; None where unknown."""
        if self.proc is None or self.proc.poll() is not None:
            return None
        stats = _proc_stats()
        if self.proc.pid not in stats:
            return None
        children: dict[int, list[int]] = {}
        for pid, stat in stats.items():
            children.setdefault(stat.ppid, []).append(pid)
        total, todo = 0, [self.proc.pid]
        while todo:
            pid = todo.pop()
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            except (OSError, ValueError):
                pass  # ended meanwhile
            todo.extend(children.get(pid, ()))
        return total


def gateway_env(overrides: dict[str, str]) -> dict[str, str]:
    """This process's environment without its own ``GATEWAY_*`` settings, plus ``overrides``:
    what a gateway started by a tool should see."""
    return {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")} | overrides


def cpu_seconds_of(command: str) -> float | None:
    """User + system CPU of every process whose command name is ``command`` (e.g. the local
    PostgreSQL server's ``postgres`` processes); None where /proc is unavailable."""
    if not Path("/proc/self/stat").exists():
        return None
    ticks = sum(stat.ticks for stat in _proc_stats().values() if stat.command == command)
    return ticks / os.sysconf("SC_CLK_TCK")


class _Stat(NamedTuple):
    command: str
    ppid: int
    ticks: int  # own utime + stime and that of the children it has waited for


def _proc_stats() -> dict[int, _Stat]:
    """pid -> its /proc/<pid>/stat essentials, for every process visible now."""
    out: dict[int, _Stat] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            # "pid (command) state ppid ...": the command may hold spaces and parentheses.
            head, _, rest = (entry / "stat").read_text().rpartition(")")
            fields = rest.split()
            # After the command: state ppid ... utime(14) stime cutime cstime (1-based in proc(5)).
            out[int(entry.name)] = _Stat(head.partition("(")[2], int(fields[1]), sum(int(f) for f in fields[11:15]))
        except (OSError, IndexError, ValueError):
            continue  # the process ended meanwhile
    return out
