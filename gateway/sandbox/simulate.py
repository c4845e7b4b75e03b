"""`mse-gateway simulate`: N documents through the REST front door against the sandbox REMD twin
under a fault profile, on a simulated clock, until every submission's outcome is known — then the
figures, beside the 2023 baseline in which 49% of MSE results never got an answer.

By default everything runs in this process (gateway + twin sharing one simulated clock, real HTTP
over loopback); ``gateway_url``/``twin_url`` point it at running processes instead (the SIGKILL
test does this).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

import aiohttp
import sqlalchemy as sa
from aiohttp import web

from gateway.app import create_app
from gateway.appkeys import JOURNAL_KEY
from gateway.common.clock import SimulatedClock
from gateway.config import GatewayConfig, load_config
from gateway.journal.engine import create_engine
from gateway.journal.schema import UtcDateTime, events, submissions
from gateway.model import FINAL_STATES, State
from gateway.sandbox.setup import prepare_sandbox
from gateway.sandbox.twins import free_port, plan_twins

__all__ = [
    "BASELINE_2023",
    "SUBMIT_RETRY_FOR",
    "Progress",
    "SimulationResult",
    "free_port",
    "generate_documents",
    "journal_figures",
    "percentile",
    "read_documents",
    "run_simulation",
    "serve_app",
    "submit_all",
    "twin_stats",
]

# Seed figures, results of MSE sent to REMD in 2023 (PROTOCOLS.md).
BASELINE_2023: Final = {"registered": 0.484, "failed": 0.026, "no_answer": 0.490}
KINDS: Final = ("35", "121")  # MSE results and referrals, alternating
# How long a sender keeps resending one document the front door does not answer. Ten seconds (the
# old fixed 20 x 0.5 s) was outlasted by a gateway restart under load average 14 on two cores.
SUBMIT_RETRY_FOR: Final = 180.0
_RETRY_DELAY_FIRST: Final = 0.5
_RETRY_DELAY_MAX: Final = 5.0
# Answers that say "not now" rather than "never": resent. Any other answer is final (400, 409, ...).
_RETRYABLE_STATUSES: Final = frozenset({408, 429, 500, 502, 503, 504})


def _generate_chunk(args: tuple[str, int, int, int, tuple[str, ...]]) -> list[bytes]:
    """One chunk of signed submissions, in a worker process (generation is CPU-bound Python)."""
    from gateway.flk.sample_pki import SampleSigners
    from gateway.flk.samples import make_submission
    from gateway.sandbox.setup import SANDBOX_CLIENT

    pki_dir, seed, start, stop, kinds = args
    signers = SampleSigners.open_or_create(pki_dir)
    return [
        json.dumps(
            make_submission(kinds[i % len(kinds)], seed * 1_000_003 + i, signers, source_system=SANDBOX_CLIENT)
        ).encode()
        for i in range(start, stop)
    ]


async def generate_documents(
    pki_dir: Path, count: int, seed: int, out: Path, progress: Progress, *, kinds: tuple[str, ...] = KINDS
) -> None:
    """Write ``count`` signed submissions as JSON lines, on every core but one's share."""
    import concurrent.futures
    import multiprocessing

    progress.stage("generating", count)
    chunk = 50
    jobs = [(str(pki_dir), seed, i, min(i + chunk, count), kinds) for i in range(0, count, chunk)]
    workers = max(1, min(4, (os.cpu_count() or 2)))
    loop = asyncio.get_running_loop()
    done = 0
    with (
        concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool,
        out.open("wb") as fh,
    ):
        for future in [loop.run_in_executor(pool, _generate_chunk, job) for job in jobs]:
            for line in await future:
                fh.write(line + b"\n")
            done = min(count, done + chunk)
            progress.update(done)


def read_documents(path: Path) -> Iterator[dict[str, Any]]:
    with path.open("rb") as fh:
        for line in fh:
            yield json.loads(line)


# Measured in real time, or on the simulated clock while it runs at `speed` x real time (so a real
# second of scheduling noise moves them by `speed` simulated seconds): not a function of the seed.
TIMING_KEYS: Final = ("p50_final_s", "p95_final_s", "wall_seconds", "intake_per_s", "delivery_seconds")


@dataclass
class SimulationResult:
    count: int
    accepted: int
    registered: int
    registered_first_try: int
    registered_after_retry: int
    registered_via_reconciliation: int
    failed_permanent: int
    rejected: int
    dead: int
    unknown: int
    duplicates_at_peer: int
    lost: int
    p50_final_s: float | None
    p95_final_s: float | None
    late_callbacks: int
    contradictions: int
    regressions: int
    profile: str
    speed: float
    wall_seconds: float
    intake_per_s: float
    delivery_seconds: float  # from the first submission until every outcome was known

    def to_json(self) -> dict[str, Any]:
        """The figures, with what depends on this machine's speed under ``timing``: with one
        seed and profile two runs print the same JSON but for ``timing`` (docs/remd.md)."""
        figures = asdict(self)
        figures["timing"] = {key: figures.pop(key) for key in TIMING_KEYS}
        return figures


