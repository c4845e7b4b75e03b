"""The push test peer through the whole gateway (create_app with only that plug-in) and the real
journal: answers on its routes apply only when they answer a message we sent it (issue 14 item 2),
progress stays on the timeline, redeliveries are recorded once, files go only where they were sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.journal.inbox import Inbox
from gateway.journal.peer_messages import PeerMessages
from gateway.model import State
from gateway.peers.contract import Answer, AnswerKind

from .kit import due_now, event_rows, gateway_config, inbox_rows, journal_of, queued, running, state_is, until
from .push_peer import PROTOCOL, PushPlugin


def _config(tmp_path: Path, db_url: str) -> object:
    peers = {"push-a": {"protocol": PROTOCOL}, "push-b": {"protocol": PROTOCOL, "label": "b"}}
    return gateway_config(tmp_path, peers, "push-a", db_url)


async def test_progress_is_shown_without_a_state_change_then_the_answer_registers(tmp_path: Path, db_url: str) -> None:
    plugin = PushPlugin()
    async with running(_config(tmp_path, db_url), {PROTOCOL: plugin}) as client:
        journal = journal_of(client)
        sub = await queued(journal, "push-a")
        await until(lambda: state_is(journal, sub.id, State.SENT))
        ((local_uid, message_id),) = plugin.adapters["push-a"].sent
        assert await PeerMessages(journal).submission_of("push-a", message_id) == sub.id  # persisted
        body = {"local_uid": local_uid, "relates_to": message_id, "message_id": "m-1", "status": "at-bureau"}
        resp = await client.post("/push-a/callback", json=body)
        assert resp.status == 200
        assert (await journal.get(sub.id)).state is State.SENT
        progress = [e for e in await event_rows(journal, sub.id) if e.kind == "progress"]
        assert [(e.code, e.to_state) for e in progress] == [("at-bureau", None)]
        body = {"local_uid": local_uid, "relates_to": message_id, "message_id": "m-2", "success": True}
        resp = await client.post("/push-a/callback", json={**body, "registration": "R-1"})
        assert resp.status == 200
        done = await journal.get(sub.id)
        assert done.state is State.REGISTERED and done.peer_registration_id == "R-1"


async def test_forged_success_callback_leaves_retry_wait_and_is_unattributed(tmp_path: Path, db_url: str) -> None:
    """Issue 14 finding: a forged success callback turned a RETRY_WAIT submission into REGISTERED."""
    plugin = PushPlugin()
    async with running(_config(tmp_path, db_url), {PROTOCOL: plugin}) as client:
        journal = journal_of(client)
        sub = await queued(journal, "push-a", due=False)
        adapter = plugin.adapters["push-a"]
        adapter.script.extend([Answer(AnswerKind.NO_ANSWER, http_status=503, error="busy")] * 50)
        await due_now(journal, sub.id)
        await until(lambda: state_is(journal, sub.id, State.RETRY_WAIT))
        for forged in (
            {"relates_to": "made-up-message-id", "message_id": "f-1"},
            {"message_id": "f-2"},  # no relates_to at all: this peer always echoes one
            {"relates_to": adapter.sent[0][1], "message_id": "f-3", "local_uid": "someone-else"},
        ):
            body = {"local_uid": sub.local_uid, "success": True, "registration": "FAKE", **forged}
            resp = await client.post("/push-a/callback", json=body)
            assert resp.status == 200  # acknowledged: nothing for the sender to retry
        # The same answer with our message id, sent to the *other* instance, answers nothing either.
        body = {"local_uid": sub.local_uid, "relates_to": adapter.sent[0][1], "message_id": "f-4", "success": True}
        assert (await client.post("/push-b/callback", json=body)).status == 200
        after = await journal.get(sub.id)
        assert after.state in (State.RETRY_WAIT, State.QUEUED) and after.peer_registration_id is None
        assert not [e for e in await event_rows(journal, sub.id) if e.to_state == "REGISTERED"]
        unattributed = await Inbox(journal).entries(kind="unattributed")
        assert sorted(e.peer_message_id or "" for e in unattributed) == ["f-1", "f-2", "f-3", "f-4"]
        assert all(e.submission_id is None for e in unattributed)


async def test_a_redelivered_callback_is_recorded_once(tmp_path: Path, db_url: str) -> None:
    plugin = PushPlugin()
    async with running(_config(tmp_path, db_url), {PROTOCOL: plugin}) as client:
        journal = journal_of(client)
        sub = await queued(journal, "push-a")
        await until(lambda: state_is(journal, sub.id, State.SENT))
        ((local_uid, message_id),) = plugin.adapters["push-a"].sent
        body = {"local_uid": local_uid, "relates_to": message_id, "message_id": "once", "success": True}
        for _ in range(3):
            assert (await client.post("/push-a/callback", json=body)).status == 200
        callbacks = [e for e in await event_rows(journal, sub.id) if e.actor == "push-a:callback"]
        assert len(callbacks) == 1 and callbacks[0].to_state == "REGISTERED"
        assert len(await inbox_rows(journal, peer="push-a", peer_message_id="once")) == 1


async def test_resends_reuse_the_message_id_until_the_peer_asks_for_a_new_one(tmp_path: Path, db_url: str) -> None:
    plugin = PushPlugin()
    async with running(_config(tmp_path, db_url), {PROTOCOL: plugin}) as client:
        journal = journal_of(client)
        sub = await queued(journal, "push-a", due=False)
        adapter = plugin.adapters["push-a"]
        adapter.script.extend(
            [
                Answer(AnswerKind.REFUSED, codes=(("BUSY", ""),)),
                Answer(AnswerKind.REFUSED, codes=(("BUSY", ""),), renew_message_id=True),
                Answer(AnswerKind.ACCEPTED),
            ]
        )
        await due_now(journal, sub.id)
        await until(lambda: state_is(journal, sub.id, State.SENT))
        ids = [m for _, m in adapter.sent]
        assert len(ids) == 3 and ids[0] == ids[1] != ids[2]
        recorded = await PeerMessages(journal).ids(sub.id)
        assert recorded == [("push-a", ids[0], True), ("push-a", ids[2], False)]


async def test_no_new_message_id_when_a_send_under_the_old_one_may_have_arrived(tmp_path: Path, db_url: str) -> None:
    # the first send went unanswered (it may have arrived); the resend under the same id is
    # refused as stale: a new id would be a second message, so the submission waits for the answer
    plugin = PushPlugin()
    async with running(_config(tmp_path, db_url), {PROTOCOL: plugin}) as client:
        journal = journal_of(client)
        sub = await queued(journal, "push-a", due=False)
        adapter = plugin.adapters["push-a"]
        adapter.script.extend(
            [
                Answer(AnswerKind.NO_ANSWER, error="no answer within 30 s"),
                Answer(AnswerKind.REFUSED, codes=(("BUSY", "stale"),), renew_message_id=True),
            ]
        )
        await due_now(journal, sub.id)
        await until(lambda: state_is(journal, sub.id, State.SENT))
        ids = [m for _, m in adapter.sent]
        assert len(ids) == 2 and ids[0] == ids[1]
        assert await PeerMessages(journal).ids(sub.id) == [("push-a", ids[0], True)]
        codes = [e.code for e in await event_rows(journal, sub.id)]
        assert codes[-1] == "STALE_ID_MAY_HAVE_ARRIVED", codes


async def test_a_file_is_served_only_to_the_instance_it_was_sent_to(tmp_path: Path, db_url: str) -> None:
    plugin = PushPlugin()
    async with running(_config(tmp_path, db_url), {PROTOCOL: plugin}) as client:
        journal = journal_of(client)
        sent = await queued(journal, "push-a")
        waiting = await queued(journal, "push-a", due=False)  # routed to push-a, never sent
        await until(lambda: state_is(journal, sent.id, State.SENT))
        where = {"local_uid": sent.local_uid, "organization": sent.organization_oid}
        ok = await client.post("/push-a/file", json=where)
        assert ok.status == 200 and sent.local_uid.encode() in await ok.read()
        for path, uid in (("/push-b/file", sent.local_uid), ("/push-a/file", waiting.local_uid)):
            resp = await client.post(path, json={"local_uid": uid, "organization": sent.organization_oid})
            assert resp.status == 404 and (await resp.json())["error"] == "not sent"


async def test_already_there_at_a_peer_that_cannot_be_asked_waits_for_its_answer(tmp_path: Path, db_url: str) -> None:
    """No lookup: RECONCILING would stall silently; it goes back to SENT, saying why."""
    plugin = PushPlugin()
    async with running(_config(tmp_path, db_url), {PROTOCOL: plugin}) as client:
        journal = journal_of(client)
        sub = await queued(journal, "push-a", due=False)
        plugin.adapters["push-a"].script.append(Answer(AnswerKind.REFUSED, codes=(("HAVE_IT", ""),)))
        await due_now(journal, sub.id)
        await until(lambda: _has_code(journal, sub.id, "LOOKUP_UNSUPPORTED"))
        after = await journal.get(sub.id)
        assert after.state is State.SENT and after.answer_deadline is not None
        states = [e.to_state for e in await event_rows(journal, sub.id) if e.kind == "state"]
        assert states[-2:] == ["RECONCILING", "SENT"]


async def _has_code(journal: Any, sub_id: str, code: str) -> bool:
    return any(e.code == code for e in await event_rows(journal, sub_id))
