"""The sandbox's vendor page in real headless Chromium, against a real `mse-gateway sandbox`
process: no login; upload a defective sample → the report names the defect's code; a valid one
passes; download a role's test key; switch a twin's fault profile; see the client's submissions.
Without the sandbox the page does not exist."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sandbox_proc import Sandbox, clean_env, http_get, running_sandbox

from .conftest import make_config
from .test_browser import ARGS, CHROMIUM, _need_chromium, shot

playwright_api = pytest.importorskip("playwright.async_api")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    directory = tmp_path_factory.mktemp("vendor")
    with running_sandbox(directory) as running:
        done = subprocess.run(
            [sys.executable, "-m", "gateway", "samples", "./samples", "--count", "3"],
            cwd=directory, env=clean_env(), capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        yield running


@pytest.fixture
async def page(sandbox: Sandbox) -> AsyncIterator[Any]:
    _need_chromium()
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield await browser.new_page(locale="ru-RU", viewport={"width": 1280, "height": 900})
        finally:
            await browser.close()


async def _upload(page: Any, sandbox: Sandbox, name: str) -> None:
    await page.goto(f"{sandbox.url}/ui/sandbox")
    await page.set_input_files("#file", str(sandbox.directory / "samples" / name))
    await page.click("#do-check")
    await page.wait_for_selector("#verdict")


async def test_a_defective_upload_is_reported_with_its_code(page: Any, sandbox: Sandbox) -> None:
    await _upload(page, sandbox, "defect-role-policy-position.json")
    assert page.url.endswith("/ui/sandbox/check")  # no login on the way
    assert "ОТКЛОНЕНА" in await page.inner_text("#verdict")
    codes = await page.locator("#report td.code").all_inner_texts()
    assert codes[0] == "POSITION_TO_ROLE_MISMATCH"
    await shot(page, "vendor-check-rejected")
    # the same report `check` gives
    report = json.loads(await page.text_content("#report-json") or "")
    assert report["passed"] is False and report["flk"][0]["code"] == "POSITION_TO_ROLE_MISMATCH"


async def test_the_report_follows_the_page_language(sandbox: Sandbox) -> None:
    """An English browser gets the FLK report in English (the same codes); the RU switch turns the
    same report Russian."""
    _need_chromium()
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = await browser.new_page(locale="en-US", viewport={"width": 1280, "height": 900})
            await _upload(page, sandbox, "defect-role-policy-position.json")
            assert "REJECTED" in await page.inner_text("#verdict")
            assert await page.get_attribute("html", "lang") == "en"
            report = json.loads(await page.text_content("#report-json") or "")
            first = report["flk"][0]
            assert first["code"] == "POSITION_TO_ROLE_MISMATCH"
            assert first["message"] == first["message_en"] and "does not fit role" in first["message"]
            assert first["message_ru"] != first["message_en"]
            assert "does not fit role" in await page.inner_text("#report")
            await shot(page, "vendor-check-rejected-en")
            await page.get_by_role("link", name="RU").click()
            await _upload(page, sandbox, "defect-role-policy-position.json")
            assert "ОТКЛОНЕНА" in await page.inner_text("#verdict")
            assert "не соответствует роли" in await page.inner_text("#report")
        finally:
            await browser.close()


async def test_a_schematron_defect_names_the_ministrys_rule(page: Any, sandbox: Sandbox) -> None:
    await _upload(page, sandbox, "defect-semd-schematron-121.json")
    assert await page.locator("#report td.code").all_inner_texts() == ["XML_VALIDATION_ERROR"]
    assert "Extra02-1." in await page.inner_text("#report")


async def test_a_valid_upload_passes(page: Any, sandbox: Sandbox) -> None:
    await _upload(page, sandbox, "valid-121-0.json")
    assert "ПРОЙДЕНА" in await page.inner_text("#verdict")


async def test_keys_profiles_and_own_submissions(page: Any, sandbox: Sandbox) -> None:
    body = json.loads((sandbox.directory / "samples" / "valid-187-1.json").read_text("utf-8"))
    done = subprocess.run(
        ["curl", "-sSf", "-H", f"Authorization: Bearer {sandbox.token}", "-H", "Content-Type: application/json",
         "--data-binary", "@-", f"{sandbox.url}/api/v1/submissions"],
        input=json.dumps(body), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    await page.goto(f"{sandbox.url}/ui/sandbox")
    pem = http_get(f"{sandbox.url}/ui/sandbox/keys/vk-chair").decode()
    assert pem.count("BEGIN CERTIFICATE") >= 2 and "PRIVATE KEY" in pem
    assert await page.locator("#key-mse-head").count() == 1
    await page.select_option("#profile-select-remd", "flaky")
    await page.click("#profile-remd button")
    assert "remd → flaky" in await page.inner_text("#profile-message")
    await page.goto(f"{sandbox.url}/ui/sandbox")  # the page asks the twin itself what it runs
    assert await page.inner_text("#profile-remd strong") == "flaky"
    await page.select_option("#profile-select-remd", "none")
    await page.click("#profile-remd button")
    link = page.locator("#mine a", has_text=body["local_uid"])
    await link.click()
    await page.wait_for_selector("#timeline")
    assert "RECEIVED" in await page.inner_text("#timeline")
    await shot(page, "vendor-submission")


def _twin_url(sandbox: Sandbox, name: str) -> str:
    """The twin's URL from the banner the running sandbox printed."""
    banner = (sandbox.directory / "sandbox.log").read_text()
    match = re.search(rf"^  twin {re.escape(name)}\s+(http://\S+) ", banner, re.M)
    assert match, banner
    return match.group(1)