class Progress:
    """Receives progress; the CLI draws bars, tests ignore it."""

    def stage(self, name: str, total: int) -> None: ...

    def update(self, done: int) -> None: ...


@contextlib.asynccontextmanager
async def serve_app(app: web.Application, port: int) -> AsyncIterator[None]:
    """Serve ``app`` on 127.0.0.1:``port`` for the duration of the block."""
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    try:  # a port that cannot be bound still stops the app's workers that setup() started
        await web.TCPSite(runner, "127.0.0.1", port).start()
        yield
    finally:
        await runner.cleanup()


def percentile(values: list[float], q: float) -> float | None:
    """The ``q``-th percentile of sorted ``values`` (None when empty)."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def journal_figures(url: str, run_uids: set[str]) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(
                        submissions.c.id,
                        submissions.c.local_uid,
                        submissions.c.state,
                        submissions.c.attempts,
                        submissions.c.resubmits,
                        submissions.c.outcome_source,
                        submissions.c.flagged,
                        submissions.c.created_at,
                    )
                )
            ).all()
            finals = dict(
                (
                    await conn.execute(
                        sa.select(events.c.submission_id, sa.func.min(events.c.at, type_=UtcDateTime()))
                        .where(events.c.to_state.in_([str(s) for s in FINAL_STATES]))
                        .group_by(events.c.submission_id)
                    )
                ).all()
            )
    finally:
        await engine.dispose()
    mine = [r for r in rows if r.local_uid in run_uids]
    by_state: dict[str, int] = {}
    for r in mine:
        by_state[r.state] = by_state.get(r.state, 0) + 1
    registered = [r for r in mine if r.state == State.REGISTERED]
    durations = [
        (finals[r.id].replace(tzinfo=r.created_at.tzinfo) - r.created_at).total_seconds()
        for r in mine
        if r.id in finals
    ]
    return {
        "rows": len(mine),
        "states": by_state,
        "registered": len(registered),
        "first_try": sum(
            1 for r in registered if r.outcome_source != "reconciled" and r.attempts <= 1 and r.resubmits == 0
        ),
        "after_retry": sum(
            1 for r in registered if r.outcome_source != "reconciled" and (r.attempts > 1 or r.resubmits > 0)
        ),
        "reconciled": sum(1 for r in registered if r.outcome_source == "reconciled"),
        "flagged": sum(1 for r in mine if r.flagged),
        "durations": durations,
        "snapshot": {r.local_uid: r.state for r in mine},
    }


async def submit_all(
    base: str | Sequence[str],
    token: str,
    docs: Iterator[dict[str, Any]],
    count: int,
    concurrency: int,
    progress: Progress,
    *,
    retry_for: float = SUBMIT_RETRY_FOR,
    latencies: list[float] | None = None,
) -> tuple[set[str], int]:
    """POST every document to the REST front door (round robin over several gateway ``base``
    URLs); returns the accepted local uids and the number sent.

    A document that gets no answer (connection refused or reset, timeout) or a "not now" status
    (503 while starting, 5xx, 429) is resent with a growing pause (0.5 s doubling to 5 s) until it
    is accepted or ``retry_for`` seconds have passed since its first attempt; any other refusal is
    final. Resending is safe: the gateway accepts a document once and answers a resend of an
    accepted one as a duplicate. ``latencies`` receives the seconds each accepting POST took
    (request sent to answer read, not the wait for a free sender)."""
    bases = [base] if isinstance(base, str) else list(base)
    accepted_uids: set[str] = set()
    done = 0
    sem = asyncio.Semaphore(concurrency)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    progress.stage("submitting", count)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as http:

        async def one(body: dict[str, Any], target: str) -> None:
            nonlocal done
            data = json.dumps(body).encode()
            give_up_at = time.monotonic() + retry_for
            delay = _RETRY_DELAY_FIRST
            while True:  # a sender resends until the gateway answers (it may be restarting)
                async with sem:
                    try:
                        started = time.perf_counter()
                        async with http.post(f"{target}/api/v1/submissions", data=data, headers=headers) as resp:
                            if resp.status in (200, 202):
                                await resp.read()
                                if latencies is not None:
                                    latencies.append(time.perf_counter() - started)
                                accepted_uids.add(body["local_uid"])
                                break
                            if resp.status not in _RETRYABLE_STATUSES:
                                break
                    except (aiohttp.ClientError, TimeoutError):
                        pass
                if time.monotonic() + delay > give_up_at:
                    break
                await asyncio.sleep(delay)
                delay = min(delay * 2, _RETRY_DELAY_MAX)
            done += 1
            progress.update(done)

        tasks: set[asyncio.Task[None]] = set()
        for i, body in enumerate(docs):
            task = asyncio.create_task(one(body, bases[i % len(bases)]))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            if len(tasks) >= concurrency * 4:
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        if tasks:
            await asyncio.gather(*tasks)
    return accepted_uids, done


async def twin_stats(http: aiohttp.ClientSession, twin_url: str) -> dict[str, Any]:
    async with http.get(f"{twin_url}/_sandbox/stats") as resp:
        data: dict[str, Any] = await resp.json()
        return data


async def run_simulation(
    *,
    count: int,
    profile: str,
    seed: int = 1,
    speed: float = 600.0,
    concurrency: int = 32,
    data_dir: Path | None = None,
    database_url: str = "",
    progress: Progress | None = None,
    settle_timeout: float = 600.0,
    drain_days: float = 16.0,
    config_overrides: dict[str, dict[str, Any]] | None = None,
) -> SimulationResult:
    """Run one simulation in this process and return its figures."""
    progress = progress or Progress()
    workdir = data_dir or Path(tempfile.mkdtemp(prefix="mse-simulate-"))
    gw_port = free_port()
    clock = SimulatedClock(speed)
    base: dict[str, dict[str, Any]] = {
        "storage": {"data_dir": str(workdir), "database_url": database_url},
        "workers": {"idle_sleep_seconds": 0.2, "validation_concurrency": 16},
        # Leases run on the (simulated) clock: give handlers 10 real seconds.
        "journal": {"lease_seconds": 10.0 * speed},
        "logging": {"level": "warning"},
        "server": {"port": gw_port, "public_url": f"http://127.0.0.1:{gw_port}"},
        "sandbox": {"clock_speed": speed, "fault_profile": profile},
        "peers": {"remd": {"limits": {"rate_per_second": 100000.0, "burst": 100000, "concurrency": 32}}},
    }
    for section, values in (config_overrides or {}).items():
        base.setdefault(section, {}).update(values)
    config: GatewayConfig = load_config(environ={}).with_overrides(**base)
    config, twins = plan_twins(config, clock, seed=seed)
    (twin,) = twins  # simulate replays REMD's behaviour: one REMD-protocol peer, its twin's figures
    twin_port = twin.port
    config, client, signers = await prepare_sandbox(config)
    documents = workdir / "documents.jsonl"
    await generate_documents(signers.directory, count, seed, documents, progress)
    gateway = create_app(config, clock=clock)
    started = time.monotonic()
    async with serve_app(twin.app, twin_port), serve_app(gateway, gw_port):
        base_url = f"http://127.0.0.1:{gw_port}"
        docs = read_documents(documents)
        t0 = time.monotonic()
        uids, _ = await submit_all(base_url, client.token, docs, count, concurrency, progress)
        intake_rate = len(uids) / max(1e-9, time.monotonic() - t0)
        settled_at = time.monotonic()
        journal = gateway[JOURNAL_KEY]
        progress.stage("settling", len(uids))
        deadline = time.monotonic() + settle_timeout
        while time.monotonic() < deadline:
            counts = await journal.counts_by_state()
            final = sum(counts[s] for s in FINAL_STATES)
            progress.update(final)
            if final >= len(uids):
                settled_at = time.monotonic()
                break
            await asyncio.sleep(0.1)
        before = await journal_figures(config.database_url, uids)
        # Let every late callback arrive (up to the profile's cap) and check nothing regresses.
        clock.advance(timedelta(days=drain_days).total_seconds())
        async with aiohttp.ClientSession() as http:
            for _ in range(600):
                stats = await twin_stats(http, f"http://127.0.0.1:{twin_port}")
                if stats.get("scheduled", 0) == 0 and stats.get("processing", 0) == 0:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)
            stats = await twin_stats(http, f"http://127.0.0.1:{twin_port}")
    after = await journal_figures(config.database_url, uids)
    states = after["states"]
    regressions = sum(
        1
        for uid, state in before["snapshot"].items()
        if state in {str(s) for s in FINAL_STATES} and after["snapshot"].get(uid) != state
    )
    durations = sorted(before["durations"])
    registered = after["registered"]
    failed = states.get(str(State.FAILED), 0)
    rejected = states.get(str(State.REJECTED), 0)
    return SimulationResult(
        count=count,
        accepted=len(uids),
        registered=registered,
        registered_first_try=after["first_try"],
        registered_after_retry=after["after_retry"],
        registered_via_reconciliation=after["reconciled"],
        failed_permanent=failed,
        rejected=rejected,
        dead=states.get(str(State.DEAD), 0),
        unknown=len(uids) - registered - failed - rejected,
        duplicates_at_peer=int(stats.get("duplicates_at_peer", 0)),
        lost=count - after["rows"],
        p50_final_s=percentile(durations, 50),
        p95_final_s=percentile(durations, 95),
        late_callbacks=int(stats.get("callbacks_late", 0)),
        contradictions=after["flagged"],
        regressions=regressions,
        profile=twin.fault_profile,
        speed=speed,
        wall_seconds=round(time.monotonic() - started, 2),
        intake_per_s=round(intake_rate, 1),
        delivery_seconds=settled_at - t0,
    )
