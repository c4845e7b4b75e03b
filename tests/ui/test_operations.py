"""Operator actions at the journal level, on SQLite and PostgreSQL: CANCELLED is final and never
reaches a worker, a bulk action acts on what its preview counted, and the list filters select the
same rows on both databases."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from gateway.journal.schema import events, notifications
from gateway.journal.store import Journal
from gateway.model import FINAL_STATES, State, SubmissionDraft
from gateway.ui import actions, bulk
from gateway.ui.lists import ListFilter, fetch_page
from gateway.ui.queries import read
from gateway.ui.schema import ui_audit


def draft(**kw: object) -> SubmissionDraft:
    content = uuid.uuid4().bytes
    fields: dict[str, object] = {
        "source_system": "mis-test",
        "local_uid": str(uuid.uuid4()),
        "kind": "121",
        "organization_oid": "1.2.643.5.1.13.13.12.2.77.7973",
        "content_hash": hashlib.sha256(content).hexdigest(),
        "payload": content,
        "region": "77",
        **kw,
    }
    return SubmissionDraft(**fields)  # type: ignore[arg-type]


S = State


async def _at(journal: Journal, state: State, **kw: object) -> str:
    sub, _ = await journal.submit(draft(destination="remd", **kw))
    await journal.transition(sub.id, S.VALIDATED, actor="t")
    await journal.transition(sub.id, S.QUEUED, actor="t")
    if state is S.RETRY_WAIT:
        await journal.transition(sub.id, S.RETRY_WAIT, actor="t")
    elif state in (S.DEAD, S.FAILED, S.SENT):
        await journal.transition(sub.id, state, actor="t")
    return sub.id


async def test_cancel_is_final_notified_and_never_claimed(journal: Journal) -> None:
    sid = await _at(journal, S.QUEUED, callback_url="https://mis.example/cb")
    done = await actions.perform(journal, sid, actions.Action.CANCEL, username="olga", comment="duplicate")
    assert (done.from_state, done.to_state) == (S.QUEUED, S.CANCELLED)
    sub = await journal.get(sid)
    assert sub.state is S.CANCELLED and S.CANCELLED in FINAL_STATES and sub.outcome_code == "OPERATOR_CANCELLED"
    # the MIS is owed a notice, like of any final state
    async with journal.engine.connect() as conn:
        owed = (await conn.execute(sa.select(notifications.c.state).where(notifications.c.submission_id == sid))).all()
    assert [r.state for r in owed] == ["pending"]
    # no worker can take it: neither the delivery claim nor the reconciler's
    for states in ([S.QUEUED, S.RETRY_WAIT], [S.SENT, S.RECONCILING], list(State)):
        claimed = await journal.claim_due("w", [s for s in states if s is not S.CANCELLED], limit=10, lease_seconds=30)
        assert sid not in {c.id for c in claimed}
    # and nothing moves it on
    for target in State:
        with pytest.raises(Exception):
            await journal.transition(sid, target, actor="worker")


async def test_cancel_is_refused_while_a_worker_holds_the_row(journal: Journal) -> None:
    sid = await _at(journal, S.QUEUED)
    claimed = await journal.claim_due("worker-1", [S.QUEUED], limit=1, lease_seconds=60)
    assert [c.id for c in claimed] == [sid]
    with pytest.raises(actions.ActionRefused):
        await actions.perform(journal, sid, actions.Action.CANCEL, username="olga", comment="stop it")
    assert (await journal.get(sid)).state is S.QUEUED
    async with journal.engine.connect() as conn:
        outcome = (await conn.execute(sa.select(ui_audit.c.outcome).where(ui_audit.c.submission_id == sid))).scalar()
    assert outcome == "refused"
    await journal.release("worker-1")
    await actions.perform(journal, sid, actions.Action.CANCEL, username="olga", comment="stop it")
    assert (await journal.get(sid)).state is S.CANCELLED


async def test_cancel_applies_to_the_four_states_only(journal: Journal) -> None:
    for state in (S.QUEUED, S.RETRY_WAIT, S.DEAD, S.FAILED):
        sid = await _at(journal, state)
        await actions.perform(journal, sid, actions.Action.CANCEL, username="o", comment="c")
        assert (await journal.get(sid)).state is S.CANCELLED, state
    sent = await _at(journal, S.SENT)
    with pytest.raises(actions.ActionRefused):
        await actions.perform(journal, sent, actions.Action.CANCEL, username="o", comment="c")


async def test_bulk_resend_acts_on_what_the_preview_counted(journal: Journal) -> None:
    dead = [await _at(journal, S.DEAD, region="50") for _ in range(5)]
    await _at(journal, S.SENT, region="50")  # matched, not applicable
    await _at(journal, S.DEAD, region="77")  # not matched
    selection = ListFilter(region="50")
    plan = await bulk.preview(journal, actions.Action.RESEND, selection, now=journal.clock.now())
    assert (plan.matched, plan.applicable, plan.not_applicable) == (6, 5, {"SENT": 1})
    assert set(plan.ids) == set(dead)
    batches: list[int] = []
    result = await bulk.run(
        journal, actions.Action.RESEND, plan.ids, username="olga", comment="peer back", batch=2,
        after_batch=lambda r: batches.append(r.ok),
    )  # fmt: skip
    assert (result.ok, result.refused, result.missing) == (5, 0, 0) and batches == [2, 4, 5]
    assert result.queued_destinations == {"remd": 5}
    for sid in dead:
        assert (await journal.get(sid)).state is S.QUEUED
    async with journal.engine.connect() as conn:
        audited = (await conn.execute(sa.select(ui_audit.c.action, sa.func.count()).group_by(ui_audit.c.action))).all()
        timeline = (
            await conn.execute(sa.select(sa.func.count()).where(events.c.code == "OPERATOR_RESEND"))
        ).scalar_one()
    assert dict(audited) == {"resend": 5, "bulk-resend": 1} and timeline == 5
    # run again: every one of them is refused now (QUEUED), nothing is sent twice
    again = await bulk.run(journal, actions.Action.RESEND, plan.ids, username="olga", comment="again")
    assert (again.ok, again.refused) == (0, 5)
    with pytest.raises(ValueError, match="comment"):
        await bulk.run(journal, actions.Action.RESEND, plan.ids, username="olga", comment="  ")


async def test_list_filters_agree_on_both_databases(journal: Journal) -> None:
    a = await _at(journal, S.DEAD, local_uid="ABC_1%x", region="50")
    b = await _at(journal, S.DEAD, local_uid="ABC-2", region="50")
    await _at(journal, S.QUEUED, local_uid="XYZ-1", region="77", kind="35")
    now = journal.clock.now()
    async with read(journal.engine) as conn:
        # "_" and "%" in a prefix are characters, not wildcards
        page = await fetch_page(conn, ListFilter(q="ABC_"), now=now)
        assert [r.id for r in page.rows] == [a]
        page = await fetch_page(conn, ListFilter(q="ABC", order="old"), now=now)
        assert [r.id for r in page.rows] == [a, b] and page.total == 2
        page = await fetch_page(conn, ListFilter(view="needs-operator", per_page=1, page=2, order="old"), now=now)
        assert [r.id for r in page.rows] == [b] and page.total == 2 and page.pages == 2
        page = await fetch_page(conn, ListFilter(kind="35"), now=now)
        assert page.total == 1 and page.causes == [("QUEUED", None, 1)]
        page = await fetch_page(conn, ListFilter(min_age_hours=1), now=now + timedelta(minutes=30))
        assert page.total == 0


def test_a_filter_round_trips_through_its_url() -> None:
    from multidict import MultiDict

    f = ListFilter(states=(S.DEAD, S.FAILED), code="HTTP_503", mis="mis-a", region="50", kind="121", peer="remd",
                   q="uid-", min_age_hours=2.5, view="needs-operator", order="old", page=3, per_page=20)  # fmt: skip
    from urllib.parse import parse_qsl

    assert ListFilter.from_query(MultiDict(parse_qsl(f.query_string()))) == f
    # garbage is dropped, not an error
    junk = ListFilter.from_query(
        MultiDict({"state": "NOPE", "age": "-1", "page": "x", "view": "drop table", "per_page": "99999"})
    )
    assert junk == ListFilter(per_page=500)


async def test_trends_per_hour_and_day_and_per_peer(journal: Journal) -> None:
    from gateway.ui.trends import peer_trends, trend

    start = journal.clock.now()
    ok = await _at(journal, S.SENT)
    await journal.transition(ok, S.REGISTERED, actor="t")
    await _at(journal, S.FAILED)
    await _at(journal, S.RETRY_WAIT)
    sub, _ = await journal.submit(draft(destination="remd"))
    await journal.transition(sub.id, S.REJECTED, actor="t")
    async with read(journal.engine) as conn:
        hourly = await trend(conn, since=start - timedelta(hours=2), until=start + timedelta(hours=1), unit="hour")
        daily = await trend(conn, since=start - timedelta(days=1), until=start + timedelta(days=1), unit="day")
        peers = await peer_trends(conn, since=start - timedelta(days=1), until=start + timedelta(days=1))
    for t in (hourly, daily):
        totals = {name: sum(values) for name, values in t.series.items()}
        assert totals == {"received": 4, "registered": 1, "rejected": 1, "failed": 1}, t.unit
    # buckets run from the truncated start hour to the end: 20, 21, 22 and 23 for a start at 22:xx
    assert len(hourly.buckets) == 4 and hourly.buckets[2] == start.strftime("%Y-%m-%d %H")
    assert len(daily.buckets) == 3 and daily.buckets[1] == start.strftime("%Y-%m-%d")
    assert daily.series["received"][1] == 4
    (remd,) = peers
    # sends out of QUEUED: SENT, FAILED, RETRY_WAIT = 3; errors: FAILED and RETRY_WAIT
    assert (remd.peer, remd.sends, remd.errors, remd.registered) == ("remd", 3, 2, 1)
    assert remd.mean_minutes is not None and remd.mean_minutes >= 0
