"""`simulate --profile kz-pilot-2025`: the Kazakh route in the sandbox — signed 031/у from the REST
front door → the ``shep`` instance (ШЭП AsyncChannel, WS-Security) → the ШЭП twin and the ЦБДИ twin
behind it (registration of the draft act, the nosology's examinations, the expert's conclusion or a
refusal) → the answers polled back into the journal — in this process on one simulated clock, until
every 031/у has its conclusion or its coded refusal; then the usual figures and the share decided
within the 1-working-day rule with the 16:00 shift, as the gateway measured it (the SLA report's
``KZ_EXPERT_CONCLUSION`` stage, per region and pilot phase).

``scripts/kz_pilot_run.py`` runs the same route with the gateway as a separate process it SIGKILLs;
both read their outcomes and the deadline share with :func:`outcomes_and_share`.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import aiohttp
import sqlalchemy as sa

from gateway.app import create_app
from gateway.appkeys import JOURNAL_KEY
from gateway.common.clock import SimulatedClock
from gateway.common.workdays import Stage
from gateway.config import load_config
from gateway.journal.engine import create_engine
from gateway.journal.schema import submissions
from gateway.model import FINAL_STATES, State
from gateway.sandbox.mse_loop import delivered_to_mis
from gateway.sandbox.setup import prepare_sandbox
from gateway.sandbox.simulate import (
    Progress,
    generate_documents,
    journal_figures,
    read_documents,
    serve_app,
    submit_all,
    twin_stats,
)
from gateway.sandbox.twins import free_port, plan_twins
from gateway.ui import queries

__all__ = ["KZ_PILOT_PROFILES", "KZ_ROUTES", "KzPilotResult", "outcomes_and_share", "run_kz_pilot"]

# simulate's profile name → the ШЭП twin's fault profile (config/faults/shep-<name>.toml)
KZ_PILOT_PROFILES: Final = {"kz-pilot-2025": "painful"}
PEER: Final = "shep"
KZ_ROUTES: Final = f"""
[[routes]]
name = "kz-031u-via-shep"
kinds = ["kz-031u"]
destination = "{PEER}"
"""
DEADLINE_RULE: Final = (
    "1 working day (Kazakhstan calendar, UTC+5); a draft arriving at or after 16:00 counts from the next"
)


async def outcomes_and_share(url: str, uids: set[str], now: datetime) -> tuple[dict[str, int], dict[str, Any]]:
    """``state/outcome_code`` counts of the run's submissions, and the share of conclusions given
    within the 1-working-day rule (the gateway's SLA report, stage KZ_EXPERT_CONCLUSION)."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(sa.select(submissions.c.local_uid, submissions.c.state, submissions.c.outcome_code))
            ).all()
            report = await queries.sla_report(conn, since=None, until=None, now=now, overdue_limit=0)
    finally:
        await engine.dispose()
    out: dict[str, int] = {}
    for r in rows:
        if r.local_uid in uids:
            key = f"{r.state}/{r.outcome_code or '-'}"
            out[key] = out.get(key, 0) + 1
    kz = report.stages[Stage.KZ_EXPERT_CONCLUSION]
    share = {
        "rule": DEADLINE_RULE,
        "measured": kz.measured,
        "within": kz.within,
        "share_within_deadline": round(kz.share, 4) if kz.share is not None else None,
        "open_overdue": kz.open_overdue,
        "by_region": {k: {"phase": r.phase, "measured": r.measured, "within": r.within} for k, r in kz.regions.items()},
    }
    return dict(sorted(out.items())), share


