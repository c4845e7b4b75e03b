"""`mse-gateway bench delivery`: documents per second from REST intake to REMD registration.

The gateway runs as it does in production — ``mse-gateway serve`` OS processes (one or several on
a PostgreSQL journal) — while this process plays both neighbours: the MIS sending signed sample
documents through the REST front door (generated beforehand, not timed) and the REMD twin with
the ``bench`` profile (no faults, immediate callbacks). So the figures are the gateway's alone and
the CPU it spent per document can be read from the kernel (``/proc``), which is what tells where
the time goes. Several processes each get their own port and the sender spreads documents over
them, as a load balancer would.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import aiohttp
import sqlalchemy as sa

from gateway.bench.process import GatewayProcess, cpu_seconds_of, gateway_env
from gateway.bench.validation import validation_cpu_ms_per_document
from gateway.common.clock import SystemClock
from gateway.config import GatewayConfig, load_config
from gateway.journal.engine import READ_ONLY, create_engine
from gateway.journal.schema import submissions
from gateway.model import FINAL_STATES, State
from gateway.sandbox.setup import prepare_sandbox
from gateway.sandbox.simulate import (
    KINDS,
    Progress,
    free_port,
    generate_documents,
    journal_figures,
    percentile,
    read_documents,
    serve_app,
    submit_all,
    twin_stats,
)
from gateway.sandbox.twins import auth_env, plan_twins

__all__ = ["DeliveryBench", "run_delivery_bench"]


@dataclass
class DeliveryBench:
    database: str
    processes: int
    validation_processes: int  # per gateway process
    documents: int
    registered: int
    documents_per_s: float | None
    intake_per_s: float
    seconds: float
    p50_final_s: float | None
    p95_final_s: float | None
    # CPU the gateway processes (and their validation workers) used between the first submission
    # and the last registration.
    gateway_cpu_s: float | None
    gateway_cpu_ms_per_document: float | None
    # CPU of this process over the same span: the sender and the REMD twin (not the gateway).
    peers_cpu_ms_per_document: float
    # PostgreSQL only: CPU of the local server's processes over the same span (None for SQLite,
    # whose work is inside the gateway process, or when the server is not on this machine).
    database_cpu_ms_per_document: float | None
    loadavg_before: list[float]
    # What the REMD twin saw: registrations, and documents registered twice (must stay 0, with
    # any number of gateway processes sharing the journal).
    registrations_at_peer: int = 0
    duplicates_at_peer: int = 0
    # The yardstick, for the same documents in the same run: the offline check alone (parse,
    # signatures with chain and CRLs, schema, rules) on one thread of the bench process, in CPU
    # time, before the gateway starts; and the gateway's CPU per document over it.
    validation_cpu_ms_per_document: float | None = None
    overhead_ratio: float | None = None
    # REST intake latency (POST sent to 202 read) of the accepted submissions, under this load.
    intake_p50_ms: float | None = None
    intake_p99_ms: float | None = None
    loadavg_after: list[float] | None = None
    # Resident memory of the gateway processes and their workers when the last one registered.
    gateway_rss_mb: float | None = None
    # Whether the shipped Schematron (kind 121) ran, in the gateway and in the yardstick alike, and
    # the kinds sent (alternating).
    schematron: bool = True
    kinds: tuple[str, ...] = ()
    # CPU the idle gateways used per second (3 s before the first submission), and that rate
    # times the run's duration per document: how much of gateway_cpu_ms_per_document is polling.
    gateway_idle_cpu_ms_per_s: float | None = None
    idle_cpu_ms_per_document: float | None = None
    # What a caller's ``after_run`` measured while the gateways were still up (bench journal-growth).
    extra: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


_IDLE_WINDOW_S = 3.0

_FINAL_COUNT = sa.select(sa.func.count()).where(submissions.c.state.in_([str(s) for s in FINAL_STATES]))


async def _final_count(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(_FINAL_COUNT)).scalar_one())
    finally:
        await engine.dispose()


async def run_delivery_bench(
    *,
    count: int,
    database_url: str = "",
    processes: int = 1,
    validation_processes: int = 0,
    concurrency: int = 32,
    seed: int = 1,
    progress: Progress | None = None,
    settle_timeout: float = 1800.0,
    schematron: bool = True,
    before_run: Callable[[GatewayConfig], Awaitable[None]] | None = None,
    after_run: Callable[[list[str]], Awaitable[dict[str, Any]]] | None = None,
) -> DeliveryBench:
    """Run one benchmark against a fresh journal (``database_url`` empty: SQLite in a temporary
    directory) and return its figures. ``before_run(config)`` runs once the journal's place is
    known and before any gateway starts (a pre-load); ``after_run(gateway_urls)`` once every
    document is final, with the gateways still up, and its result is kept as ``extra``."""
    if processes < 1:
        raise ValueError("processes must be at least 1")
    progress = progress or Progress()
    loadavg = [round(x, 2) for x in os.getloadavg()]
    workdir = Path(tempfile.mkdtemp(prefix="mse-bench-delivery-"))
    ports = [free_port() for _ in range(processes)]
    common = {
        "GATEWAY_LOGGING__LEVEL": '"warning"',
        "GATEWAY_STORAGE__DATABASE_URL": f'"{database_url}"',
        "GATEWAY_WORKERS__IDLE_SLEEP_SECONDS": "0.2",
        "GATEWAY_WORKERS__VALIDATION_CONCURRENCY": "16",
        "GATEWAY_WORKERS__VALIDATION_PROCESSES": str(validation_processes),
        "GATEWAY_PEERS__REMD__LIMITS__RATE_PER_SECOND": "100000.0",
        "GATEWAY_PEERS__REMD__LIMITS__BURST": "100000",
        "GATEWAY_PEERS__REMD__LIMITS__CONCURRENCY": "32",
        "GATEWAY_VALIDATION__SCHEMATRON": "true" if schematron else "false",
    }
    config = load_config(environ=common).with_overrides(
        storage={"data_dir": str(workdir)}, sandbox={"fault_profile": "bench"}
    )
    # The bench measures the gateway against REMD's twin: one REMD-protocol peer.
    config, (twin,) = plan_twins(config, SystemClock(), seed=seed)
    common["GATEWAY_PEERS__REMD__URL"] = f'"{twin.url}"'
    common |= auth_env(config, "remd")
    config, client, signers = await prepare_sandbox(config)
    if before_run is not None:
        await before_run(config)
    documents = workdir / "documents.jsonl"
    await generate_documents(signers.directory, count, seed, documents, progress)
    progress.stage("validating alone", count)
    validation_ms = await asyncio.to_thread(
        validation_cpu_ms_per_document,
        config.with_overrides(validation={"trust_dir": str(signers.directory)}),
        read_documents(documents),
    )
    gateways = [
        GatewayProcess(
            workdir,
            port,
            gateway_env(
                common
                | {
                    # Callbacks come back to the process that sent the document.
                    "GATEWAY_PEERS__REMD__PUBLIC_URL": f'"http://127.0.0.1:{port}"',
                    "GATEWAY_VALIDATION__TRUST_DIR": f'"{signers.directory}"',
                }
            ),
            log_name=f"gateway-{i}.log",
        )
        for i, port in enumerate(ports)
    ]
    try:
        async with serve_app(twin.app, twin.port):
            for gateway in gateways:
                await gateway.start()
            # What the gateways burn with nothing to do (claim loops polling, timers): part of every
            # document's CPU below, the more so the longer the run (a loaded machine).
            idle_before = [g.cpu_seconds() for g in gateways]
            await asyncio.sleep(_IDLE_WINDOW_S)
            cpu_before = [g.cpu_seconds() for g in gateways]
            idle_spent = [
                a - b for a, b in zip(cpu_before, idle_before, strict=True) if a is not None and b is not None
            ]
            db_before = cpu_seconds_of("postgres") if database_url else None
            own_before = time.process_time()
            # Final rows already there (a pre-loaded journal) are not this run's.
            baseline = await _final_count(config.database_url)
            t0 = time.monotonic()
            latencies: list[float] = []
            uids, _ = await submit_all(
                [g.url for g in gateways],
                client.token,
                read_documents(documents),
                count,
                concurrency,
                progress,
                latencies=latencies,
            )
            intake_rate = len(uids) / max(1e-9, time.monotonic() - t0)
            progress.stage("registering", len(uids))
            finished_at: float | None = None
            deadline = time.monotonic() + settle_timeout
            watcher = create_engine(config.database_url)  # one connection for the whole watch
            try:
                async with watcher.connect() as conn:
                    # Read-only: on SQLite a deferred BEGIN, never the write lock the gateway needs.
                    conn = await conn.execution_options(**{READ_ONLY: True})
                    while time.monotonic() < deadline:
                        final = int((await conn.execute(_FINAL_COUNT)).scalar_one()) - baseline
                        await conn.rollback()  # end the read so the next one sees new commits
                        progress.update(final)
                        if final >= len(uids):
                            finished_at = time.monotonic()
                            break
                        await asyncio.sleep(0.1)
            finally:
                await watcher.dispose()
            cpu_after = [g.cpu_seconds() for g in gateways]
            db_after = cpu_seconds_of("postgres") if database_url else None
            own_cpu = time.process_time() - own_before
            rss = [g.rss_bytes() for g in gateways]
            extra = await after_run([g.url for g in gateways]) if after_run is not None else None
            async with aiohttp.ClientSession() as http:
                stats = await twin_stats(http, twin.url)
    finally:
        for gateway in gateways:
            gateway.stop()
    figures = await journal_figures(config.database_url, uids)
    durations = sorted(figures["durations"])
    registered = figures["states"].get(str(State.REGISTERED), 0)
    seconds = (finished_at or time.monotonic()) - t0
    spent = [a - b for a, b in zip(cpu_after, cpu_before, strict=True) if a is not None and b is not None]
    gateway_cpu = sum(spent) if len(spent) == len(gateways) else None
    gateway_ms = None if gateway_cpu is None or not registered else round(1000 * gateway_cpu / registered, 2)
    idle_rate = sum(idle_spent) / _IDLE_WINDOW_S if len(idle_spent) == len(gateways) else None
    latencies.sort()
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    return DeliveryBench(
        database="postgresql" if database_url else "sqlite",
        processes=processes,
        validation_processes=validation_processes,
        documents=count,
        registered=registered,
        documents_per_s=round(registered / seconds, 1) if finished_at is not None else None,
        intake_per_s=round(intake_rate, 1),
        seconds=round(seconds, 2),
        p50_final_s=percentile(durations, 50),
        p95_final_s=percentile(durations, 95),
        gateway_cpu_s=None if gateway_cpu is None else round(gateway_cpu, 2),
        gateway_cpu_ms_per_document=gateway_ms,
        peers_cpu_ms_per_document=round(1000 * own_cpu / max(1, len(uids)), 2),
        database_cpu_ms_per_document=(
            round(1000 * (db_after - db_before) / max(1, len(uids)), 2)
            if db_before is not None and db_after is not None and db_after > db_before
            else None
        ),
        loadavg_before=loadavg,
        registrations_at_peer=int(stats.get("registrations", 0)),
        duplicates_at_peer=int(stats.get("duplicates_at_peer", 0)),
        validation_cpu_ms_per_document=validation_ms,
        overhead_ratio=round(gateway_ms / validation_ms, 2) if gateway_ms is not None and validation_ms else None,
        intake_p50_ms=None if p50 is None else round(1000 * p50, 2),
        intake_p99_ms=None if p99 is None else round(1000 * p99, 2),
        loadavg_after=[round(x, 2) for x in os.getloadavg()],
        gateway_rss_mb=None if None in rss else round(sum(r or 0 for r in rss) / 2**20, 1),
        extra=extra,
        schematron=schematron,
        kinds=KINDS,
        gateway_idle_cpu_ms_per_s=None if idle_rate is None else round(1000 * idle_rate, 2),
        idle_cpu_ms_per_document=(
            None if idle_rate is None or not registered else round(1000 * idle_rate * seconds / registered, 2)
        ),
    )
