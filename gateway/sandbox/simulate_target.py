"""`mse-gateway simulate --target URL`: a region's traffic into a running sandbox, so that what it
does shows in that sandbox's journal and UI.

Documents are signed by the sandbox's test PKI as its client (both read from its data directory,
as `samples` does), sent through the REST front door, and followed through the API until each
outcome is final. The figures depend only on the plan (``--seed``) and the sandbox's peers: with
the sandbox's default fault profile ``none`` two runs with one seed print identical JSON. With a
random fault profile, which document meets which fault depends on the order of arrival.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import multiprocessing
import os
import secrets
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import aiohttp

from gateway.model import FINAL_STATES
from gateway.sandbox.setup import SandboxFiles
from gateway.sandbox.simulate import Progress
from gateway.sandbox.traffic import Planned, build_chunk, plan_summary

__all__ = ["TargetRun", "generate_planned", "run_against_sandbox"]

_FINAL: Final = frozenset(str(s) for s in FINAL_STATES)
_CHUNK: Final = 25


@dataclass
class TargetRun:
    """What happened to one run's documents in the sandbox."""

    planned: Sequence[Planned]
    ids: dict[int, str] = field(default_factory=dict)  # plan index → submission id
    refused: Counter[str] = field(default_factory=Counter)  # HTTP status → documents refused at intake
    states: dict[str, dict[str, Any]] = field(default_factory=dict)  # submission id → its summary
    first_created: str | None = None  # the sandbox's clock (it may run a simulated one)

    def figures(self, *, seed: int) -> dict[str, Any]:
        """Figures that depend on the plan and the peers' behaviour, not on timing or identifiers."""
        states: Counter[str] = Counter()
        by_region: dict[str, Counter[str]] = defaultdict(Counter)
        by_kind: dict[str, Counter[str]] = defaultdict(Counter)
        codes: Counter[str] = Counter()
        missed: list[str] = []  # planned defects that were not rejected
        for p in self.planned:
            sid = self.ids.get(p.index)
            summary = self.states.get(sid) if sid else None
            state = str(summary["state"]) if summary else "REFUSED_AT_INTAKE" if sid is None else "UNKNOWN"
            states[state] += 1
            by_region[p.region][state] += 1
            by_kind[p.kind][state] += 1
            if state == "REJECTED" and summary is not None:
                codes[str(summary["outcome"]["code"])] += 1
            if p.defect is not None and state not in ("REJECTED", "REFUSED_AT_INTAKE"):
                missed.append(p.defect)
        return {
            "seed": seed,
            "count": len(self.planned),
            "plan": plan_summary(self.planned),
            "states": dict(sorted(states.items())),
            "regions": {r: dict(sorted(c.items())) for r, c in sorted(by_region.items())},
            "kinds": {k: dict(sorted(c.items())) for k, c in sorted(by_kind.items())},
            "rejection_codes": dict(sorted(codes.items())),
            "refused_at_intake": dict(sorted(self.refused.items())),
            "defects_not_rejected": sorted(missed),
        }

    @property
    def unsettled(self) -> int:
        return sum(1 for sid in self.ids.values() if str(self.states.get(sid, {}).get("state")) not in _FINAL)


async def generate_planned(
    planned: Sequence[Planned],
    sandbox: SandboxFiles,
    *,
    seed: int,
    salt: int,
    out: Path,
    progress: Progress,
    now: datetime | None = None,
) -> None:
    """Write the signed submissions of ``planned`` as JSON lines to ``out``, in worker processes
    when there are enough of them to pay for starting the workers."""
    moment = (now or datetime.now(UTC)).isoformat()
    rows = [(p.index, p.kind, p.region, p.defect) for p in planned]
    jobs = [
        (str(sandbox.pki_dir), seed, salt, moment, sandbox.source_system, rows[i : i + _CHUNK])
        for i in range(0, len(rows), _CHUNK)
    ]
    progress.stage("generating", len(rows))
    done = 0
    with out.open("wb") as fh:
        if len(jobs) <= 2:
            for job in jobs:
                for line in await asyncio.to_thread(build_chunk, job):
                    fh.write(line + b"\n")
                done += len(job[5])
                progress.update(done)
            return
        workers = max(1, min(4, os.cpu_count() or 2))
        loop = asyncio.get_running_loop()
        context = multiprocessing.get_context("spawn")
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
            for job, future in [(job, loop.run_in_executor(pool, build_chunk, job)) for job in jobs]:
                for line in await future:
                    fh.write(line + b"\n")
                done += len(job[5])
                progress.update(done)


