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
            row = html.split("dead-items")[1].split("</tr>")[0]
            assert "активно" in row
    finally:
        await hook_server.close()
