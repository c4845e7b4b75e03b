#!/usr/bin/env python3
"""Kill the gateway with SIGKILL during a simulation, restart it, and check that nothing was lost
or registered twice.

The REMD twin runs in this process; the gateway runs as a separate `mse-gateway serve` process on
the same SQLite journal and the same simulated clock (shared epoch and speed). Documents are
submitted through the REST front door by a sender that resends until the gateway answers, as an
MIS does. At the chosen points the gateway process is SIGKILLed and started again.

    .venv/bin/python scripts/chaos_simulate.py --count 2000 --kills 2 --profile egisz-2023

Exit status 0 when every submission's outcome is known, none is lost and REMD registered none twice.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from adapters.remd.sandbox import FaultProfile, create_twin  # noqa: E402
from gateway.bench.process import GatewayProcess, gateway_env  # noqa: E402
from gateway.common.clock import SimulatedClock  # noqa: E402
from gateway.config import load_config  # noqa: E402
from gateway.model import FINAL_STATES  # noqa: E402
from gateway.sandbox.setup import prepare_sandbox  # noqa: E402
from gateway.sandbox.simulate import (  # noqa: E402
    Progress,
    generate_documents,
    journal_figures,
    read_documents,
    submit_all,
    twin_stats,
)
from gateway.sandbox.twins import twin_identity  # noqa: E402


def _port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class KillAt(Progress):
    def __init__(self, gateway: GatewayProcess, points: list[int]) -> None:
        self.gateway = gateway
        self.points = sorted(points)
        self.kills = 0
        self.tasks: list[asyncio.Task[None]] = []

    def stage(self, name: str, total: int) -> None:
        print(f"{name}: {total}", flush=True)

    def update(self, done: int) -> None:
        while self.points and done >= self.points[0]:
            self.points.pop(0)
            self.tasks.append(asyncio.get_running_loop().create_task(self._bounce(done)))

    async def _bounce(self, at: int) -> None:
        self.gateway.kill()
        self.kills += 1
        print(f"SIGKILL #{self.kills} after {at} submissions", flush=True)
        await asyncio.sleep(0.5)
        await self.gateway.start()
        print("gateway restarted", flush=True)


async def run(count: int, kills: int, profile: str, speed: float, seed: int, settle: float) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="mse-chaos-"))
    gw_port, twin_port = _port(), _port()
    epoch = time.time()
    clock = SimulatedClock(speed, real_epoch=epoch)
    overrides = {
        "GATEWAY_SANDBOX__CLOCK_SPEED": str(speed),
        "GATEWAY_SANDBOX__CLOCK_EPOCH": repr(epoch),
        "GATEWAY_PEERS__REMD__URL": f'"http://127.0.0.1:{twin_port}"',
        "GATEWAY_PEERS__REMD__PUBLIC_URL": f'"http://127.0.0.1:{gw_port}"',
        "GATEWAY_LOGGING__LEVEL": '"warning"',
        "GATEWAY_WORKERS__IDLE_SLEEP_SECONDS": "0.2",
        # Leases run on the simulated clock: 5 real seconds, so a killed process's rows return soon.
        "GATEWAY_JOURNAL__LEASE_SECONDS": repr(5.0 * speed),
    }
    env = gateway_env(overrides)
    config = load_config(environ=overrides).with_overrides(storage={"data_dir": str(data_dir)})
    config, client, signers = await prepare_sandbox(config)
    documents = data_dir / "documents.jsonl"
    await generate_documents(signers.directory, count, seed, documents, Progress())
    # The gateway process must trust the same test PKI.
    env["GATEWAY_VALIDATION__TRUST_DIR"] = f'"{signers.directory}"'
    # The twin signs its callbacks; the gateway pins its certificate and accepts loopback only.
    key, cert, cert_path = twin_identity(data_dir / "twins", "remd")
    env["GATEWAY_PEERS__REMD__AUTH__ALLOW_ADDRESSES"] = '["127.0.0.0/8"]'
    env["GATEWAY_PEERS__REMD__AUTH__SIGNER_CERTIFICATES"] = json.dumps([str(cert_path)])
    twin = create_twin(FaultProfile.load(profile), clock, seed=seed, identity=(key, cert))
    runner = web.AppRunner(twin, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", twin_port).start()
    gateway = GatewayProcess(data_dir, gw_port, env)
    await gateway.start()
    points = [count * (i + 1) // (kills + 1) for i in range(kills)]
    killer = KillAt(gateway, points)
    try:
        uids, _ = await submit_all(
            f"http://127.0.0.1:{gw_port}", client.token, read_documents(documents), count, 16, killer,
        )  # fmt: skip
        await asyncio.gather(*killer.tasks)
        deadline = time.monotonic() + settle
        while time.monotonic() < deadline:
            figures = await journal_figures(config.database_url, uids)
            final = sum(figures["states"].get(str(s), 0) for s in FINAL_STATES)
            if final >= len(uids):
                break
            await asyncio.sleep(1)
        figures = await journal_figures(config.database_url, uids)
        async with aiohttp.ClientSession() as http:
            stats = await twin_stats(http, f"http://127.0.0.1:{twin_port}")
    finally:
        gateway.stop()
        await runner.cleanup()
    states = figures["states"]
    final = sum(states.get(str(s), 0) for s in FINAL_STATES)
    return {
        "count": count,
        "accepted": len(uids),
        "kills": killer.kills,
        "states": states,
        "unknown": len(uids) - final,
        "lost": count - figures["rows"],
        "duplicates_at_peer": stats.get("duplicates_at_peer"),
        "registrations_at_peer": stats.get("registrations"),
        "registered": figures["registered"],
        "data_dir": str(data_dir),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=2)
    parser.add_argument("--profile", default="egisz-2023")
    parser.add_argument("--speed", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--settle", type=float, default=600.0, help="seconds to wait for every outcome")
    args = parser.parse_args()
    result = asyncio.run(run(args.count, args.kills, args.profile, args.speed, args.seed, args.settle))
    print(json.dumps(result))
    ok = result["unknown"] == 0 and result["lost"] == 0 and result["duplicates_at_peer"] == 0
    ok = ok and result["kills"] == args.kills
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
