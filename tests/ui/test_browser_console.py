"""The operations console in real headless Chromium: a bookmarked filter URL, a bulk resend with
preview and audit, acknowledging and silencing an alert, disabling a user ending their session,
the overview's links landing on matching lists, and every page at 390 px without horizontal page
overflow (``scrollWidth`` measured in the browser). Screenshots go to test-artifacts/ui/ (and
docs/img/ with MSEG_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import sqlalchemy as sa

from gateway.model import State
from gateway.ui.schema import ui_audit
from gateway.ui.users import Role, UserStore

from .conftest import PASSWORD
from .test_browser import Site, browser, login, shot, site  # noqa: F401 - fixtures

__all__: list[str] = []


async def _total(page: Any) -> int:
    return int(await page.locator("#list-total").get_attribute("data-total"))


async def test_a_bookmarked_filter_url_reproduces_the_list(site: Site, browser: Any) -> None:  # noqa: F811
    page = await browser.new_page(locale="ru-RU", viewport={"width": 1280, "height": 900})
    await login(page, site, "victor")
    await page.goto(f"{site.base}/ui/list")
    # build the filter with the form (selects, not free text), as an operator would
    await page.select_option("#lf-state", "FAILED")
    await page.select_option("#lf-kind", "121")
    await page.fill("#lf-region", "77")
    await page.get_by_role("button", name="Показать").click()
    await page.wait_for_load_state()
    bookmarked = page.url
    assert "state=FAILED" in bookmarked and "kind=121" in bookmarked and "region=77" in bookmarked
    rows = await page.locator("#list tbody tr[data-id]").evaluate_all("rs => rs.map(r => r.dataset.id)")
    assert set(rows) == {site.seeded.ids["fail-77-0"], site.seeded.ids["fail-77-1"]} and await _total(page) == 2
    assert "2 Отказ узла = 2 INVALID_SIGNATURE" in re.sub(r"\s+", " ", await page.locator("#causes").inner_text())
    await shot(page, "13-list")
    # the bookmark, opened later in another browser, shows the same list and the same form
    other = await (await browser.new_context(locale="ru-RU", viewport={"width": 1280, "height": 900})).new_page()
    await login(other, site, "olga")
    await other.goto(bookmarked)
    again = await other.locator("#list tbody tr[data-id]").evaluate_all("rs => rs.map(r => r.dataset.id)")
    assert set(again) == set(rows)
    assert await other.locator("#lf-state").input_value() == "FAILED"
    assert await other.locator("#lf-kind").input_value() == "121"


async def test_bulk_resend_of_a_filter_with_preview_and_audit(site: Site, browser: Any) -> None:  # noqa: F811
    page = await browser.new_page(locale="ru-RU", viewport={"width": 1280, "height": 900})
    await login(page, site, "olga")
    await page.goto(f"{site.base}/ui/list?view=needs-operator")
    assert await _total(page) == 2
    await page.get_by_label("все по фильтру").check()
    await page.get_by_role("button", name="Отправить повторно…").click()
    await page.wait_for_url("**/ui/bulk/preview")
    preview = page.locator("#bulk-preview")
    assert await preview.get_attribute("data-applicable") == "2"
    assert "2 документов будут отправлены повторно" in await preview.inner_text()
    await shot(page, "14-bulk-preview")
    await page.get_by_label("Комментарий (обязательно)").fill("РЭМД снова принимает")
    await page.get_by_role("button", name="Выполнить").click()
    await page.wait_for_url("**done=bulk-resend**")
    assert await page.locator('[data-field="bulk-ok"]').inner_text() == "2"
    assert await _total(page) == 0  # the same list, now empty
    for label in ("dead-0", "patient-doc"):
        sid = site.seeded.ids[label]
        assert (await site.journal.get(sid)).state is State.QUEUED
    async with site.journal.engine.connect() as conn:
        rows = (await conn.execute(sa.select(ui_audit).where(ui_audit.c.action.in_(["resend", "bulk-resend"])))).all()
    assert sorted((r.action, r.username) for r in rows) == [
        ("bulk-resend", "olga"), ("resend", "olga"), ("resend", "olga"),
    ]  # fmt: skip
    # the per-document audit is visible on each document's page
    await page.goto(f"{site.base}/ui/messages/{site.seeded.ids['dead-0']}")
    assert "РЭМД снова принимает" in await page.locator("table.audit").inner_text()


async def test_acknowledge_and_silence_an_alert(site: Site, browser: Any) -> None:  # noqa: F811
    page = await browser.new_page(locale="ru-RU", viewport={"width": 1280, "height": 900})
    await login(page, site, "olga")
    for _ in range(50):  # the evaluator runs every 0.2 s
        await page.goto(f"{site.base}/ui/alerts")
        if await page.locator('tr.firing[data-rule="dead-items"]').count():
            break
        await asyncio.sleep(0.2)
    row = page.locator('tr[data-rule="dead-items"]')
    assert "док." in await row.locator('[data-field="value"]').inner_text()  # a value with its unit
    assert "webhook не настроен" in await row.locator('[data-field="notified"]').inner_text()
    await page.locator("#ack-dead-items").click()
    await page.wait_for_url("**done=ack")
    assert "olga" in await page.locator('tr[data-rule="dead-items"] [data-field="ack"]').inner_text()
    circuit = page.locator('tr[data-rule="circuit-open"]')
    await circuit.locator("select").select_option("4")
    await circuit.get_by_placeholder("Комментарий (обязательно)").fill("плановые работы РЭМД")
    await page.locator("#silence-circuit-open").click()
    await page.wait_for_url("**done=silence")
    silenced = await page.locator('tr[data-rule="circuit-open"] [data-field="silence"]').inner_text()
    assert "заглушено до" in silenced and "плановые работы РЭМД" in silenced
    await shot(page, "06-alerts")
    async with site.journal.engine.connect() as conn:
        done = (await conn.execute(sa.select(ui_audit.c.action).where(ui_audit.c.action.like("alert-%")))).all()
    assert sorted(r.action for r in done) == ["alert-ack", "alert-silence"]


async def test_disabling_a_user_ends_their_session(site: Site, browser: Any) -> None:  # noqa: F811
    await UserStore(site.journal.engine).add("anna", PASSWORD, Role.ADMIN)
    victor = await (await browser.new_context(locale="ru-RU")).new_page()
    await login(victor, site, "victor")
    admin = await (await browser.new_context(locale="ru-RU", viewport={"width": 1280, "height": 900})).new_page()
    await login(admin, site, "anna")
    await admin.goto(f"{site.base}/ui/users")
    await admin.locator("#disable-victor").click()
    await admin.wait_for_url("**done=disable")
    assert await admin.locator('tr[data-user="victor"] [data-field="status"]').inner_text() == "отключён"
    await shot(admin, "15-users")
    await victor.goto(f"{site.base}/ui/queues")
    assert victor.url.endswith("/ui/login")  # his session ended at once
    await victor.fill("#username", "victor")
    await victor.fill("#password", PASSWORD)
    await victor.press("#password", "Enter")
    await victor.wait_for_load_state()
    assert victor.url.endswith("/ui/login")  # and he cannot sign in again


async def test_overview_links_land_on_matching_lists(site: Site, browser: Any) -> None:  # noqa: F811
    page = await browser.new_page(locale="ru-RU", viewport={"width": 1280, "height": 900})
    await login(page, site, "victor")
    overview = f"{site.base}/ui/overview?from=2026-11-01&to=2026-11-30"
    for name in ("received", "registered", "failed", "rejected", "awaiting", "in_progress", "dead", "reconciled"):
        await page.goto(overview)
        shown = int(await page.locator(f'[data-field="{name}"]').first.inner_text())
        await page.locator(f'[data-link="{name}"]').click()
        await page.wait_for_url("**/ui/list?**")
        assert await _total(page) == shown, name
    await page.goto(overview)
    await page.locator("#failed-by-code a", has_text="INVALID_SIGNATURE").click()
    await page.wait_for_url("**/ui/list?**")
    assert await _total(page) == 2


PHONE_PAGES = (
    "/ui/overview?from=2026-11-01&to=2026-11-30",
    "/ui/rejections?from=2026-11-01&to=2026-11-30",
    "/ui/sla?from=2026-11-01&to=2026-11-30",
    "/ui/queues",
    "/ui/list?view=needs-operator",
    "/ui/list",
    "/ui/messages",
    "/ui/alerts",
    "/ui/unattributed",
    "/ui/users",
    "/ui/audit",
)


async def test_every_page_fits_a_390px_phone(site: Site, browser: Any) -> None:  # noqa: F811
    await UserStore(site.journal.engine).add("anna", PASSWORD, Role.ADMIN)
    context = await browser.new_context(locale="ru-RU", viewport={"width": 390, "height": 844}, device_scale_factor=1)
    page = await context.new_page()
    await login(page, site, "anna")
    detail = f"/ui/messages/{site.seeded.ids['reg-77-0']}"
    overflowing = {}
    for path in (*PHONE_PAGES, detail):
        await page.goto(f"{site.base}{path}")
        width = await page.evaluate("document.documentElement.scrollWidth")
        viewport = await page.evaluate("document.documentElement.clientWidth")
        if width > viewport:
            overflowing[path] = width
    assert overflowing == {}, f"wider than the 390 px screen: {overflowing}"
    for path, name in ((PHONE_PAGES[0], "16-phone-overview"), (PHONE_PAGES[4], "17-phone-list")):
        await page.goto(f"{site.base}{path}")
        await shot(page, name)
