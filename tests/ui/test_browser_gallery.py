"""Every console page in the Russian interface, on a desktop and on a 390 px phone, in real headless
Chromium: each answers 200 in Russian (``<html lang="ru">``), shows no untranslated catalogue key and,
on the phone, no horizontal page overflow. The screenshots are the operator guide's gallery
(test-artifacts/ui/, and docs/img/ with MSEG_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.inbound.contract import InboundReason
from gateway.journal.inbound import InboundJournal, NewInbound, StoredContent
from gateway.journal.inbox import Inbox
from gateway.journal.schema import ksi_marks
from gateway.model import EnvelopeIn
from gateway.ui.i18n import CATALOGUE
from gateway.ui.users import Role, UserStore

from .conftest import PASSWORD
from .test_browser import Site, browser, login, shot, site  # noqa: F401 - fixtures

__all__: list[str] = []

SCREENS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
PERIOD = "from=2026-11-01&to=2026-11-30"
# ``translate`` shows the key itself when the catalogue lacks it: a word shaped like a key of one
# of the catalogue's namespaces ("list.total") on a page is a text nobody wrote.
_NAMESPACES = frozenset(key.split(".", 1)[0] for key in CATALOGUE["ru"] if "." in key)


async def _seed_pages(where: Site) -> dict[str, str]:
    """What the pages beyond the journal's own rows need: KSI milestones, a flagged inbound
    document, a peer message that matches nothing. Returns ids for the detail pages."""
    ids = where.seeded.ids
    async with where.journal.writing() as conn:
        for label, registered in (("reg-77-0", 12), ("reg-77-1", 9)):
            day = 16 if label == "reg-77-0" else 19
            for name, at in (
                ("received", datetime(2026, 11, 16, 8, 0, tzinfo=UTC)),
                ("registered", datetime(2026, 11, day, registered, 0, tzinfo=UTC)),
            ):
                await conn.execute(
                    ksi_marks.insert().values(
                        submission_id=ids[label], name=name, at=at, peer="eaviias",
                        bureau="bureau-77", region="77", recorded_at=at,
                    )
                )  # fmt: skip
    content = StoredContent(document=b"<doc n='1'/>", document_mime="application/xml", signatures=())
    inbound, _ = await InboundJournal(where.journal).record(
        NewInbound(
            peer="remd",
            peer_document_id="EMDR-1",
            kind="187",
            recipient_oid="1.2.643.5.1.13.13.12.2.77.7973",
            content=content,
            sha256=hashlib.sha256(content.document).hexdigest(),
            peer_ids={},
            referral_local_uid="ref-1",
            flag=(InboundReason.ROLE_POLICY, "signed by 112-233-445 95, not the bureau head"),
        )
    )
    inbox = Inbox(where.journal)
    body = b'<?xml version="1.0"?><callback><localUid>uid-x</localUid></callback>'
    assert await inbox.unattributed(
        peer="remd", peer_message_id="m-1", relates_to="urn:uuid:nothing-we-sent", local_uid="uid-x",
        envelopes=[EnvelopeIn("in", "remd", "application/xml", body)],
    )  # fmt: skip
    (entry,) = await inbox.entries(kind="unattributed")
    return {"inbound": inbound.id, "unattributed": entry.id, "message": ids["reg-77-0"], "dead": ids["fail-77-0"]}


def _pages(ids: dict[str, str]) -> dict[str, str]:
    return {
        "overview": f"/ui/overview?{PERIOD}",
        "rejections": f"/ui/rejections?{PERIOD}",
        "sla": f"/ui/sla?{PERIOD}",
        "ksi": f"/ui/ksi?{PERIOD}",
        "queues": "/ui/queues",
        "needs-operator": "/ui/list?view=needs-operator",
        "list": "/ui/list",
        "messages": "/ui/messages",
        "message": f"/ui/messages/{ids['message']}",
        "failed-message": f"/ui/messages/{ids['dead']}",
        "inbound": "/ui/inbound",
        "inbound-document": f"/ui/inbound/{ids['inbound']}",
        "unattributed": "/ui/unattributed",
        "unattributed-message": f"/ui/unattributed/{ids['unattributed']}",
        "alerts": "/ui/alerts",
        "users": "/ui/users",
        "audit": "/ui/audit",
    }


@pytest.mark.parametrize("screen", sorted(SCREENS))
async def test_every_page_in_russian_on_desktop_and_phone(site: Site, browser: Any, screen: str) -> None:  # noqa: F811
    ids = await _seed_pages(site)
    await UserStore(site.journal.engine).add("anna", PASSWORD, Role.ADMIN)
    context = await browser.new_context(viewport=SCREENS[screen], device_scale_factor=1, locale="ru-RU")
    page = await context.new_page()
    await login(page, site, "anna")
    problems: dict[str, str] = {}
    for name, path in _pages(ids).items():
        response = await page.goto(f"{site.base}{path}")
        assert response is not None
        if response.status != 200:
            problems[name] = f"HTTP {response.status}"
            continue
        if await page.evaluate("document.documentElement.lang") != "ru":
            problems[name] = "not lang=ru"
        text = await page.evaluate("document.body.innerText")
        words = set(re.findall(r"\b[a-z_]+(?:\.[a-z0-9_-]+)+\b", text))
        leaked = sorted(word for word in words if word.split(".", 1)[0] in _NAMESPACES)
        if leaked:
            problems[name] = f"catalogue keys shown as text: {leaked}"
        if screen == "phone":
            width = await page.evaluate("document.documentElement.scrollWidth")
            viewport = await page.evaluate("document.documentElement.clientWidth")
            if width > viewport:
                problems[name] = f"{width} px wide on a {viewport} px screen"
        await shot(page, f"ru-{screen}-{name}")
    assert problems == {}
