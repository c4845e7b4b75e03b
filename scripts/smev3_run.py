#!/usr/bin/env python3
"""SMEV 3 end to end through its twin, with a gateway SIGKILLed while it polls.

The SMEV 3 twin (``plan_twins`` for a ``protocol = "smev3"`` instance ``smev`` with no URL, fault
profile ``smev3-painful`` by default: SMEVFailure, SendRequest answers dropped after acceptance,
asynchronous rejections long after acceptance, lost Acks and redeliveries, provider statuses and
rejections) runs in THIS process and stays up: its queues live here. The gateway runs as a real
``mse-gateway serve`` process on the instance settings ``plan_twins`` produced (signing identity,
SMEV trust), the routes of a test routes file (kinds 121 and 35 → ``smev``) and the same simulated
clock (shared epoch and speed). Signed sample documents from the sandbox PKI are submitted through
the REST front door; at the chosen points the gateway is SIGKILLed (polling runs all along) and
started again.

    PYTHONPATH=$PWD .venv/bin/python scripts/smev3_run.py --count 2000 --kills 2

With ``--eaviias`` the instance is ФГИС ЕАВИИАС (``content_profile = "eaviias"``, docs/eaviias.md):
referrals (kind 121) go to the simulated bureau behind the twin (fault profile ``mse-loop-2023`` by
default), every referral must end with its result or its return, and the JSON adds the bureau's
counters and the KSI as the gateway measured them (gateway.monitoring.ksi).

    PYTHONPATH=$PWD .venv/bin/python scripts/smev3_run.py --eaviias --count 10000 --kills 2 --speed 5000

Prints one JSON object. Exit status 0 when every submission reached a final state, none was
lost, the provider got none twice and no message is left un-Acked in the twin's queues; with
``--eaviias`` also every referral's result or return offered to its MIS, none offered twice.

The twin's clock runs ``--speed`` times real time and so does the gateway's (the sandbox clock):
MessageIDs are UUID v1 made on that clock, so SMEV's (the twin's) StaleMessageId check sees their
age in simulated time however long the run takes in real time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
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
from gateway.journal.engine import create_engine  # noqa: E402
from gateway.model import FINAL_STATES  # noqa: E402
from gateway.monitoring.ksi import ksi_report  # noqa: E402
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
from gateway.sandbox.twins import free_port, plan_twins  # noqa: E402

PEER = "smev"
ROUTES = f"""
[[routes]]
name = "mse-documents-over-smev3"
kinds = ["121", "35"]
destination = "{PEER}"
"""
EAVIIAS_ROUTES = f"""
[[routes]]
name = "referrals-to-eaviias"
kinds = ["121"]
destination = "{PEER}"
"""
EAVIIAS_SETTINGS = {"content_profile": "eaviias", "reconcile_schedule_minutes": [4320.0], "receive_batch": 200}
# what the serve process must see of the instance plan_twins prepared
_INSTANCE_KEYS = ("protocol", "url", "signing_key_file", "signing_certificate_file", "smev_trust_dir")


async def _ksi(url: str, now: Any) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            report = await ksi_report(conn, now=now, overdue_limit=0)
    finally:
        await engine.dispose()
    return {
        str(stage): {
            "measured": c.measured,
            "within": c.within,
            "share_within": round(c.share, 4) if c.share is not None else None,
            "late": c.late,
            "open_overdue": c.open_overdue,
            "unreported": c.unreported,
        }
        for stage, c in report.totals.items()
    }


class Quiet(Progress):
    pass


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


async def _outcome_codes(url: str, uids: set[str]) -> dict[str, int]:
    """state/outcome code → how many, for the run's submissions."""
    import sqlalchemy as sa

    from gateway.journal.engine import create_engine
    from gateway.journal.schema import submissions

    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(sa.select(submissions.c.local_uid, submissions.c.state, submissions.c.outcome_code))
            ).all()
    finally:
        await engine.dispose()
    out: dict[str, int] = {}
    for r in rows:
        if r.local_uid in uids:
            key = f"{r.state}/{r.outcome_code or '-'}"
            out[key] = out.get(key, 0) + 1
    return dict(sorted(out.items()))