@dataclass
class KzPilotResult:
    count: int
    accepted: int
    concluded: int  # REGISTERED: ЦБДИ's expert gave a conclusion
    refused: int  # FAILED: a coded refusal (ЦБДИ's, ШЭП's) delivered to the MIS
    rejected: int  # refused by the gateway's own checks (examinations, pilot not started)
    dead: int
    unknown: int  # accepted, no final state
    lost: int  # accepted (202), not in the journal
    duplicates_at_peer: int  # ЦБДИ registered one 031/у twice
    outcomes: dict[str, int]
    deadline: dict[str, Any]
    twin: dict[str, Any]
    profile: str
    fault_profile: str
    speed: float
    wall_seconds: float
    simulated_days: float
    states: dict[str, int] = field(default_factory=dict)
    # The expert's conclusions offered to the MIS (webhook and inbox) through the inbound path:
    # 031/у with one offered conclusion, with more than one, REGISTERED ones with none, and the
    # conclusions held for an operator by reason (gateway.sandbox.mse_loop.delivered_to_mis).
    delivered_to_mis: int = 0
    delivered_twice_to_mis: int = 0
    concluded_not_delivered: int = 0
    held_for_operator: dict[str, int] = field(default_factory=dict)

    @property
    def failed_checks(self) -> bool:
        """What makes the run fail: an unknown, lost or twice-registered 031/у, or a conclusion
        not delivered to its MIS exactly once."""
        return bool(
            self.unknown
            or self.lost
            or self.duplicates_at_peer
            or self.delivered_twice_to_mis
            or self.concluded_not_delivered
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


async def run_kz_pilot(
    *,
    count: int,
    profile: str = "kz-pilot-2025",
    seed: int = 1,
    speed: float = 20_000.0,
    concurrency: int = 16,
    data_dir: Path | None = None,
    database_url: str = "",
    progress: Progress | None = None,
    settle_timeout: float = 1800.0,
    config_overrides: dict[str, dict[str, Any]] | None = None,
) -> KzPilotResult:
    """Run the Kazakh route in this process (gateway, ШЭП and ЦБДИ twins on one simulated clock)."""
    progress = progress or Progress()
    fault_profile = KZ_PILOT_PROFILES.get(profile, profile)
    workdir = data_dir or Path(tempfile.mkdtemp(prefix="kz-pilot-"))
    workdir.mkdir(parents=True, exist_ok=True)
    routes = workdir / "routes.kz.toml"
    routes.write_text(KZ_ROUTES)
    gw_port = free_port()
    clock = SimulatedClock(speed)
    base: dict[str, dict[str, Any]] = {
        "storage": {"data_dir": str(workdir), "database_url": database_url},
        "workers": {"idle_sleep_seconds": 0.2, "receiver_max_sleep_seconds": 0.5},
        "journal": {"lease_seconds": 5.0 * speed},  # leases run on the simulated clock: 5 real seconds
        "logging": {"level": "warning"},
        "server": {"port": gw_port, "public_url": f"http://127.0.0.1:{gw_port}"},
        "sandbox": {"clock_speed": speed, "fault_profiles": {PEER: fault_profile}},
        "routing": {"routes_file": str(routes)},
        # retries across time on the simulated clock: a few real seconds apart at most
        "peers": {"remd": {"enabled": False}, PEER: {"protocol": "shep", "backoff_cap_seconds": 5.0 * speed}},
    }
    for section, values in (config_overrides or {}).items():
        base.setdefault(section, {}).update(values)
    config = load_config(environ={}).with_overrides(**base)
    config, client, signers = await prepare_sandbox(config)
    documents = workdir / "documents.jsonl"
    await generate_documents(signers.directory, count, seed, documents, progress, kinds=("kz-031u",))
    config, twins = plan_twins(config, clock, seed=seed)
    (twin,) = twins
    gateway = create_app(config, clock=clock)
    started = time.monotonic()
    sim_start = clock.now()
    async with serve_app(twin.app, twin.port), serve_app(gateway, gw_port):
        base_url = f"http://127.0.0.1:{gw_port}"
        uids, _ = await submit_all(base_url, client.token, read_documents(documents), count, concurrency, progress)
        journal = gateway[JOURNAL_KEY]
        progress.stage("kz-pilot", len(uids))
        deadline = time.monotonic() + settle_timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                counts = await journal.counts_by_state()
                final = sum(counts[s] for s in FINAL_STATES)
                progress.update(final)
                stats = await twin_stats(http, twin.url)
                if final >= len(uids) and stats["waiting"] == 0:
                    break
                await asyncio.sleep(0.5)
            stats = await twin_stats(http, twin.url)
        outcomes, share = await outcomes_and_share(config.database_url, uids, clock.now())
    figures = await journal_figures(config.database_url, uids)
    to_mis = await delivered_to_mis(config.database_url, uids)
    states: dict[str, int] = figures["states"]
    final = sum(states.get(str(s), 0) for s in FINAL_STATES)
    concluded = states.get(str(State.REGISTERED), 0)
    return KzPilotResult(
        count=count,
        accepted=len(uids),
        concluded=concluded,
        refused=states.get(str(State.FAILED), 0),
        rejected=states.get(str(State.REJECTED), 0),
        dead=states.get(str(State.DEAD), 0),
        unknown=len(uids) - final,
        lost=len(uids) - figures["rows"],
        duplicates_at_peer=int(stats.get("duplicates_at_cbdi", 0)),
        outcomes=outcomes,
        deadline=share,
        twin={k: v for k, v in stats.items() if k != "expert_certificate"},
        profile=profile,
        fault_profile=str(twin.fault_profile),
        speed=speed,
        wall_seconds=round(time.monotonic() - started, 1),
        simulated_days=round((clock.now() - sim_start).total_seconds() / 86400, 1),
        states=states,
        delivered_to_mis=to_mis["delivered_to_mis"],
        delivered_twice_to_mis=to_mis["delivered_twice_to_mis"],
        concluded_not_delivered=max(0, concluded - to_mis["delivered_to_mis"]),
        held_for_operator=to_mis["held_for_operator"],
    )
