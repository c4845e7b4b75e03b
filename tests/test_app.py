"""The app factory over real HTTP: health, readiness, request ids, coded errors."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.config import load_config
from gateway.errors import DuplicateConflict


def _config(tmp_path: Path, **storage: object) -> object:
    return load_config(environ={}).with_overrides(
        storage={"data_dir": str(tmp_path), **storage}, peers={"remd": {"url": "http://127.0.0.1:9/remd"}}
    )


async def test_health_and_readiness(tmp_path: Path) -> None:
    app = create_app(_config(tmp_path))  # type: ignore[arg-type]
    async with TestClient(TestServer(app)) as client:
        resp = await client.get("/healthz")
        assert resp.status == 200 and (await resp.json())["status"] == "ok"
        resp = await client.get("/readyz")
        body = await resp.json()
        assert resp.status == 200, body
        assert body["checks"] == {"database": "ok", "schema": "ok", "peer:remd": "ok"}
        assert resp.headers["X-Request-ID"]
    assert (tmp_path / "gateway.sqlite3").exists() and (tmp_path / "secret.key").exists()
    assert (tmp_path / "secret.key").stat().st_mode & 0o077 == 0


async def test_not_ready_when_schema_is_behind(tmp_path: Path) -> None:
    app = create_app(_config(tmp_path, auto_migrate=False))  # type: ignore[arg-type]
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/healthz")).status == 200
        resp = await client.get("/readyz")
        body = await resp.json()
        assert resp.status == 503
        assert body["checks"]["schema"].startswith("at None")


async def test_not_ready_when_database_unreachable(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://nobody@127.0.0.1:1/none"
    app = create_app(_config(tmp_path, auto_migrate=False, database_url=url))  # type: ignore[arg-type]
    async with TestClient(TestServer(app)) as client:
        resp = await client.get("/readyz")
        assert resp.status == 503
        assert (await resp.json())["checks"]["database"].startswith("unreachable")


async def test_gateway_errors_become_coded_json(tmp_path: Path) -> None:
    async def conflict(_: web.Request) -> web.Response:
        raise DuplicateConflict("already there with other content")

    async def crash(_: web.Request) -> web.Response:
        raise RuntimeError("secret internals 112-233-445 95")

    app = create_app(_config(tmp_path))  # type: ignore[arg-type]
    app.router.add_get("/conflict", conflict)
    app.router.add_get("/crash", crash)
    async with TestClient(TestServer(app)) as client:
        resp = await client.get("/conflict")
        assert resp.status == 409
        assert (await resp.json())["error"]["code"] == "DUPLICATE_CONFLICT"
        resp = await client.get("/crash")
        assert resp.status == 500
        text = await resp.text()
        assert "secret internals" not in text and "INTERNAL_ERROR" in text


async def test_readiness_reports_every_peer_and_fails_for_a_routed_unusable_one(tmp_path: Path) -> None:
    """remd has no URL and a route sends to it: 503 naming why; gis-77 is disabled and no route
    sends to it: reported, but it does not make the gateway unready."""
    config = load_config(environ={}).with_overrides(
        storage={"data_dir": str(tmp_path)},
        workers={"enabled": False},
        peers={"remd": {"protocol": "remd"}, "gis-77": {"protocol": "remd", "enabled": False}},
    )
    async with TestClient(TestServer(create_app(config))) as client:
        resp = await client.get("/readyz")
        body = await resp.json()
        assert resp.status == 503, body
        assert body["checks"]["peer:remd"] == "peers.remd.url is not set"
        assert body["checks"]["peer:gis-77"] == "disabled in configuration"
        assert body["checks"]["database"] == "ok"

    ready = config.with_overrides(peers={"remd": {"url": "http://127.0.0.1:9/remd"}})
    async with TestClient(TestServer(create_app(ready))) as client:
        resp = await client.get("/readyz")
        body = await resp.json()
        assert resp.status == 200, body
        assert body["checks"]["peer:remd"] == "ok" and body["checks"]["peer:gis-77"] == "disabled in configuration"
