"""Issue 14 item 2 on the real REMD plug-in: a registerDocumentResult posted to /remd/callback
that answers no message we sent (a made-up relatesToMessage, or none) is acknowledged, kept as
unattributed with its envelope, and leaves a RETRY_WAIT submission in RETRY_WAIT."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from adapters.remd.mapping import build_register_document_result_envelope
from adapters.remd.messages import RegisterDocumentResult, RegistryItem
from gateway.journal.inbox import Inbox
from gateway.journal.peer_messages import PeerMessages
from gateway.model import State
from gateway.peers.installed import installed_plugins

from .kit import ORG, event_rows, gateway_config, inbox_rows, journal_of, queued, running, state_is, until

SOAP = {"Content-Type": "application/soap+xml; charset=utf-8"}


def _result(local_uid: str, relates_to: str, message_id: str) -> bytes:
    item = RegistryItem("FORGED-EMDR", datetime(2026, 12, 1, tzinfo=UTC))
    result = RegisterDocumentResult(relates_to, True, "35", ORG, local_uid, registry_item=item)
    return build_register_document_result_envelope(result, message_id=message_id, to="x", relates_to=relates_to)


async def test_forged_remd_callback_on_retry_wait(tmp_path: Path, db_url: str) -> None:
    peers = {"remd": {"url": "http://127.0.0.1:9/unreachable", "max_attempts": 50}}
    config = gateway_config(tmp_path, peers, "remd", db_url)
    async with running(config, installed_plugins()) as client:
        journal = journal_of(client)
        sub = await queued(journal, "remd")
        await until(lambda: state_is(journal, sub.id, State.RETRY_WAIT))  # REMD unreachable
        for relates_to in ("made-up-message-id", ""):
            resp = await client.post(
                "/remd/callback", data=_result(sub.local_uid, relates_to, f"attacker-{relates_to}"), headers=SOAP
            )
            assert resp.status == 200, await resp.text()
        after = await journal.get(sub.id)
        assert after.state in (State.RETRY_WAIT, State.QUEUED) and after.peer_registration_id is None
        entries = await Inbox(journal).entries(kind="unattributed")
        assert len(entries) == 2 and all(e.size for e in entries)
        assert b"FORGED-EMDR" in (await Inbox(journal).body(entries[0].id) or b"")
        # The genuine answer echoes the MessageID we persisted before sending: it registers.
        (_, message_id, _), *_ = await PeerMessages(journal).ids(sub.id)
        resp = await client.post("/remd/callback", data=_result(sub.local_uid, message_id, "remd-1"), headers=SOAP)
        assert resp.status == 200
        assert (await journal.get(sub.id)).state is State.REGISTERED


async def test_a_redelivered_remd_callback_is_recorded_once_by_its_message_id(tmp_path: Path, db_url: str) -> None:
    # REMD resends a callback it got no answer to under the same wsa:MessageID: the second and third
    # copies find the first one's inbox row and change nothing
    peers = {"remd": {"url": "http://127.0.0.1:9/unreachable", "max_attempts": 50}}
    config = gateway_config(tmp_path, peers, "remd", db_url)
    async with running(config, installed_plugins()) as client:
        journal = journal_of(client)
        sub = await queued(journal, "remd")
        await until(lambda: state_is(journal, sub.id, State.RETRY_WAIT))
        (_, message_id, _), *_ = await PeerMessages(journal).ids(sub.id)
        for _ in range(3):
            resp = await client.post("/remd/callback", data=_result(sub.local_uid, message_id, "remd-7"), headers=SOAP)
            assert resp.status == 200, await resp.text()
        assert (await journal.get(sub.id)).state is State.REGISTERED
        rows = await inbox_rows(journal, peer="remd", peer_message_id="remd-7")
        assert len(rows) == 1 and rows[0].submission_id == sub.id
        registered = [e for e in await event_rows(journal, sub.id) if e.to_state == "REGISTERED"]
        assert len(registered) == 1
