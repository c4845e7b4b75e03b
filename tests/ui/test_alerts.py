"""Alerts: one notice per condition, a reminder after the interval, one resolved notice, state kept
in the database (a new evaluator does not re-send), webhook failures retried at the next round."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from gateway.journal.engine import create_engine
from gateway.journal.migrate import upgrade
from gateway.ui.alerts import AlertEvaluator, Measurements, webhook_notifier
from gateway.ui.config import AlertRuleConfig, AlertsConfig

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def _values(dead: int = 0, oldest: float = 0.0) -> Measurements:
    return Measurements(oldest_unanswered_minutes=oldest, dead_items=dead, circuit_open=0, sla_breaches=0, flagged=0)


CONFIG = AlertsConfig(
    renotify_minutes=60.0,
    rules=[
        AlertRuleConfig(name="dead", condition="dead_items", threshold=0.0, severity="critical"),
        AlertRuleConfig(name="old", condition="oldest_unanswered_minutes", threshold=120.0),
    ],
)


async def test_one_alert_per_condition_renotify_and_resolve(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'j.sqlite3'}")
    await upgrade(engine)
    sent: list[dict[str, Any]] = []

    async def notify(message: dict[str, Any]) -> None:
        sent.append(message)

    ev = AlertEvaluator(engine, CONFIG, notify)
    try:
        await ev.evaluate(_values(dead=0), T0)
        assert sent == []
        await ev.evaluate(_values(dead=3), T0 + timedelta(minutes=1))
        assert [(m["alert"], m["status"]) for m in sent] == [("dead", "firing")]
        for minute in range(2, 60):  # the condition lasts: no flood
            await ev.evaluate(_values(dead=3), T0 + timedelta(minutes=minute))
        assert len(sent) == 1
        # a restarted process (new evaluator, same table) does not notify again
        ev2 = AlertEvaluator(engine, CONFIG, notify)
        await ev2.evaluate(_values(dead=4), T0 + timedelta(minutes=30))
        assert len(sent) == 1
        await ev2.evaluate(_values(dead=4), T0 + timedelta(minutes=61))  # renotify interval passed
        assert [m["status"] for m in sent] == ["firing", "firing"]
        await ev2.evaluate(_values(dead=0), T0 + timedelta(minutes=62))
        assert sent[-1]["alert"] == "dead" and sent[-1]["status"] == "resolved"
        await ev2.evaluate(_values(dead=0), T0 + timedelta(minutes=63))
        assert len(sent) == 3
    finally:
        await engine.dispose()


async def test_webhook_failure_is_retried_next_round(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'j.sqlite3'}")
    await upgrade(engine)
    received: list[dict[str, Any]] = []
    fail = {"on": True}

    async def hook(request: web.Request) -> web.Response:
        if fail["on"]:
            return web.Response(status=503)
        received.append(await request.json())
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    server = TestServer(app)
    await server.start_server()
    import aiohttp

    try:
        async with aiohttp.ClientSession() as session:
            ev = AlertEvaluator(engine, CONFIG, webhook_notifier(session, str(server.make_url("/hook")), 5.0))
            await ev.evaluate(_values(oldest=500.0), T0)
            assert received == []
            fail["on"] = False
            await ev.evaluate(_values(oldest=501.0), T0 + timedelta(minutes=1))
            assert [(m["alert"], m["status"]) for m in received] == [("old", "firing")]
            await ev.evaluate(_values(oldest=502.0), T0 + timedelta(minutes=2))
            assert len(received) == 1
            fail["on"] = True
            await ev.evaluate(_values(oldest=0.0), T0 + timedelta(minutes=3))  # resolved, but the hook is down
            fail["on"] = False
            await ev.evaluate(_values(oldest=0.0), T0 + timedelta(minutes=4))
            assert [m["status"] for m in received] == ["firing", "resolved"]
            await ev.evaluate(_values(oldest=0.0), T0 + timedelta(minutes=5))
            assert len(received) == 2
    finally:
        await server.close()
        await engine.dispose()


async def test_alerts_context_fires_and_the_ui_shows_it(tmp_path: Path) -> None:
    """The cleanup context wired as the lead will wire it: seeded DEAD items fire one alert,
    delivered by webhook and shown on /ui/alerts."""
    import asyncio

    from aiohttp.test_utils import TestClient

    from gateway.app import create_app
    from gateway.appkeys import JOURNAL_KEY
    from gateway.ui.users import Role, UserStore

    from .conftest import PASSWORD, make_config
    from .seed import StepClock, seed, start_time

    received: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(status=200)

    hook_app = web.Application()
    hook_app.router.add_post("/hook", hook)
    hook_server = TestServer(hook_app)
    await hook_server.start_server()
    clock = StepClock(start_time())
    cfg = AlertsConfig(interval_seconds=0.05, webhook_url=str(hook_server.make_url("/hook")))
    app = create_app(make_config(tmp_path).with_overrides(alerts=cfg.model_dump()), clock=clock)
    try:
        async with TestClient(TestServer(app)) as client:
            await seed(app[JOURNAL_KEY], clock)
            await UserStore(app[JOURNAL_KEY].engine).add("victor", PASSWORD, Role.VIEWER)
            for _ in range(100):
                if any(m["alert"] == "dead-items" for m in received):
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)  # several more rounds: still one notice
            dead = [m for m in received if m["alert"] == "dead-items"]
            assert len(dead) == 1 and dead[0]["status"] == "firing" and dead[0]["value"] >= 1
            form = await (await client.get("/ui/login")).text()
            from .conftest import csrf_of

            await client.post("/ui/login", data={"username": "victor", "password": PASSWORD, "csrf": csrf_of(form)})
            html = await (await client.get("/ui/alerts")).text()
            row = html.split('data-rule="dead-items"')[1].split("</tr>")[0]
            assert "активно" in row
    finally:
        await hook_server.close()


async def test_no_notified_stamp_when_nothing_was_sent(tmp_path: Path) -> None:
    import sqlalchemy as sa

    from gateway.ui.schema import alert_state

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'j.sqlite3'}")
    await upgrade(engine)
    try:
        ev = AlertEvaluator(engine, CONFIG, None)  # no webhook configured
        await ev.evaluate(_values(dead=3), T0)
        async with engine.connect() as conn:
            row = (await conn.execute(sa.select(alert_state).where(alert_state.c.name == "dead"))).one()
        assert row.firing and row.since == T0 and row.last_notified_at is None
    finally:
        await engine.dispose()


async def test_acknowledged_alert_gets_no_reminders_and_silence_holds_notices(tmp_path: Path) -> None:
    from gateway.ui.alerts import acknowledge, silence

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'j.sqlite3'}")
    await upgrade(engine)
    sent: list[dict[str, Any]] = []

    async def notify(message: dict[str, Any]) -> None:
        sent.append(message)

    ev = AlertEvaluator(engine, CONFIG, notify)
    try:
        assert not await acknowledge(engine, CONFIG, "dead", username="olga", now=T0)  # not firing yet
        await ev.evaluate(_values(dead=3), T0)
        assert await acknowledge(engine, CONFIG, "dead", username="olga", now=T0 + timedelta(minutes=1))
        await ev.evaluate(_values(dead=3), T0 + timedelta(minutes=90))  # past renotify: acknowledged, quiet
        assert [m["status"] for m in sent] == ["firing"]
        await ev.evaluate(_values(dead=0), T0 + timedelta(minutes=91))
        assert [m["status"] for m in sent] == ["firing", "resolved"]
        # the acknowledgement ended with the firing: the next firing notifies and reminds again
        await ev.evaluate(_values(dead=1), T0 + timedelta(minutes=92))
        await ev.evaluate(_values(dead=1), T0 + timedelta(minutes=153))
        assert [m["status"] for m in sent] == ["firing", "resolved", "firing", "firing"]
        # silenced for an hour: neither reminders nor the resolved notice; after it, notices again
        until = T0 + timedelta(minutes=214)
        await silence(engine, CONFIG, "old", username="olga", until=until, comment="planned maintenance",
                      now=T0 + timedelta(minutes=154))  # fmt: skip
        await ev.evaluate(_values(dead=1, oldest=500), T0 + timedelta(minutes=155))
        await ev.evaluate(_values(dead=1, oldest=0), T0 + timedelta(minutes=156))
        assert [m["alert"] for m in sent].count("old") == 0
        await ev.evaluate(_values(dead=1, oldest=500), until + timedelta(minutes=1))
        assert sent[-1]["alert"] == "old" and sent[-1]["status"] == "firing"
    finally:
        await engine.dispose()


async def test_one_evaluator_across_processes(tmp_path: Path) -> None:
    """Two gateway apps on one journal: only the lease holder evaluates, so a webhook notice goes
    out once; when the holder stops, the other takes over."""
    import asyncio

    from aiohttp.test_utils import TestClient

    from gateway.app import create_app
    from gateway.appkeys import JOURNAL_KEY
    from gateway.journal.peer_messages import ReceiverLeases
    from gateway.ui.alerts import EVALUATOR_LEASE

    from .conftest import make_config
    from .seed import StepClock, seed, start_time

    received: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(status=200)

    hook_app = web.Application()
    hook_app.router.add_post("/hook", hook)
    hook_server = TestServer(hook_app)
    await hook_server.start_server()
    clock = StepClock(start_time())
    cfg = AlertsConfig(interval_seconds=0.05, webhook_url=str(hook_server.make_url("/hook")))
    config = make_config(tmp_path).with_overrides(alerts=cfg.model_dump())
    first, second = create_app(config, clock=clock), create_app(config, clock=clock)
    taken: str | None = None
    try:
        async with TestClient(TestServer(first)):
            # seeding moves the test clock by hours: done while only the first process runs
            await seed(first[JOURNAL_KEY], clock)
            leases = ReceiverLeases(first[JOURNAL_KEY])
            for _ in range(100):
                if any(m["alert"] == "dead-items" for m in received):
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)  # a few rounds at the settled clock: the lease is renewed
            owner = await leases.holder(EVALUATOR_LEASE)
            assert owner is not None and owner.startswith("alerts:")
            async with TestClient(TestServer(second)):
                for _ in range(10):  # many rounds of both: the holder keeps the lease, the other stands by
                    await asyncio.sleep(0.05)
                    assert await leases.holder(EVALUATOR_LEASE) == owner
                assert [m["alert"] for m in received].count("dead-items") == 1
        # the first process stopped and released the lease: a restarted second one takes over
        third = create_app(config, clock=clock)
        async with TestClient(TestServer(third)):
            for _ in range(100):
                taken = await ReceiverLeases(third[JOURNAL_KEY]).holder(EVALUATOR_LEASE)
                if taken not in (None, owner):
                    break
                await asyncio.sleep(0.05)
            assert taken not in (None, owner)
            assert [m["alert"] for m in received].count("dead-items") == 1  # the state carried over
    finally:
        await hook_server.close()
