"""The polling test peer through the whole gateway and the real journal: one leased receiver per
instance takes the peer's queue; progress shows on the timeline without a state change; a crash
between "answer recorded" and "ack sent" records the answer once and retries the ack."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.delivery.receiver import RECEIVERS_KEY
from gateway.journal.peer_messages import ReceiverLeases
from gateway.model import State

from .kit import event_rows, gateway_config, inbox_rows, journal_of, queued, running, state_is, until
from .polling_peer import PROTOCOL, Message, PollingPlugin


def _config(tmp_path: Path, db_url: str) -> Any:
    return gateway_config(tmp_path, {"smev": {"protocol": PROTOCOL}}, "smev", db_url)


async def test_answers_are_polled_progress_then_outcome(tmp_path: Path, db_url: str) -> None:
    plugin = PollingPlugin()
    queue = plugin.queue("smev")
    async with running(_config(tmp_path, db_url), {PROTOCOL: plugin}) as client:
        journal = journal_of(client)
        receiver = client.app[RECEIVERS_KEY]["smev"]
        sub = await queued(journal, "smev")
        done = await until(lambda: state_is(journal, sub.id, State.REGISTERED))
        assert done.outcome_source == "callback"
        assert await ReceiverLeases(journal).holder("smev") == receiver.owner  # one poller, leased
        timeline = await event_rows(journal, sub.id)
        progress = [e for e in timeline if e.kind == "progress"]
        assert [(e.code, e.to_state) for e in progress] == [("queued", None)]
        assert [e.to_state for e in timeline if e.kind == "state"][-2:] == ["SENT", "REGISTERED"]
        await until(lambda: _empty(queue))
        assert len(queue.acked) == 2 and len(await inbox_rows(journal, peer="smev")) == 2
    assert await ReceiverLeases(journal).holder("smev") is None  # released on stop


async def _empty(queue: Any) -> bool:
    return not queue.messages


async def test_crash_between_recorded_and_ack_records_once_and_retries_the_ack(tmp_path: Path, db_url: str) -> None:
    plugin = PollingPlugin()
    queue = plugin.queue("smev")
    queue.ack_fails = True  # every ack is lost: the peer redelivers what the gateway already recorded
    config = _config(tmp_path, db_url)
    async with running(config, {PROTOCOL: plugin}) as client:
        journal = journal_of(client)
        sub = await queued(journal, "smev")
        await until(lambda: _acks_tried(queue, 3))  # recorded, then the ack failed three times
        assert queue.messages and not queue.acked
    # The gateway restarts; the peer still holds both messages (the first one already recorded).
    queue.ack_fails = False
    async with running(config, {PROTOCOL: plugin}) as client:
        journal = journal_of(client)
        await until(lambda: _empty(queue))
        assert (await journal.get(sub.id)).state is State.REGISTERED
        timeline = await event_rows(journal, sub.id)
        assert len([e for e in timeline if e.kind == "progress"]) == 1
        assert len([e for e in timeline if e.to_state == "REGISTERED"]) == 1
        for message_id in queue.acked:
            assert len(await inbox_rows(journal, peer="smev", peer_message_id=message_id)) == 1
        assert len(queue.acked) == 2 and queue.ack_attempts >= 5


async def _acks_tried(queue: Any, n: int) -> bool:
    return bool(queue.ack_attempts >= n)


async def test_an_answer_on_the_queue_to_nothing_we_sent_changes_nothing(tmp_path: Path, db_url: str) -> None:
    plugin = PollingPlugin()
    queue = plugin.queue("smev")
    queue.auto_answer = False
    async with running(_config(tmp_path, db_url), {PROTOCOL: plugin}) as client:
        journal = journal_of(client)
        sub = await queued(journal, "smev")
        await until(lambda: state_is(journal, sub.id, State.SENT))
        queue.messages.append(Message("forged-1", sub.local_uid, "not-our-message-id", success=True))
        queue.messages.append(Message("forged-2", sub.local_uid, None, success=False, codes=("BAD",)))
        await until(lambda: _empty(queue))  # taken and acknowledged: the peer need not send them again
        assert (await journal.get(sub.id)).state is State.SENT
        rows = await inbox_rows(journal, peer="smev", kind="unattributed")
        assert sorted(r.peer_message_id for r in rows) == ["forged-1", "forged-2"]


async def test_no_answer_from_a_peer_without_idempotent_resend_is_never_resent(tmp_path: Path, db_url: str) -> None:
    """The send timed out but the peer took it: no blind resend (the peer would register twice);
    the submission waits in SENT and the peer's answer on the queue registers it."""
    plugin = PollingPlugin()
    queue = plugin.queue("smev")
    queue.lose_answers = 1
    async with running(_config(tmp_path, db_url), {PROTOCOL: plugin}) as client:
        journal = journal_of(client)
        sub = await queued(journal, "smev")
        await until(lambda: state_is(journal, sub.id, State.REGISTERED))
        assert len(queue.sent) == 1
        codes = [e.code for e in await event_rows(journal, sub.id) if e.kind == "state"]
        assert "MAY_HAVE_ARRIVED" in codes
