"""`simulate --profile mse-loop-2023`: the whole Russian MSE loop in the sandbox — referrals from the
REST front door → the ``eaviias`` instance (ФГИС ЕАВИИАС over SMEV 3) → the SMEV 3 twin and the
simulated bureau behind it (registration, preliminary FLK, return with reasons or scheduling, the
examination, the result) → the notices polled back into the journal, the signed result (kind 187)
or return (kind 130) of a final notice handed to the inbound path and offered to the MIS's inbox —
on the simulated clock, until every referral has its result or its return; then the usual figures,
what reached the MIS (counted from the inbound tables) and the bureau's KSI as the gateway measured
them (gateway.monitoring.ksi) beside the bureau's own count of late stages.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import aiohttp
import sqlalchemy as sa

from gateway.app import create_app
from gateway.appkeys import JOURNAL_KEY
from gateway.common.clock import SimulatedClock
from gateway.config import load_config
from gateway.inbound.contract import OFFERED_STATES
from gateway.journal.engine import create_engine
from gateway.journal.schema import inbound_documents, peer_inbox, submissions
from gateway.model import FINAL_STATES, State
from gateway.monitoring.ksi import KsiStage, ksi_report
from gateway.sandbox.setup import prepare_sandbox
from gateway.sandbox.simulate import (
    Progress,
    generate_documents,
    read_documents,
    serve_app,
    submit_all,
    twin_stats,
)
from gateway.sandbox.twins import free_port, plan_twins

__all__ = [
    "MSE_LOOP_PROFILES",
    "MseLoopResult",
    "delivered_to_mis",
    "run_mse_loop",
]

MSE_LOOP_PROFILES: Final = ("mse-loop-2023",)
PEER: Final = "eaviias"
RETURNED: Final = "EAVIIAS_RETURNED"
_ROUTES: Final = f"""
[[routes]]
name = "referrals-to-eaviias"
kinds = ["121"]
destination = "{PEER}"
"""
_OFFERED: Final = frozenset(str(s) for s in OFFERED_STATES)

# What the KSI figures are compared with (working days, issue 16).
KSI_DEADLINES: Final = {"stage2": "≤ 1 working day", "stage3": "≤ 3 working days", "stage6": "≤ next working day"}


@dataclass
class MseLoopResult:
    count: int
    accepted: int
    results: int  # REGISTERED: the bureau's result arrived
    returned: int  # FAILED with EAVIIAS_RETURNED: returned with 360n reasons
    failed_other: int
    rejected: int  # refused by the gateway's own checks
    dead: int
    unknown: int  # accepted, no result and no return
    lost: int  # submitted and accepted, not in the journal
    duplicates_at_peer: int  # the bureau received the same referral twice / SMEV delivered one twice
    unattributed: int  # notices recorded without a submission (unreadable, or naming another referral)
    contradictions: int
    notices: dict[str, int]
    bureau: dict[str, Any]
    ksi: dict[str, dict[str, Any]]
    profile: str
    speed: float
    wall_seconds: float
    simulated_days: float
    # From the inbound tables: referrals whose result/return document is offered to the MIS
    # (GET /api/v1/inbox, webhook), and referrals with more than one offered final document.
    delivered_to_mis: int = 0
    delivered_twice_to_mis: int = 0
    delivered_by_kind: dict[str, int] = field(default_factory=dict)
    # The result/return documents held for an operator, by reason (a wrong signer, …).
    held_for_operator: dict[str, int] = field(default_factory=dict)
    where_it_ends: str = (
        "the result or return document is verified at the gateway and offered to the MIS's inbox "
        "(GET /api/v1/inbox, webhook), or held for an operator with a coded reason"
    )
    smev: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


async def _journal_counts(url: str, uids: set[str]) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(
                        submissions.c.local_uid, submissions.c.state, submissions.c.outcome_code, submissions.c.flagged
                    )
                )
            ).all()
            unattributed = (
                await conn.execute(
                    sa.select(sa.func.count()).select_from(peer_inbox).where(peer_inbox.c.kind == "unattributed")
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    mine = [r for r in rows if r.local_uid in uids]
    states: dict[str, int] = {}
    for r in mine:
        states[r.state] = states.get(r.state, 0) + 1
    return {
        "rows": len(mine),
        "states": states,
        "returned": sum(1 for r in mine if r.state == State.FAILED and r.outcome_code == RETURNED),
        "flagged": sum(1 for r in mine if r.flagged),
        "unattributed": int(unattributed),
        **await delivered_to_mis(url, uids),
    }


async def delivered_to_mis(url: str, uids: set[str]) -> dict[str, Any]:
    """What reached the MIS, from the inbound tables: the referrals (of ``uids``) whose final
    document (result, return) is offered to the MIS's inbox, those with more than one, the offered
    documents by kind, and the final documents held for an operator by reason."""
    d, sub = inbound_documents.c, submissions.c
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            documents = (
                await conn.execute(
                    sa.select(sub.local_uid, d.kind, d.state, d.reason_code, d.offer_seq)
                    .select_from(inbound_documents.join(submissions, sub.id == d.submission_id))
                    .where(d.final.is_(True))
                )
            ).all()
    finally:
        await engine.dispose()
    offered: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    held: dict[str, int] = {}
    for doc in documents:
        if doc.local_uid not in uids:
            continue
        if doc.offer_seq is not None and doc.state in _OFFERED:
            offered[doc.local_uid] = offered.get(doc.local_uid, 0) + 1
            by_kind[doc.kind] = by_kind.get(doc.kind, 0) + 1
        else:
            held[doc.reason_code or doc.state] = held.get(doc.reason_code or doc.state, 0) + 1
    return {
        "delivered_to_mis": len(offered),
        "delivered_twice_to_mis": sum(1 for n in offered.values() if n > 1),
        "delivered_by_kind": dict(sorted(by_kind.items())),
        "held_for_operator": dict(sorted(held.items())),
    }


async def run_mse_loop(
    *,
    count: int,
    profile: str = "mse-loop-2023",
    seed: int = 1,
    speed: float = 20_000.0,
    concurrency: int = 32,
    data_dir: Path | None = None,
    database_url: str = "",
    progress: Progress | None = None,
    settle_timeout: float = 1800.0,
    config_overrides: dict[str, dict[str, Any]] | None = None,
) -> MseLoopResult:
    """Run the loop in this process (gateway, SMEV 3 twin and bureau on one simulated clock)."""
    progress = progress or Progress()
    workdir = data_dir or Path(tempfile.mkdtemp(prefix="mse-loop-"))
    workdir.mkdir(parents=True, exist_ok=True)
    routes = workdir / "routes.mse-loop.toml"
    routes.write_text(_ROUTES)
    gw_port = free_port()
    clock = SimulatedClock(speed)
    base: dict[str, dict[str, Any]] = {
        "storage": {"data_dir": str(workdir), "database_url": database_url},
        # the receiver must not pause for simulated days between notices
        "workers": {"idle_sleep_seconds": 0.2, "validation_concurrency": 16, "receiver_max_sleep_seconds": 0.5},
        "journal": {"lease_seconds": 10.0 * speed},  # leases run on the simulated clock: 10 real seconds
        "logging": {"level": "warning"},
        "server": {"port": gw_port, "public_url": f"http://127.0.0.1:{gw_port}"},
        "sandbox": {"clock_speed": speed, "fault_profiles": {PEER: profile}},
        "routing": {"routes_file": str(routes)},
        "peers": {
            "remd": {"enabled": False},
            PEER: {
                "protocol": "smev3",
                "content_profile": "eaviias",
                "reconcile_schedule_minutes": [4320.0],
                "receive_batch": 200,
                "max_age_hours": 24 * 120.0,
            },
        },
    }
    for section, values in (config_overrides or {}).items():
        base.setdefault(section, {}).update(values)
    config = load_config(environ={}).with_overrides(**base)
    config, twins = plan_twins(config, clock, seed=seed)
    (twin,) = twins
    config, client, signers = await prepare_sandbox(config)
    documents = workdir / "documents.jsonl"
    await generate_documents(signers.directory, count, seed, documents, progress, kinds=("121",))
    gateway = create_app(config, clock=clock)
    started = time.monotonic()
    sim_start = clock.now()
    async with serve_app(twin.app, twin.port), serve_app(gateway, gw_port):
        base_url = f"http://127.0.0.1:{gw_port}"
        uids, _ = await submit_all(base_url, client.token, read_documents(documents), count, concurrency, progress)
        journal = gateway[JOURNAL_KEY]
        progress.stage("loop", len(uids))
        deadline = time.monotonic() + settle_timeout
        while time.monotonic() < deadline:
            counts = await journal.counts_by_state()
            final = sum(counts[s] for s in FINAL_STATES)
            progress.update(final)
            if final >= len(uids):
                break
            await asyncio.sleep(0.5)
        async with aiohttp.ClientSession() as http:
            for _ in range(120):  # the last notices (appeals, duplicates) taken and Acked
                stats = await twin_stats(http, twin.url)
                if stats["unacked"] == 0:
                    break
                await asyncio.sleep(0.5)
        async with journal.engine.connect() as conn:
            report = await ksi_report(conn, now=clock.now(), overdue_limit=0)
    figures = await _journal_counts(config.database_url, uids)
    states = figures["states"]
    bureau: dict[str, Any] = stats.get("bureau") or {}
    results = states.get(str(State.REGISTERED), 0)
    failed = states.get(str(State.FAILED), 0)
    rejected = states.get(str(State.REJECTED), 0)
    ksi: dict[str, dict[str, Any]] = {}
    for stage in KsiStage:
        cell = report.totals[stage]
        ksi[str(stage)] = {
            "deadline": KSI_DEADLINES[str(stage)],
            "measured": cell.measured,
            "within": cell.within,
            "share_within": round(cell.share, 4) if cell.share is not None else None,
            "late": cell.late,
            "open_overdue": cell.open_overdue,
            "unreported": cell.unreported,
            "late_by_the_bureaus_own_count": int(bureau.get("late_by_stage", {}).get(_BUREAU_STAGE[stage], 0)),
        }
    return MseLoopResult(
        count=count,
        accepted=len(uids),
        results=results,
        returned=figures["returned"],
        failed_other=failed - figures["returned"],
        rejected=rejected,
        dead=states.get(str(State.DEAD), 0),
        unknown=len(uids) - results - failed - rejected,
        lost=len(uids) - figures["rows"],
        duplicates_at_peer=int(bureau.get("duplicates_at_bureau", 0))
        + int(stats.get("delivered_twice_to_provider", 0))
        + int(stats.get("same_content_delivered_twice_to_provider", 0)),
        unattributed=figures["unattributed"],
        contradictions=figures["flagged"],
        notices=dict(bureau.get("notices", {})),
        delivered_to_mis=figures["delivered_to_mis"],
        delivered_twice_to_mis=figures["delivered_twice_to_mis"],
        delivered_by_kind=figures["delivered_by_kind"],
        held_for_operator=figures["held_for_operator"],
        bureau={k: bureau.get(k) for k in ("received", "registered", "returned", "scheduled", "results",
                                           "lost_notices", "resent_notices", "duplicate_notices",
                                           "documents", "wrong_signer")},
        ksi=ksi,
        profile=str(stats.get("profile", profile)),
        speed=speed,
        wall_seconds=round(time.monotonic() - started, 1),
        simulated_days=round((clock.now() - sim_start).total_seconds() / 86400, 1),
        smev={k: stats.get(k) for k in ("accepted", "faults", "dropped_responses", "lost_acks", "redeliveries",
                                         "unacked", "acks_rejected")},
    )  # fmt: skip


_BUREAU_STAGE: Final = {
    KsiStage.STAGE_2: "ru_registration",
    KsiStage.STAGE_3: "ru_appointment_or_return",
    KsiStage.STAGE_6: "ru_results_sent",
}
