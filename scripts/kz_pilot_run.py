#!/usr/bin/env python3
"""The Kazakh route end to end: 031/у through the ШЭП and ЦБДИ twins, the gateway SIGKILLed.

The twins (``plan_twins`` for a ``protocol = "shep"`` instance ``shep`` without URL, fault profile
``shep-painful`` by default: ШЭП errors, dropped sendMessage answers, slow answers, lost and
duplicated registration notices, lost delivery notifications, late conclusions, refusals) run in
THIS process and stay up. The gateway runs as a real ``mse-gateway serve`` process with the
instance settings ``plan_twins`` produced (its RSA identity, sender credentials, the twin's pinned
certificate), a routes file sending kz-031u to ``shep`` and the same simulated clock. Signed 031/у
from the sandbox PKI are submitted through the REST front door; the gateway is SIGKILLed at the
chosen points (delivery and polling run all along) and started again.

    PYTHONPATH=$PWD .venv/bin/python scripts/kz_pilot_run.py --count 5000 --kills 2

Prints one JSON object (the last line): count, unknown, lost, duplicates_at_peer (a second
registration of one document at ЦБДИ), the outcomes, ``delivered_to_mis`` and
``delivered_twice_to_mis`` (031/у whose expert's conclusion is offered to the MIS through the inbound
path — webhook and inbox — once, more than once), ``concluded_not_delivered``, the conclusions held
for an operator by reason, the share decided within the 1-working-day rule with the 16:00 shift
(the gateway's deadline report over the run), the twin's counters. Exit status 0 when every
submission reached a final state, none was lost, ЦБДИ registered none twice and every conclusion
was offered to its MIS exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from gateway.bench.process import GatewayProcess, gateway_env  # noqa: E402
from gateway.common.clock import SimulatedClock  # noqa: E402
from gateway.config import load_config  # noqa: E402
from gateway.model import FINAL_STATES, State  # noqa: E402
from gateway.sandbox.kz_pilot import KZ_ROUTES, outcomes_and_share  # noqa: E402
from gateway.sandbox.mse_loop import delivered_to_mis  # noqa: E402
from gateway.sandbox.setup import prepare_sandbox  # noqa: E402
from gateway.sandbox.simulate import (  # noqa: E402
    Progress,
    generate_documents,
    journal_figures,
    read_documents,
    submit_all,
    twin_stats,
)
from gateway.sandbox.twins import auth_env, free_port, plan_twins  # noqa: E402

PEER = "shep"
ROUTES = KZ_ROUTES
_INSTANCE_KEYS = ("protocol", "url", "signing_key_file", "signing_certificate_file", "sender_id", "sender_password")


class Quiet(Progress):
    pass


class Polled:
    """How fast the gateway took ЦБДИ's answers off the ШЭП queue: delivery notifications the
    twin received per real second, over the seconds in which messages were due for it (the
    rest of the settle phase nothing was due and the rate says nothing), and the load
    average seen meanwhile (the machine is shared)."""

    def __init__(self) -> None:
        self.last: tuple[float, int] | None = None
        self.busy_seconds = 0.0
        self.busy_notified = 0
        self.loads: list[float] = []

    def sample(self, stats: dict[str, Any]) -> None:
        now, notified = time.monotonic(), int(stats.get("notified", 0))
        if self.last is not None and stats.get("ready", 0):
            self.busy_seconds += now - self.last[0]
            self.busy_notified += notified - self.last[1]
        self.last = (now, notified)
        self.loads.append(os.getloadavg()[0])

    def figures(self) -> dict[str, Any]:
        return {
            "notified_while_due": self.busy_notified,
            "seconds_with_messages_due": round(self.busy_seconds, 1),
            "messages_per_second": round(self.busy_notified / self.busy_seconds, 2) if self.busy_seconds else None,
            "load_1min_min": min(self.loads, default=None),
            "load_1min_max": max(self.loads, default=None),
        }


class KillAt(Progress):
    """SIGKILLs the gateway when the given numbers of submissions have been answered."""

    def __init__(self, gateway: GatewayProcess, points: list[int], log: Any) -> None:
        self.gateway = gateway
        self.points = sorted(points)
        self.kills = 0
        self.tasks: list[asyncio.Task[None]] = []
        self.log = log

    def update(self, done: int) -> None:
        while self.points and done >= self.points[0]:
            self.points.pop(0)
            self.tasks.append(asyncio.get_running_loop().create_task(self._bounce(done)))

    async def _bounce(self, at: int) -> None:
        self.gateway.kill()
        self.kills += 1
        self.log(f"SIGKILL #{self.kills} after {at} submissions")
        await asyncio.sleep(0.5)
        await self.gateway.start()
        self.log("gateway restarted")


async def run(
    count: int,
    *,
    kills: int = 2,
    profile: str = "painful",
    speed: float = 600.0,
    seed: int = 1,
    settle: float = 1800.0,
    data_dir: Path | None = None,
    verbose: bool = True,
    receive_concurrency: int | None = None,
) -> dict[str, Any]:
    def log(text: str) -> None:
        if verbose:
            print(text, file=sys.stderr, flush=True)

    wall0 = time.monotonic()
    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="mse-kz-"))
    gw_port = free_port()
    routes = data_dir / "routes.kz.toml"
    routes.write_text(ROUTES)
    config = load_config(environ={}).with_overrides(
        storage={"data_dir": str(data_dir)},
        peers={"remd": {"enabled": False}, PEER: {"protocol": "shep"}},
        routing={"routes_file": str(routes)},
        sandbox={"fault_profile": profile},
    )
    config, client, signers = await prepare_sandbox(config)
    documents = data_dir / "documents.jsonl"
    started = time.monotonic()
    await generate_documents(signers.directory, count, seed, documents, Quiet(), kinds=("kz-031u",))
    log(f"generated {count} signed 031/у in {time.monotonic() - started:.0f} s")
    epoch = time.time()
    clock = SimulatedClock(speed, real_epoch=epoch)
    config, twins = plan_twins(config, clock, seed=seed)
    (twin,) = twins
    overrides = {
        "GATEWAY_SANDBOX__CLOCK_SPEED": str(speed),
        "GATEWAY_SANDBOX__CLOCK_EPOCH": repr(epoch),
        "GATEWAY_PEERS__REMD__ENABLED": "false",
        "GATEWAY_ROUTING__ROUTES_FILE": json.dumps(str(routes)),
        "GATEWAY_VALIDATION__TRUST_DIR": json.dumps(str(signers.directory)),
        "GATEWAY_LOGGING__LEVEL": '"warning"',
        "GATEWAY_WORKERS__IDLE_SLEEP_SECONDS": "0.2",
        "GATEWAY_JOURNAL__LEASE_SECONDS": repr(5.0 * speed),
        # retries across time on the simulated clock: a few real seconds apart at most
        f"GATEWAY_PEERS__{PEER.upper()}__BACKOFF_CAP_SECONDS": repr(5.0 * speed),
    }
    prefix = f"GATEWAY_PEERS__{PEER.upper()}__"
    if receive_concurrency is not None:  # else the instance's default (docs/shep.md)
        overrides[prefix + "RECEIVE_CONCURRENCY"] = str(receive_concurrency)
    for key in _INSTANCE_KEYS:
        overrides[prefix + key.upper()] = json.dumps(config.peers[PEER][key])
    overrides.update(auth_env(config, PEER))
    env = gateway_env(overrides)

    runner = web.AppRunner(twin.app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, twin.host, twin.port).start()
    gateway = GatewayProcess(data_dir, gw_port, env)
    await gateway.start()
    points = [count * (i + 1) // kills for i in range(kills - 1)]
    killer = KillAt(gateway, points, log)
    t0 = time.monotonic()
    try:
        async with aiohttp.ClientSession() as http:
            uids, _ = await submit_all(gateway.url, client.token, read_documents(documents), count, 16, killer)
            await asyncio.gather(*killer.tasks)
            if kills:
                await asyncio.sleep(1.0)
                await killer._bounce(count)  # the last kill: every document in, answers still coming
            # A MIS keeps sending what was not acknowledged (submit_all gives up on one document
            # after 20 tries, which a restart can outlast); intake is idempotent by localUid.
            for _ in range(5):
                missing = [d for d in read_documents(documents) if d["local_uid"] not in uids]
                if not missing:
                    break
                log(f"resending {len(missing)} submissions not acknowledged during the restarts")
                more, _ = await submit_all(gateway.url, client.token, iter(missing), len(missing), 16, Quiet())
                uids |= more
            log(f"{len(uids)} submissions accepted by the gateway in {time.monotonic() - t0:.0f} s")
            deadline = time.monotonic() + settle
            polled = Polled()
            while True:
                stats = await twin_stats(http, twin.url)
                polled.sample(stats)
                figures = await journal_figures(config.database_url, uids)
                final = sum(figures["states"].get(str(s), 0) for s in FINAL_STATES)
                if (final >= len(uids) and stats["waiting"] == 0) or time.monotonic() > deadline:
                    break
                await asyncio.sleep(2)
            all_final_at = time.monotonic()
            stats = await twin_stats(http, twin.url)
            figures = await journal_figures(config.database_url, uids)
            codes, share = await outcomes_and_share(config.database_url, uids, clock.now())
            to_mis = await delivered_to_mis(config.database_url, uids)
    finally:
        gateway.stop()
        await runner.cleanup()
    states = figures["states"]
    final = sum(states.get(str(s), 0) for s in FINAL_STATES)
    concluded = states.get(str(State.REGISTERED), 0)
    return {
        "count": count,
        "accepted": len(uids),
        "kills": killer.kills,
        "profile": twin.fault_profile,
        "receive_concurrency": receive_concurrency,
        "speed": speed,
        "states": states,
        "outcomes": codes,
        "unknown": len(uids) - final,
        # accepted by the gateway (202) but not in its journal
        "lost": len(uids) - figures["rows"],
        "duplicates_at_peer": stats["duplicates_at_cbdi"],
        "concluded": concluded,
        "delivered_to_mis": to_mis["delivered_to_mis"],
        "delivered_twice_to_mis": to_mis["delivered_twice_to_mis"],
        "concluded_not_delivered": max(0, concluded - to_mis["delivered_to_mis"]),
        "held_for_operator": to_mis["held_for_operator"],
        "deadline": share,
        "twin": {k: v for k, v in stats.items() if k != "expert_certificate"},
        "seconds_until_all_final": round(all_final_at - t0, 1),
        "receiving": polled.figures(),
        "wall_seconds": round(time.monotonic() - wall0, 1),
        "data_dir": str(data_dir),
    }


def ok(result: dict[str, Any], kills: int) -> bool:
    return (
        result["unknown"] == 0
        and result["lost"] == 0
        and result["accepted"] == result["count"]
        and result["kills"] == kills
        and result["duplicates_at_peer"] == 0
        and result["delivered_twice_to_mis"] == 0
        and result["concluded_not_delivered"] == 0
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--kills", type=int, default=2)
    parser.add_argument("--profile", default="painful")
    parser.add_argument("--speed", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--settle", type=float, default=1800.0, help="seconds to wait for every outcome")
    parser.add_argument(
        "--receive-concurrency", type=int, default=None, help="the ШЭП receive_concurrency (default: its own)"
    )
    args = parser.parse_args()
    result = asyncio.run(
        run(
            args.count,
            kills=args.kills,
            profile=args.profile,
            speed=args.speed,
            seed=args.seed,
            settle=args.settle,
            receive_concurrency=args.receive_concurrency,
        )
    )
    d = result["deadline"]
    print(
        f"accepted {result['accepted']}/{result['count']}, unknown {result['unknown']}, lost {result['lost']}, "
        f"duplicates at ЦБДИ {result['duplicates_at_peer']}; concluded {result['concluded']}, conclusions "
        f"offered to the MIS {result['delivered_to_mis']} (twice: {result['delivered_twice_to_mis']}, "
        f"not offered: {result['concluded_not_delivered']}, held: {result['held_for_operator']}); "
        f"within the 1-working-day rule (16:00 shift): {d['within']}/{d['measured']} = {d['share_within_deadline']}",
        file=sys.stderr,
    )
    print(json.dumps(result, ensure_ascii=False))
    return 0 if ok(result, args.kills) else 1


if __name__ == "__main__":
    sys.exit(main())
