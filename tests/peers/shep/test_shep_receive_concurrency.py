"""The ШЭП receiver handles several messages at once (``receive_concurrency``; issue 17, the
5,000 run): against the ШЭП/ЦБДИ twins over real HTTP, every message is still recorded once before
its delivery notification, the number in hand stays within the bound, a redelivered message is
recorded once and offered to the MIS once through the whole gateway (real journal, SQLite and
PostgreSQL), and a malformed or badly signed message does not hold up the others."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from lxml import etree
from shep_kit import Sink, rig
from test_shep_conclusion_to_mis import FAST, SEEDS, Run, _inbound, gateway

from adapters.shep import messages as m
from adapters.shep.adapter import MALFORMED_MESSAGE
from adapters.shep.sandbox import Probabilities
from gateway.flk.sample_pki import SampleSigners
from gateway.intake.submission import CanonicalSubmission
from gateway.model import FINAL_STATES, State
from gateway.peers.contract import AnswerKind, PeerOutcome, Progress

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/peers: the contract test kit
from contract.kit import inbox_rows, until

Make = Callable[..., CanonicalSubmission]
DAY = 86400.0


class SlowSink(Sink):
    """A journal that takes a while per message (so handlers overlap), counting how many are in
    hand at once and what it recorded, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.in_hand = 0
        self.most_in_hand = 0
        self.recorded: list[str] = []

    async def _slow(self, peer_message_id: str | None) -> None:
        self.in_hand += 1
        self.most_in_hand = max(self.most_in_hand, self.in_hand)
        try:
            await asyncio.sleep(0.02)
            self.recorded.append(peer_message_id or "")
        finally:
            self.in_hand -= 1

    async def __call__(self, outcome: PeerOutcome) -> None:
        await self._slow(outcome.peer_message_id)
        await super().__call__(outcome)

    async def progress(self, progress: Progress) -> None:
        await self._slow(progress.peer_message_id)
        await super().progress(progress)


def _watch_notifications(twin: Any, sink: SlowSink) -> list[tuple[str, bool]]:
    """Each delivery notification the twin receives, with whether the sink had recorded that
    message by then."""
    seen: list[tuple[str, bool]] = []
    notified = twin._notified

    def watching(sender: str, message_id: str) -> None:
        seen.append((message_id, message_id in sink.recorded))
        notified(sender, message_id)

    twin._notified = watching
    return seen


async def _send_all(r: Any, docs: list[CanonicalSubmission]) -> None:
    for doc in docs:
        answer = await r.adapter.send(
            SimpleNamespace(local_uid=doc.local_uid), doc, message_id=r.adapter.new_message_id()
        )
        assert answer.kind is AnswerKind.ACCEPTED, answer


async def test_messages_in_hand_at_once_each_recorded_once_before_notified(make_031u: Make) -> None:
    async with rig(receive_concurrency=4, receive_amount=20) as r:
        await _send_all(r, [make_031u(seed) for seed in range(20, 32)])
        r.clock.advance(2 * DAY)  # 12 registration notices and 12 conclusions wait in the queue
        sink = SlowSink()
        seen = _watch_notifications(r.twin, sink)
        assert await r.adapter.receive(sink) == 24
        assert 1 < sink.most_in_hand <= 4  # concurrent, and bounded
        assert len(sink.recorded) == 24 and len(set(sink.recorded)) == 24
        assert len(seen) == 24 and all(recorded for _, recorded in seen), seen
        assert sorted(i for i, _ in seen) == sorted(sink.recorded)
        assert len(sink.progress_items) == 12 and len(sink.outcomes) == 12
        assert r.twin.stats.redelivered == 0 and r.twin.stats.notified == 24
        assert await r.adapter.receive(sink) == 0


async def test_one_at_a_time_when_the_setting_says_so(make_031u: Make) -> None:
    async with rig(receive_concurrency=1) as r:
        await _send_all(r, [make_031u(seed) for seed in range(40, 44)])
        r.clock.advance(2 * DAY)
        sink = SlowSink()
        seen = _watch_notifications(r.twin, sink)
        assert await r.adapter.receive(sink) == 8
        assert sink.most_in_hand == 1
        assert all(recorded for _, recorded in seen) and len(seen) == 8


