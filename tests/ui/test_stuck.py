"""Stuck documents: waiting for a peer longer than its ``stuck_after_hours``, or for a peer that is not
running. The same predicate drives the queues page (linked from the overview), the
``mse_gateway_stuck_submissions`` gauge and the default ``stuck-documents`` alert rule."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.appkeys import JOURNAL_KEY
from gateway.journal.store import Journal
from gateway.model import SubmissionDraft
from gateway.monitoring.stuck import stuck_counts, stuck_policy
from gateway.ui.alerts import AlertEvaluator, measure
from gateway.ui.config import AlertsConfig
from gateway.ui.queries import read
from gateway.ui.users import Role, UserStore

from .conftest import PASSWORD, UiGateway, make_config
from .seed import ORG_77, Seeded, StepClock, start_time, walk
from .test_metrics import _samples


@pytest.fixture
async def gw(tmp_path: Path) -> AsyncIterator[UiGateway]:
    clock = StepClock(start_time())
    config = make_config(tmp_path).with_overrides(
        peers={
            "remd": {"enabled": True, "url": "http://127.0.0.1:9/remd", "stuck_after_hours": 2.0},
            "gis-77": {"protocol": "remd", "url": "http://127.0.0.1:9/gis", "stuck_after_hours": 1.0},
        },
        alerts={"enabled": False},  # evaluated by hand below, on the test's clock
    )
    app = create_app(config, clock=clock)
    async with TestClient(TestServer(app)) as client:
        journal = app[JOURNAL_KEY]
        users = UserStore(journal.engine, clock=clock)
        await users.add("olga", PASSWORD, Role.OPERATOR)
        yield UiGateway(client, journal, clock, Seeded(), users)


async def _add(journal: Journal, clock: StepClock, label: str, destination: str, path: str) -> str:
    payload = f"payload {label} {uuid.uuid4()}".encode()
    draft = SubmissionDraft(
        source_system="mis-alpha",
        local_uid=f"uid-{label}",
        kind="121",
        organization_oid=ORG_77,
        content_hash=hashlib.sha256(payload).hexdigest(),
        payload=payload,
        patient_id=f"{int(hashlib.sha256(label.encode()).hexdigest(), 16) % 10**11:011d}",
        region="77",
        destination=destination,
    )
    sub, _ = await journal.submit(draft)
    await walk(journal, clock, sub.id, path)
    return sub.id


def _stuck_gauge(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> dict[str, float]:
    return {dict(labels)["peer"]: v for (name, labels), v in samples.items() if name == "mse_gateway_stuck_submissions"}


async def _scrape(gw: UiGateway) -> dict[str, float]:
    resp = await gw.client.get("/metrics")
    assert resp.status == 200
    return _stuck_gauge(_samples(await resp.text()))


async def test_stuck_list_gauge_and_alert(gw: UiGateway) -> None:
    j, clock = gw.journal, gw.clock
    app: Any = gw.client.server.app
    await _add(j, clock, "gis-queued", "gis-77", "queued")
    await _add(j, clock, "remd-sent", "remd", "sent")
    await _add(j, clock, "remd-retry", "remd", "retry")
    await _add(j, clock, "remd-done", "remd", "registered")
    evaluator = AlertEvaluator(j.engine, AlertsConfig(), notify=None)  # the default rules

    # Fresh: nothing is stuck; every configured peer has a zero gauge.
    assert await _scrape(gw) == {"remd": 0, "gis-77": 0}
    sent = await evaluator.evaluate(await measure(j, 0, stuck_policy(app)), clock.now())
    assert not [m for m in sent if m["alert"] == "stuck-documents"]

    # Past gis-77's hour, not yet past remd's two hours.
    clock.advance(minutes=70)
    assert await _scrape(gw) == {"remd": 0, "gis-77": 1}

    # Past remd's two hours; and one document waits for a peer that is not running (an instance
    # removed from the configuration after it was routed): stuck whatever its age.
    clock.advance(minutes=60)
    await _add(j, clock, "gone-queued", "gis-50", "queued")
    assert await _scrape(gw) == {"remd": 2, "gis-77": 1, "gis-50": 1}  # each once, the registered one not

    values = await measure(j, 0, stuck_policy(app))
    assert values.stuck == 4
    sent = await evaluator.evaluate(values, clock.now())
    (fired,) = [m for m in sent if m["alert"] == "stuck-documents"]
    assert fired["status"] == "firing" and fired["value"] == 4 and fired["condition"] == "stuck"

    await gw.login("olga")
    overview = await (await gw.client.get("/ui/overview")).text()
    assert 'href="/ui/list?view=stuck"' in overview and '<span data-field="stuck">4</span>' in overview
    listed = await (await gw.client.get("/ui/list?view=stuck")).text()
    assert 'data-total="4"' in listed  # the list behind the link counts what the tile counts
    queues = await (await gw.client.get("/ui/queues")).text()
    stuck_section = queues.split('id="stuck-items"', 1)[1].split("</table>", 1)[0]
    for uid in ("uid-gis-queued", "uid-remd-sent", "uid-remd-retry", "uid-gone-queued"):
        assert uid in stuck_section
    assert "uid-remd-done" not in stuck_section
    assert "peer gis-50 is not running" in stuck_section and "longer than 1 h" in stuck_section
    assert '<dd data-field="stuck">4</dd>' in queues


async def test_stuck_query_uses_an_index(gw: UiGateway) -> None:
    """The predicate starts with state IN (...): SQLite searches an index on state rather than
    scanning the journal's history."""
    policy = stuck_policy(gw.client.server.app)
    assert sorted(policy.after_hours) == ["gis-77", "remd"]
    stmt = sa.select(sa.func.count()).where(policy.condition(gw.clock.now()))
    sql = str(stmt.compile(gw.journal.engine.sync_engine, compile_kwargs={"literal_binds": True}))
    async with read(gw.journal.engine) as conn:
        plan = " ".join(str(r[-1]) for r in (await conn.execute(sa.text("EXPLAIN QUERY PLAN " + sql))).all())
        assert await stuck_counts(conn, policy, gw.clock.now()) == {}
    assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan
    assert "SCAN submissions" not in plan.replace("SCAN submissions USING", ""), plan