async def _submit(
    http: aiohttp.ClientSession,
    url: str,
    token: str,
    documents: Path,
    run: TargetRun,
    concurrency: int,
    progress: Progress,
) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    sem = asyncio.Semaphore(concurrency)
    progress.stage("submitting", len(run.planned))
    done = 0

    async def one(index: int, body: bytes) -> None:
        nonlocal done
        for _attempt in range(20):
            async with sem:
                try:
                    async with http.post(f"{url}/api/v1/submissions", data=body, headers=headers) as resp:
                        if resp.status in (200, 202):
                            body_json = await resp.json()
                            run.ids[index] = body_json["id"]
                            created = str(body_json["created_at"])
                            if run.first_created is None or created < run.first_created:
                                run.first_created = created
                            break
                        if 400 <= resp.status < 500 and resp.status not in (408, 429):
                            run.refused[str(resp.status)] += 1  # the sender's fault: resending will not help
                            break
                except (aiohttp.ClientError, TimeoutError):
                    pass
            await asyncio.sleep(0.5)  # overloaded (503) or restarting: resend, as a sender would
        done += 1
        progress.update(done)

    with documents.open("rb") as fh:
        await asyncio.gather(*(one(i, line.rstrip(b"\n")) for i, line in enumerate(fh)))


async def _follow(
    http: aiohttp.ClientSession,
    url: str,
    token: str,
    run: TargetRun,
    since: str,
    wait_seconds: float,
    progress: Progress,
) -> None:
    """Page through the client's submissions since the run began until every one of ours is final."""
    headers = {"Authorization": f"Bearer {token}"}
    wanted = set(run.ids.values())
    progress.stage("settling", len(wanted))
    deadline = asyncio.get_running_loop().time() + wait_seconds
    while True:
        cursor = ""
        while True:
            params = {"since": since, "limit": "500", "cursor": cursor}
            async with http.get(f"{url}/api/v1/submissions", params=params, headers=headers) as resp:
                resp.raise_for_status()
                page = await resp.json()
            for item in page["items"]:
                if item["id"] in wanted:
                    run.states[item["id"]] = item
            cursor = page.get("next_cursor") or ""
            if not cursor:
                break
        progress.update(len(wanted) - run.unsettled)
        if run.unsettled == 0 or asyncio.get_running_loop().time() > deadline:
            return
        await asyncio.sleep(1.0)


async def run_against_sandbox(
    url: str,
    sandbox: SandboxFiles,
    planned: Sequence[Planned],
    *,
    seed: int,
    workdir: Path,
    concurrency: int = 16,
    settle_timeout: float = 600.0,
    progress: Progress | None = None,
    salt: int | None = None,
) -> TargetRun:
    """Generate, send and follow ``planned``. ``salt`` None gives the documents fresh identifiers
    (a sandbox refuses a journalled localUid again with other signatures)."""
    progress = progress or Progress()
    url = url.rstrip("/")
    documents = workdir / "documents.jsonl"
    await generate_planned(
        planned, sandbox, seed=seed, salt=secrets.randbits(32) if salt is None else salt, out=documents,
        progress=progress,
    )  # fmt: skip
    run = TargetRun(planned)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=concurrency)) as http:
        await _submit(http, url, sandbox.token, documents, run, concurrency, progress)
        if run.first_created is not None:
            await _follow(http, url, sandbox.token, run, run.first_created, settle_timeout, progress)
    return run


def figures_json(run: TargetRun, seed: int) -> str:
    return json.dumps(run.figures(seed=seed), ensure_ascii=False, sort_keys=True)