async def test_every_twin_switches_its_own_profile_audited(page: Any, sandbox: Sandbox) -> None:
    await page.goto(f"{sandbox.url}/ui/sandbox")
    lists = {
        name: await page.locator(f"#profile-select-{name} option").all_inner_texts()
        for name in ("remd", "gis-77", "eaviias", "shep")
    }
    # each twin lists its own protocol's profiles
    assert "egisz-2023" in lists["remd"] and lists["gis-77"] == lists["remd"]
    assert {"rejecting", "eaviias", "mse-loop-2023"} <= set(lists["eaviias"]) and "egisz-2023" not in lists["eaviias"]
    assert "refusing" in lists["shep"] and "rejecting" not in lists["shep"]
    for name, profile in (("eaviias", "rejecting"), ("shep", "refusing")):
        await page.select_option(f"#profile-select-{name}", profile)
        await page.click(f"#profile-{name} button")
        assert f"{name} → {profile}" in await page.inner_text("#profile-message")
        # the twin itself now runs it (asked directly, not through the page)
        assert json.loads(http_get(f"{_twin_url(sandbox, name)}/_sandbox/profile"))["profile"] == profile
    await page.goto(f"{sandbox.url}/ui/sandbox")
    assert await page.inner_text("#profile-eaviias strong") == "rejecting"
    assert await page.inner_text("#profile-shep strong") == "refusing"
    await shot(page, "vendor-profiles")
    for name in ("eaviias", "shep"):  # back, for the other tests of this module
        await page.select_option(f"#profile-select-{name}", "none")
        await page.click(f"#profile-{name} button")
    with sqlite3.connect(sandbox.directory / "var" / "gateway.sqlite3") as db:
        rows = db.execute(
            "SELECT username, action, outcome, comment FROM ui_audit WHERE action = 'twin-profile'"
        ).fetchall()
    comments = [r[3] for r in rows]
    assert "eaviias: none → rejecting" in comments and "shep: none → refusing" in comments, rows
    assert all(r[0].startswith("vendor-page@127.0.0.1") and r[2] == "ok" for r in rows), rows


async def test_without_the_sandbox_there_is_no_vendor_page(tmp_path: Path) -> None:
    from gateway.app import create_app

    app = create_app(make_config(tmp_path))
    async with TestClient(TestServer(app)) as client:
        resp = await client.get("/ui/sandbox", allow_redirects=False)
        assert resp.status == 302 and resp.headers["Location"] == "/ui/login"
        resp = await client.get("/ui/sandbox/keys/vk-chair", allow_redirects=False)
        assert resp.status == 302
