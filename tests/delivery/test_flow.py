"""The core's delivery decisions against the real journal (SQLite and PostgreSQL), one scripted
peer answer at a time: send, callbacks, retries, reconciliation, contradictions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from gateway.delivery.outcomes import CallbackRecorder
from gateway.delivery.reconciler import Reconciler
from gateway.delivery.stage import DeliveryStage
from gateway.errors import ConcurrentUpdate
from gateway.intake.submission import CanonicalSubmission
from gateway.journal.outbox import Outbox
from gateway.journal.peer_messages import PeerMessages
from gateway.journal.store import Journal
from gateway.model import State, Submission
from gateway.peers.contract import Answer, Capabilities, LookupResult, PeerOutcome

from .scripted import ScriptedAdapter, accepted, make_peer, no_answer, queued, refused

TIMEOUT_TEXT = "Не удалось зарегистрировать документ за отведенное время"


class Env:
    def __init__(
        self,
        journal: Journal,
        adapter: ScriptedAdapter | None = None,
        capabilities: Capabilities | None = None,
        **cfg: object,
    ) -> None:
        self.journal = journal
        self.adapter = adapter or ScriptedAdapter()
        self.peer = make_peer(self.adapter, journal.clock, **cfg)
        if capabilities is not None:
            self.peer.capabilities = capabilities
        self.stage = DeliveryStage(journal, self.peer)
        self.reconciler = Reconciler(journal, self.peer)
        self.callbacks = CallbackRecorder(journal, {"remd": self.peer})

    async def claim(self, state: State, column: str = "next_attempt_at") -> Submission:
        (sub,) = await self.journal.claim_due("w", [state], limit=1, lease_seconds=60, due_column=column)
        return sub

    async def send(self, sub: Submission) -> Submission:
        claimed = await self.claim(sub.state)
        await self.stage.handle(claimed, "w")
        return await self.journal.get(sub.id)

    async def callback(self, sub: Submission, success: bool, emdr: str | None = "emdr-1", codes=()) -> Submission:  # type: ignore[no-untyped-def]
        # REMD echoes the MessageID of our request (relatesToMessage): the last one we sent.
        sent = await PeerMessages(self.journal).ids(sub.id)
        await self.callbacks(
            PeerOutcome(
                peer="remd",
                local_uid=sub.local_uid,
                organization_oid=sub.organization_oid,
                success=success,
                peer_registration_id=emdr if success else None,
                codes=tuple(codes),
                relates_to=sent[-1][1] if sent else None,
            )
        )
        return await self.journal.get(sub.id)

    async def overdue(self, sub: Submission) -> Submission:
        claimed = await self.claim(State.SENT, "answer_deadline")
        await self.reconciler.handle_overdue(claimed, "w")
        return await self.journal.get(sub.id)


@pytest.fixture
def env(journal: Journal) -> Env:
    return Env(journal)


async def _expire(journal: Journal, sub: Submission) -> None:
    from gateway.journal.schema import submissions

    async with journal.engine.begin() as conn:
        await conn.execute(
            submissions.update()
            .where(submissions.c.id == sub.id)
            .values(answer_deadline=journal.clock.now() - timedelta(seconds=1), next_attempt_at=journal.clock.now())
        )


async def test_accepted_then_callback_registers_once(env: Env) -> None:
    sub = await queued(env.journal)
    env.adapter.answers.append(accepted())
    sub = await env.send(sub)
    assert sub.state is State.SENT and sub.attempts == 1
    assert sub.answer_deadline is not None and sub.answer_deadline > env.journal.clock.now() + timedelta(minutes=14)
    sub = await env.callback(sub, True)
    assert sub.state is State.REGISTERED and sub.peer_registration_id == "emdr-1" and sub.outcome_source == "callback"
    # The same callback again: recorded, nothing changes, no second notice, no flag.
    sub = await env.callback(sub, True)
    assert sub.state is State.REGISTERED and not sub.flagged
    assert await Outbox(env.journal).states(sub.id) == [("rest", "pending", 0)]
    kinds = [e.kind for e in await env.journal.events(sub.id)]
    assert kinds.count("callback") == 1


async def test_registration_timeout_is_retried_with_the_same_local_uid(env: Env) -> None:
    sub = await queued(env.journal)
    env.adapter.answers.extend([refused("ASYNC_RESPONSE_TIMEOUT", TIMEOUT_TEXT), accepted()])
    before = env.journal.clock.now()
    sub = await env.send(sub)
    assert sub.state is State.RETRY_WAIT and sub.attempts == 1
    assert sub.next_attempt_at is not None and sub.next_attempt_at >= before + timedelta(seconds=30)
    await _expire(env.journal, sub)
    sub = await env.send(sub)
    assert sub.state is State.SENT and sub.attempts == 2
    assert env.adapter.sent_local_uids == [sub.local_uid, sub.local_uid]


async def test_rate_limit_waits_a_minute(env: Env) -> None:
    sub = await queued(env.journal)
    env.adapter.answers.append(refused("RATE_LIMIT", "Достигнут защитный лимит"))
    before = env.journal.clock.now()
    sub = await env.send(sub)
    assert sub.state is State.RETRY_WAIT
    assert sub.next_attempt_at is not None and sub.next_attempt_at >= before + timedelta(seconds=60)


async def test_permanent_error_fails_with_the_code(env: Env) -> None:
    sub = await queued(env.journal)
    env.adapter.answers.append(refused("SIGNATURE_VERIFICATION_ERROR", "ЭП не прошла проверку"))
    sub = await env.send(sub)
    assert sub.state is State.FAILED and sub.outcome_code == "SIGNATURE_VERIFICATION_ERROR"
    assert await Outbox(env.journal).states(sub.id) == [("rest", "pending", 0)]


async def test_not_unique_is_reconciled_never_failed(env: Env) -> None:
    sub = await queued(env.journal)
    env.adapter.answers.append(refused("NOT_UNIQUE_PROVIDED_ID", "уже зарегистрирован"))
    env.adapter.lookups.append(LookupResult(found=True, peer_registration_id="emdr-9"))
    sub = await env.send(sub)
    assert sub.state is State.RECONCILING
    claimed = await env.claim(State.RECONCILING)
    await env.reconciler.handle_reconciling(claimed, "w")
    sub = await env.journal.get(sub.id)
    assert (sub.state, sub.peer_registration_id, sub.outcome_source) == (State.REGISTERED, "emdr-9", "reconciled")


async def test_unanswered_submission_is_found_by_reconciliation_and_late_callbacks_never_regress(env: Env) -> None:
    sub = await queued(env.journal)
    env.adapter.answers.append(accepted())
    sub = await env.send(sub)
    await _expire(env.journal, sub)
    env.adapter.lookups.append(LookupResult(found=True, peer_registration_id="emdr-1"))
    sub = await env.overdue(sub)
    assert sub.state is State.REGISTERED and sub.outcome_source == "reconciled"
    # A late callback agreeing with the reconciled outcome: noted only.
    sub = await env.callback(sub, True, "emdr-1")
    assert sub.state is State.REGISTERED and not sub.flagged
    # A late callback contradicting it: flagged for an operator, state unchanged, no second notice.
    sub = await env.callback(sub, False, codes=[("ASYNC_RESPONSE_TIMEOUT", TIMEOUT_TEXT)])
    assert sub.state is State.REGISTERED and sub.flagged
    assert await Outbox(env.journal).states(sub.id) == [("rest", "pending", 0)]
    assert [e.kind for e in await env.journal.events(sub.id)][-1] == "conflict"


async def test_another_emdr_id_in_a_late_callback_is_flagged(env: Env) -> None:
    sub = await queued(env.journal)
    env.adapter.answers.append(accepted())
    sub = await env.send(sub)
    sub = await env.callback(sub, True, "emdr-1")
    sub = await env.callback(sub, True, "emdr-2")
    assert sub.flagged and sub.peer_registration_id == "emdr-1"


async def test_not_found_is_resubmitted_with_the_same_local_uid(env: Env) -> None:
    sub = await queued(env.journal)
    env.adapter.answers.extend([accepted(), accepted()])
    sub = await env.send(sub)
    await _expire(env.journal, sub)
    env.adapter.lookups.append(LookupResult(found=False))
    sub = await env.overdue(sub)
    assert sub.state is State.QUEUED and sub.resubmits == 1 and sub.reconcile_attempts == 1
    sub = await env.send(sub)
    assert sub.state is State.SENT and env.adapter.sent_local_uids == [sub.local_uid] * 2


async def test_lookup_failures_escalate_then_dead(journal: Journal) -> None:
    env = Env(journal, max_lookups=3, reconcile_schedule_minutes=[15.0, 60.0])
    sub = await queued(journal)
    env.adapter.answers.append(accepted())
    sub = await env.send(sub)
    deadlines = []
    for _ in range(2):
        await _expire(journal, sub)
        env.adapter.lookups.append(LookupResult(found=None, error="REMD down"))
        now = journal.clock.now()
        sub = await env.overdue(sub)
        assert sub.state is State.SENT
        assert sub.answer_deadline is not None
        deadlines.append(round((sub.answer_deadline - now).total_seconds() / 60))
    assert deadlines == [60, 60]
    await _expire(journal, sub)
    env.adapter.lookups.append(LookupResult(found=None, error="REMD down"))
    sub = await env.overdue(sub)
    assert sub.state is State.DEAD and sub.outcome_code == "RECONCILIATION_EXHAUSTED"


async def test_too_many_attempts_is_dead(journal: Journal) -> None:
    env = Env(journal, max_attempts=2)
    sub = await queued(journal)
    env.adapter.answers.extend([no_answer(503), no_answer(503)])
    sub = await env.send(sub)
    assert sub.state is State.RETRY_WAIT
    await _expire(journal, sub)
    sub = await env.send(sub)
    assert sub.state is State.DEAD and sub.attempts == 2 and sub.outcome_code == "HTTP_503"


async def test_breaker_holds_sends_while_the_peer_is_down(journal: Journal) -> None:
    env = Env(journal, limits={"breaker_failures": 2, "breaker_open_seconds": 600})
    subs = [await queued(journal) for _ in range(3)]
    env.adapter.answers.extend([no_answer(), no_answer()])
    await env.send(subs[0])
    await env.send(subs[1])
    held = await env.send(subs[2])  # breaker open: no send, no state change, due later
    assert held.state is State.QUEUED and held.attempts == 0 and held.lease_owner is None
    assert held.next_attempt_at is not None and held.next_attempt_at > journal.clock.now() + timedelta(seconds=500)
    assert len(env.adapter.sent_local_uids) == 2


async def test_transient_error_callback_schedules_a_retry(env: Env) -> None:
    sub = await queued(env.journal)
    env.adapter.answers.append(accepted())
    sub = await env.send(sub)
    sub = await env.callback(sub, False, codes=[("ASYNC_RESPONSE_TIMEOUT", TIMEOUT_TEXT)])
    assert sub.state is State.RETRY_WAIT and sub.attempts == 1


async def test_success_callback_overtakes_a_scheduled_retry(env: Env) -> None:
    sub = await queued(env.journal)
    env.adapter.answers.append(refused("INTERNAL_ERROR", "Внутренняя ошибка"))
    sub = await env.send(sub)
    assert sub.state is State.RETRY_WAIT
    sub = await env.callback(sub, True, "emdr-5")
    assert sub.state is State.REGISTERED and sub.peer_registration_id == "emdr-5"


async def test_cancelled_is_never_sent_and_a_late_success_is_flagged(env: Env) -> None:
    """An operator cancels a document waiting for a retry; the peer had it after all and calls
    back "registered": the gateway keeps CANCELLED (final), never sends it again, and flags the
    contradiction for an operator."""
    from gateway.ui import actions

    sub = await queued(env.journal)
    env.adapter.answers.append(refused("INTERNAL_ERROR", "Внутренняя ошибка"))
    sub = await env.send(sub)
    assert sub.state is State.RETRY_WAIT
    await actions.perform(env.journal, sub.id, actions.Action.CANCEL, username="olga", comment="withdrawn")
    await _expire(env.journal, sub)  # its retry would be due now
    waiting = [State.QUEUED, State.RETRY_WAIT, State.SENT, State.RECONCILING]
    assert await env.journal.claim_due("w", waiting, limit=10, lease_seconds=60) == []
    assert await env.journal.claim_due("w", waiting, limit=10, lease_seconds=60, due_column="answer_deadline") == []
    sends = len(env.adapter.sent_local_uids)
    sub = await env.callback(sub, True, "emdr-7")
    assert sub.state is State.CANCELLED and sub.flagged and len(env.adapter.sent_local_uids) == sends
    assert (await env.journal.events(sub.id))[-1].code == "CONTRADICTING_CALLBACK"


class _AnswerOvertakesTheSend(ScriptedAdapter):
    """The peer's final answer is recorded while the send that it answers has not returned yet
    (a polling receiver took it between the peer's queue and the send's "accepted" commit)."""

    env: Env | None = None

    async def send(self, sub: Submission, canonical: CanonicalSubmission, *, message_id: str) -> Answer:
        assert self.env is not None
        await self.env.callback(sub, False, codes=[("SIGNATURE_VERIFICATION_ERROR", "ЭП не прошла проверку")])
        return await super().send(sub, canonical, message_id=message_id)


@pytest.mark.parametrize("once", [True, False], ids=["answers-once-per-message", "answer-per-attempt"])
async def test_an_error_answer_that_overtakes_its_send(journal: Journal, once: bool) -> None:
    adapter = _AnswerOvertakesTheSend()
    env = Env(journal, adapter, Capabilities(answers_once_per_message=once, lookup=not once))
    adapter.env = env
    adapter.answers.append(accepted())
    sub = await queued(journal)
    claimed = await env.claim(State.QUEUED)
    if once:
        # the send's own "accepted" finds the row moved (the worker loop logs this race and goes on)
        with pytest.raises(ConcurrentUpdate, match="submission is FAILED, expected QUEUED"):
            await env.stage.handle(claimed, "w")
    else:
        await env.stage.handle(claimed, "w")
    sub = await journal.get(sub.id)
    codes = [e.code for e in await journal.events(sub.id)]
    if once:
        # SMEV 3 / ШЭП: no other answer will come to this message id, so this one is the outcome
        assert sub.state is State.FAILED and sub.outcome_code == "SIGNATURE_VERIFICATION_ERROR", codes
        assert "late-callback" not in codes
    else:
        # REMD: the answer is noted on the timeline; the attempt's own outcome (or a lookup past
        # the answer deadline) decides
        assert sub.state is State.SENT and sub.attempts == 1, codes
        assert "late-callback" in codes


class _RecordsMessageIds(ScriptedAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.message_ids: list[str] = []

    async def send(self, sub: Submission, canonical: CanonicalSubmission, *, message_id: str) -> Answer:
        self.message_ids.append(message_id)
        return await super().send(sub, canonical, message_id=message_id)


@pytest.mark.parametrize("once", [True, False], ids=["answers-once-per-message", "answer-per-attempt"])
async def test_a_transient_error_answer_makes_the_resend_a_new_message(journal: Journal, once: bool) -> None:
    """SMEV 3 / ШЭП answer a message id once: after a transient error answer (the message was not
    acted on) the resend goes under a new id — under the old one SMEV would say MessageIsAlreadySent
    and never answer. REMD keeps the id of the submission's request for every resend."""
    adapter = _RecordsMessageIds()
    env = Env(journal, adapter, Capabilities(answers_once_per_message=once, lookup=not once))
    adapter.answers.extend([accepted(), accepted()])
    sub = await env.send(await queued(journal))
    assert sub.state is State.SENT
    sub = await env.callback(sub, False, codes=[("ASYNC_RESPONSE_TIMEOUT", TIMEOUT_TEXT)])
    assert sub.state is State.RETRY_WAIT
    first = adapter.message_ids[0]
    ids = await PeerMessages(journal).ids(sub.id)
    assert ids == [("remd", first, once)]  # retired with the transition that scheduled the resend
    await _expire(journal, sub)
    sub = await env.send(sub)
    assert sub.state is State.SENT and sub.attempts == 2
    if once:
        assert adapter.message_ids[1] != first
        # the first message's answers still find the submission
        assert await PeerMessages(journal).submission_of("remd", first) == sub.id
    else:
        assert adapter.message_ids == [first, first]