async def _inbox_rows(url: str) -> int:
    """Messages of the SMEV instance the journal recorded (each peer message id at most once)."""
    import sqlalchemy as sa

    from gateway.journal.engine import create_engine
    from gateway.journal.schema import peer_inbox

    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            query = sa.select(sa.func.count()).select_from(peer_inbox).where(peer_inbox.c.peer == PEER)
            return int((await conn.execute(query)).scalar_one())
    finally:
        await engine.dispose()


async def run(
    count: int,
    *,
    kills: int = 2,
    profile: str = "painful",
    speed: float = 60.0,
    seed: int = 1,
    settle: float = 1800.0,
    data_dir: Path | None = None,
    verbose: bool = True,
    receive_concurrency: int | None = None,
    validation_processes: int | None = None,
    eaviias: bool = False,
    reuse: Path | None = None,
) -> dict[str, Any]:
    def log(text: str) -> None:
        if verbose:
            print(text, file=sys.stderr, flush=True)

    data_dir = data_dir or Path(tempfile.mkdtemp(prefix="mse-smev3-"))
    gw_port = free_port()
    routes = data_dir / "routes.smev3.toml"
    routes.write_text(EAVIIAS_ROUTES if eaviias else ROUTES)
    instance: dict[str, Any] = {"protocol": "smev3", **(EAVIIAS_SETTINGS if eaviias else {})}
    config = load_config(environ={}).with_overrides(
        storage={"data_dir": str(data_dir)},
        peers={"remd": {"enabled": False}, PEER: instance},
        routing={"routes_file": str(routes)},
        sandbox={"fault_profile": profile},
    )
    documents = data_dir / "documents.jsonl"
    if reuse is not None:
        # the signed documents and the test PKI that signed them, from an earlier run's data dir
        # (signing 10,000 referrals takes minutes on a loaded machine)
        shutil.copytree(reuse / "pki", data_dir / "pki", dirs_exist_ok=True)
        with (reuse / "documents.jsonl").open("rb") as src, documents.open("wb") as dst:
            for _, line in zip(range(count), src, strict=False):
                dst.write(line)
    config, client, signers = await prepare_sandbox(config)
    started = time.monotonic()
    kinds = ("121",) if eaviias else ("121", "35")
    if reuse is None:
        await generate_documents(signers.directory, count, seed, documents, Quiet(), kinds=kinds)
        log(f"generated {count} signed documents in {time.monotonic() - started:.0f} s")
    # the simulated clock starts now, the same for the twin and the gateway (its MessageIDs too)
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
        # Leases run on the simulated clock: 5 real seconds, so a killed process's rows (and its
        # receiver lease) return soon.
        "GATEWAY_JOURNAL__LEASE_SECONDS": repr(5.0 * speed),
    }
    if eaviias:  # the receiver must not pause for simulated days between notices
        overrides["GATEWAY_WORKERS__RECEIVER_MAX_SLEEP_SECONDS"] = "0.5"
        # A backlog of minutes is weeks at ×5,000: the instance's give-up age (15 days by
        # default) would turn a referral that waited in the validation queue DEAD on its first
        # SMEVFailure. The run measures the loop, not the give-up policy on a fast clock.
        overrides[f"GATEWAY_PEERS__{PEER.upper()}__MAX_AGE_HOURS"] = repr(24.0 * 3650)
    prefix = f"GATEWAY_PEERS__{PEER.upper()}__"
    for key in _INSTANCE_KEYS + (tuple(EAVIIAS_SETTINGS) if eaviias else ()):
        overrides[prefix + key.upper()] = json.dumps(config.peers[PEER][key])
    if receive_concurrency is not None:
        overrides[prefix + "RECEIVE_CONCURRENCY"] = str(receive_concurrency)
    if validation_processes is not None:
        # checks (the ministry's Schematron above all) in worker processes, off the event loop
        overrides["GATEWAY_WORKERS__VALIDATION_PROCESSES"] = str(validation_processes)
    env = gateway_env(overrides)

    runner = web.AppRunner(twin.app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, twin.host, twin.port).start()
    gateway = GatewayProcess(data_dir, gw_port, env)
    await gateway.start()
    # All kills but the last while documents are being submitted (and sent, and polled); the last
    # once every document is in, while answers are still arriving and being polled and Acked.
    points = [count * (i + 1) // kills for i in range(kills - 1)]
    killer = KillAt(gateway, points, log)
    cpu_gateway: float | None = None
    load_before = os.getloadavg()
    cpu_here_0 = time.process_time()
    t0 = time.monotonic()
    # When SMEV (the twin) last accepted a new request: the end of the sending phase, also when
    # some submissions never reach SMEV (refused by the gateway's own checks).
    all_accepted_at: float | None = None
    acks_when_all_accepted = 0
    accepted_so_far = 0
    try:
        async with aiohttp.ClientSession() as http:
            submitting = asyncio.create_task(
                submit_all(gateway.url, client.token, read_documents(documents), count, 16, killer)
            )
            while not submitting.done():
                stats = await twin_stats(http, twin.url)
                if stats["accepted"] > accepted_so_far:
                    accepted_so_far = stats["accepted"]
                    all_accepted_at, acks_when_all_accepted = time.monotonic(), stats["acks"]
                await asyncio.sleep(0.5)
            uids, _ = await submitting
            await asyncio.gather(*killer.tasks)
            for _ in range(5):
                # A sender resends what the front door never answered: submit_all resends for
                # SUBMIT_RETRY_FOR seconds, and a restart on a loaded machine may still outlast
                # that. (The gateway accepts a document once: a resend of one it did accept is
                # answered as a duplicate.)
                missing = [d for d in read_documents(documents) if d["local_uid"] not in uids]
                if not missing:
                    break
                log(f"resending {len(missing)} documents the gateway did not answer while it restarted")
                more, _ = await submit_all(gateway.url, client.token, iter(missing), len(missing), 16, Quiet())
                uids |= more
            at_last_kill: dict[str, Any] = {}
            if kills:
                await asyncio.sleep(1.0)
                figures = await journal_figures(config.database_url, uids)
                stats = await twin_stats(http, twin.url)
                at_last_kill = {
                    "final": sum(figures["states"].get(str(s), 0) for s in FINAL_STATES),
                    "acks": stats["acks"],
                    "in_twin_queues": sum(stats["queues"].values()),
                }
                await killer._bounce(count)
            log(f"{len(uids)} submissions accepted by the gateway in {time.monotonic() - t0:.0f} s")
            deadline = time.monotonic() + settle
            while True:
                stats = await twin_stats(http, twin.url)
                if stats["accepted"] > accepted_so_far:
                    accepted_so_far = stats["accepted"]
                    all_accepted_at, acks_when_all_accepted = time.monotonic(), stats["acks"]
                figures = await journal_figures(config.database_url, uids)
                final = sum(figures["states"].get(str(s), 0) for s in FINAL_STATES)
                if (final >= len(uids) and stats["unacked"] == 0) or time.monotonic() > deadline:
                    break
                await asyncio.sleep(1)
            all_final_at = time.monotonic()
            acks_when_all_final = stats["acks"]
            cpu_gateway = gateway.cpu_seconds()
            await asyncio.sleep(2 * 120.0 / speed + 1)  # past a redelivery: nothing Acked comes back
            stats = await twin_stats(http, twin.url)
            figures = await journal_figures(config.database_url, uids)
            codes = await _outcome_codes(config.database_url, uids)
            recorded = await _inbox_rows(config.database_url)
            ksi = await _ksi(config.database_url, clock.now()) if eaviias else None
            mis = await delivered_to_mis(config.database_url, uids) if eaviias else None
    finally:
        gateway.stop()
        await runner.cleanup()
    cpu_here = time.process_time() - cpu_here_0
    states = figures["states"]
    final = sum(states.get(str(s), 0) for s in FINAL_STATES)
    sending = (all_accepted_at or all_final_at) - t0
    receiving = all_final_at - t0
    result = {
        "count": count,
        "accepted": len(uids),
        "kills": killer.kills,
        "at_last_kill": at_last_kill,
        "profile": stats["profile"],
        "speed": speed,
        "states": states,
        "outcomes": codes,
        "unknown": len(uids) - final,
        "lost": count - figures["rows"],
        # every message SMEV gave the gateway (redeliveries aside) is recorded in the journal once
        "messages_delivered_by_twin": len(stats["deliveries_per_message"]),
        "messages_recorded_by_gateway": recorded,
        "twin": {
            k: stats[k]
            for k in (
                "calls",
                "accepted",
                "duplicates_refused",
                "faults",
                "dropped_responses",
                "deliveries",
                "redeliveries",
                "acks",
                "acks_rejected",
                "lost_acks",
                "async_rejections",
                "provider_deliveries",
                "delivered_twice_to_provider",
                "same_content_delivered_twice_to_provider",
                "unacked",
                "waiting_for_provider",
                "queues",
            )
        },
        "seconds": {"sending": round(sending, 1), "until_all_final": round(receiving, 1)},
        "rates": {
            "requests_sent_per_s": round(stats["accepted"] / sending, 1) if sending > 0 else None,
            "responses_acked_per_s": round(acks_when_all_final / receiving, 1) if receiving > 0 else None,
            # the queue drained once nothing more is sent (includes waiting for late answers)
            "responses_acked_per_s_after_sending": (
                round((acks_when_all_final - acks_when_all_accepted) / (receiving - sending), 1)
                if receiving > sending
                else None
            ),
        },
        "receive_concurrency": receive_concurrency,
        "validation_processes": validation_processes,
        # CPU of the last gateway process only (a killed one's is gone): meaningful with --kills 0
        "cpu": {
            "gateway_seconds": round(cpu_gateway, 2) if cpu_gateway is not None else None,
            "gateway_ms_per_message": (
                round(1000 * cpu_gateway / len(uids), 2) if cpu_gateway is not None and uids else None
            ),
            "twin_and_sender_seconds": round(cpu_here, 2),
        },
        "load_average_before": [round(x, 2) for x in load_before],
        "data_dir": str(data_dir),
    }
    if eaviias:
        result["bureau"] = stats.get("bureau")
        result["ksi"] = ksi
        result.update(mis or {})  # delivered_to_mis, delivered_twice_to_mis, … (the inbound tables)
        result["simulated_days"] = round((time.monotonic() - t0) * speed / 86400, 1)
    return result


def ok(result: dict[str, Any], kills: int) -> bool:
    twin = result["twin"]
    return bool(
        result["unknown"] == 0
        and result["lost"] == 0
        and result["accepted"] == result["count"]
        and result["kills"] == kills
        and twin["delivered_twice_to_provider"] == 0
        and twin["same_content_delivered_twice_to_provider"] == 0
        and twin["unacked"] == 0
        and result["messages_recorded_by_gateway"] == result["messages_delivered_by_twin"]
        and (result.get("bureau") or {}).get("duplicates_at_bureau", 0) == 0
        and result.get("delivered_twice_to_mis", 0) == 0
        # --eaviias: every referral's result or return reached its MIS (the inbound tables)
        and ("delivered_to_mis" not in result or result["delivered_to_mis"] == result["count"])
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=2)
    parser.add_argument("--profile", default=None, help="twin fault profile (painful; --eaviias: mse-loop-2023)")
    parser.add_argument("--eaviias", action="store_true", help="ФГИС ЕАВИИАС: referrals to the simulated bureau")
    parser.add_argument("--speed", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--settle", type=float, default=1800.0, help="seconds to wait for every outcome")
    parser.add_argument("--receive-concurrency", type=int, default=None, help="the instance's receive lanes")
    parser.add_argument("--validation-processes", type=int, default=None, help="workers.validation_processes")
    parser.add_argument(
        "--reuse-documents", type=Path, default=None, help="an earlier run's data dir: its PKI and documents"
    )
    args = parser.parse_args()
    result = asyncio.run(
        run(
            args.count,
            kills=args.kills,
            profile=args.profile or ("mse-loop-2023" if args.eaviias else "painful"),
            speed=args.speed,
            seed=args.seed,
            settle=args.settle,
            eaviias=args.eaviias,
            receive_concurrency=args.receive_concurrency,
            validation_processes=args.validation_processes,
            reuse=args.reuse_documents,
        )
    )
    print(json.dumps(result, ensure_ascii=False))  # one line, the last
    return 0 if ok(result, args.kills) else 1


if __name__ == "__main__":
    sys.exit(main())
