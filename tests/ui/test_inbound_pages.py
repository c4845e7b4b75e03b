"""The inbound documents pages: flagged documents are listed with their coded reason (personal
data masked), and an operator's release or dismiss is applied and audited; a viewer cannot act."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from gateway.inbound.contract import InboundReason, InboundState
from gateway.journal.inbound import InboundJournal, NewInbound, StoredContent
from gateway.ui.schema import ui_audit

from .conftest import UiGateway
from .test_metrics import _scrape

SNILS = "112-233-445 95"


async def _flagged(gw: UiGateway, n: int = 1) -> str:
    content = StoredContent(document=f"<doc n='{n}'/>".encode(), document_mime="application/xml", signatures=())
    record, _ = await InboundJournal(gw.journal).record(
        NewInbound(
            peer="remd",
            peer_document_id=f"EMDR-{n}",
            kind="35",
            recipient_oid="1.2.643.5.1.13.13.12.2.77.7973",
            content=content,
            sha256=hashlib.sha256(content.document).hexdigest(),
            peer_ids={},
            referral_local_uid="ref-1",
            flag=(InboundReason.ROLE_POLICY, f"signed by {SNILS}, not the bureau head"),
        )
    )
    assert record.state is InboundState.FLAGGED
    return record.id


async def test_list_and_detail_show_the_reason_masked(gw: UiGateway) -> None:
    doc = await _flagged(gw)
    await gw.login("victor")
    page = await (await gw.client.get("/ui/inbound")).text()
    assert "INBOUND_ROLE_POLICY" in page and doc in page
    assert SNILS not in page and "112-233-445" not in page
    detail = await gw.client.get(f"/ui/inbound/{doc}")
    text = await detail.text()
    assert detail.status == 200 and "INBOUND_ROLE_POLICY" in text and SNILS not in text
    assert 'id="viewer-note"' in text and 'id="do-release"' not in text
    csrf = await gw.csrf(f"/ui/inbound/{doc}")
    refused = await gw.client.post(f"/ui/inbound/{doc}/release", data={"csrf": csrf, "comment": "x"})
    assert refused.status == 403
    assert (await InboundJournal(gw.journal).get(doc)).state is InboundState.FLAGGED  # type: ignore[union-attr]
    samples = await _scrape(gw)
    key = ("mse_gateway_inbound_documents", (("reason", "INBOUND_ROLE_POLICY"), ("state", "FLAGGED")))
    assert samples[key] == 1


async def test_operator_releases_and_dismisses_audited(gw: UiGateway) -> None:
    released, dismissed = await _flagged(gw, 1), await _flagged(gw, 2)
    await gw.login("olga")
    csrf = await gw.csrf(f"/ui/inbound/{released}")
    no_comment = await gw.client.post(
        f"/ui/inbound/{released}/release", data={"csrf": csrf, "comment": " "}, allow_redirects=False
    )
    assert no_comment.status == 303 and "done=comment" in no_comment.headers["Location"]
    inbound = InboundJournal(gw.journal)
    assert (await inbound.get(released)).state is InboundState.FLAGGED  # type: ignore[union-attr]
    for doc, action in ((released, "release"), (dismissed, "dismiss")):
        resp = await gw.client.post(
            f"/ui/inbound/{doc}/{action}",
            data={"csrf": csrf, "comment": "checked with the bureau"},
            allow_redirects=False,
        )
        assert resp.status == 303 and f"done={action}" in resp.headers["Location"], await resp.text()
    after_release, after_dismiss = await inbound.get(released), await inbound.get(dismissed)
    assert after_release is not None and after_release.state is InboundState.RELEASED
    assert after_release.offer_seq is not None
    assert after_dismiss is not None and after_dismiss.state is InboundState.DISMISSED
    again = await gw.client.post(
        f"/ui/inbound/{released}/dismiss", data={"csrf": csrf, "comment": "too late"}, allow_redirects=False
    )
    assert "done=refused" in again.headers["Location"]
    async with gw.journal.engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(ui_audit.c.action, ui_audit.c.outcome, ui_audit.c.submission_id).where(
                    ui_audit.c.action.like("inbound-%")
                )
            )
        ).all()
    assert sorted((r.action, r.outcome, r.submission_id) for r in rows) == sorted(
        [
            ("inbound-release", "ok", released),
            ("inbound-dismiss", "ok", dismissed),
            ("inbound-dismiss", "refused", released),
        ]
    )