async def test_a_failed_record_is_not_notified_and_the_others_are(make_031u: Make) -> None:
    async with rig(receive_concurrency=4) as r:
        await _send_all(r, [make_031u(seed) for seed in range(50, 53)])
        r.clock.advance(2 * DAY)
        sink = Sink(fail_next=1)  # the first message the journal is asked to take fails
        try:
            await r.adapter.receive(sink)
            raised = False
        except RuntimeError:
            raised = True
        assert raised  # the round reports the journal's failure: the receiver backs off
        taken = len(sink.progress_items) + len(sink.outcomes)
        assert r.twin.stats.notified == taken < r.twin.stats.delivered  # the failed one is not notified
        r.clock.advance(600)
        assert await r.adapter.receive(sink) >= 1  # it comes again after the redelivery time
        assert len(sink.progress_items) + len(sink.outcomes) == 6
        assert r.twin.stats.redelivered == r.twin.stats.delivered - 6


async def test_a_malformed_message_does_not_hold_up_the_others(make_031u: Make) -> None:
    async with rig(receive_concurrency=4) as r:
        garbage = etree.fromstring(b"<x:Unknown xmlns:x='urn:x'/>")
        r.twin._enqueue("mis-almaty", m.MessageType.RESPONSE, "someone", garbage, r.clock.now(), "75")
        await _send_all(r, [make_031u(seed) for seed in range(60, 63)])
        r.clock.advance(2 * DAY)
        sink = SlowSink()
        assert await r.adapter.receive(sink) == 7
        flagged = [o for o in sink.outcomes if o.codes and o.codes[0][0] == MALFORMED_MESSAGE]
        assert len(flagged) == 1 and flagged[0].relates_to is None
        assert sum(o.success for o in sink.outcomes) == 3 and len(sink.progress_items) == 3
        assert r.twin.stats.notified == 7  # the malformed one notified MESSAGE_NOT_ACCTEPTED: not blocking
        assert await r.adapter.receive(sink) == 0


async def _all_final(run: Run, ids: list[str]) -> bool:
    for sid in ids:
        sub = await run.journal.get(sid)
        if sub.state not in FINAL_STATES and sub.state is not State.SENT:
            return False
    return run.twin.stats_json()["waiting"] == 0


async def test_redelivered_conclusions_recorded_and_offered_once_bad_signatures_held(
    tmp_path: Path, db_url: str, signers_dir: SampleSigners
) -> None:
    """The whole gateway, default concurrency: half the delivery notifications are lost and ШЭП
    redelivers after 0.3 s, so copies of one message arrive while the first is still in hand;
    some conclusions' expert signatures do not verify. Every conclusion is recorded once and
    offered to the MIS once; the flagged ones are held and do not keep the others back."""
    profile = FAST.model_copy(
        update={
            "probabilities": Probabilities(lost_notification=0.5, bad_expert_signature=0.3),
            "redelivery_seconds": 0.3,
        }
    )
    async with gateway(tmp_path, db_url, signers_dir, profile) as run:
        subs = [await run.send(signers_dir, seed) for seed in SEEDS]
        ids = [s.id for s in subs]

        async def settled() -> bool | None:
            if not await _all_final(run, ids):
                return None
            docs = await _inbound(run.journal)
            return True if len(docs) == len(ids) else None

        await until(settled, timeout=90)
        assert run.twin.stats.redelivered > 0  # the race this test is about did happen
        assert run.twin.stats.bad_expert_signatures > 0
        docs = await _inbound(run.journal)
        assert len(docs) == len(ids)  # one per conclusion, however often redelivered
        by_state = Counter(d.state for d in docs)
        assert by_state["FLAGGED"] == run.twin.stats.bad_expert_signatures
        assert by_state["ACCEPTED"] == len(ids) - run.twin.stats.bad_expert_signatures
        registered = [sid for sid in ids if (await run.journal.get(sid)).state is State.REGISTERED]
        assert len(registered) == by_state["ACCEPTED"]  # the held ones were never applied

        async def hooked() -> bool | None:
            return True if len(run.hook.documents()) >= by_state["ACCEPTED"] else None

        await until(hooked, timeout=30)
        offered = Counter(body["id"] for _, body in run.hook.documents())
        assert len(offered) == by_state["ACCEPTED"] and set(offered.values()) == {1}
        # ШЭП's messages each recorded once in the peer inbox: a notice and a conclusion per 031/у
        assert len(await inbox_rows(run.journal, peer="shep")) == 2 * len(ids)
