"""Issue 14, finding 4: a NUL in the login form, the search form or a UI URL reached PostgreSQL
and came back as a 500. It is now a coded 400 before any handler runs, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.appkeys import JOURNAL_KEY
from gateway.ui.users import Role, UserStore

from .conftest import PASSWORD, csrf_of, make_config


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def storage(request: pytest.FixtureRequest) -> dict[str, Any]:
    if request.param == "postgres":
        return {"database_url": request.getfixturevalue("pg_url")}
    return {}


@pytest.fixture
async def client(storage: dict[str, Any], tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    app = create_app(make_config(tmp_path).with_overrides(storage=storage))
    async with TestClient(TestServer(app)) as client:
        await UserStore(app[JOURNAL_KEY].engine).add("olga", PASSWORD, Role.OPERATOR)
        yield client


async def _refused(resp: Any) -> None:
    assert resp.status == 400, await resp.text()
    assert (await resp.json())["error"]["code"] == "INVALID_CHARACTER"


async def test_nul_in_login_and_search_forms(client: TestClient[Any, Any]) -> None:
    csrf = csrf_of(await (await client.get("/ui/login")).text())
    await _refused(await client.post("/ui/login", data={"username": "ad\x00min", "password": "x", "csrf": csrf}))
    # Bytes that are not UTF-8: whatever aiohttp makes of them (it substitutes U+FFFD), no 500.
    garbled = await client.post(
        "/ui/login",
        data=b"username=%ff%fe\xff&password=x&csrf=" + csrf.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    assert garbled.status < 500
    ok = await client.post(
        "/ui/login", data={"username": "olga", "password": PASSWORD, "csrf": csrf}, allow_redirects=False
    )
    assert ok.status == 303
    csrf = csrf_of(await (await client.get("/ui/messages")).text())
    for field in ("local_uid", "organization", "patient_id", "cursor"):
        await _refused(await client.post("/ui/messages", data={field: "a\x00b", "csrf": csrf}))
    assert (await client.post("/ui/messages", data={"local_uid": "abc", "csrf": csrf})).status == 200
    await _refused(await client.get("/ui/messages/%00"))
    await _refused(await client.get("/ui/overview?kind=%00"))
