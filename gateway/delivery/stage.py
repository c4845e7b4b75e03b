"""The delivery stage: send QUEUED (and due RETRY_WAIT) submissions to their peer and record the
synchronous answer. One claim loop per peer, so a slow peer cannot starve another.

The outgoing message id is persisted (committed) before the first send and reused on every
resend, so the peer's answers can be matched to what we sent; when the peer asks for a new one
(``Answer.renew_message_id``) the old one is retired and the next attempt gets a fresh id."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from gateway.common.logs import get_logger
from gateway.delivery.classify import classify_transport
from gateway.delivery.outcomes import apply_decision
from gateway.delivery.peer import Peer
from gateway.intake.stored import Handoff
from gateway.journal.peer_messages import PeerMessages
from gateway.journal.store import Changes, Journal
from gateway.model import EnvelopeIn, State, Submission
from gateway.monitoring.counters import observe_delivery
from gateway.peers.contract import AnswerKind

__all__ = ["DeliveryStage"]

_log: Final = get_logger(__name__)
# No answer that leaves open whether the peer took the message (network error or timeout: no
# status; a 500/502/504 from somewhere on the way). 429 and 503 say "not taken".
_AMBIGUOUS_STATUS: Final = frozenset({None, 500, 502, 504})


class DeliveryStage:
    def __init__(
        self,
        journal: Journal,
        peer: Peer,
        *,
        after_send: Callable[[], None] | None = None,
        handoff: Handoff | None = None,
    ) -> None:
        self.journal = journal
        self.peer = peer
        self.actor = f"delivery:{peer.name}"
        self.messages = PeerMessages(journal)
        # Called after each send that reached the peer (a polling receiver polls sooner).
        self.after_send = after_send
        # What this process's validation stage decoded (a miss reads the journal).
        self.handoff = handoff or Handoff(0)

    async def handle(self, sub: Submission, owner: str) -> None:
        peer = self.peer
        if not peer.breaker.allow():
            # The peer is down: hold the row without a state change or an event (no timeline
            # noise), due again when the breaker lets a probe through.
            await self.journal.defer(sub.id, owner, peer.breaker.retry_at())
            return
        if sub.state is State.RETRY_WAIT:
            sub = await self.journal.transition(
                sub.id,
                State.QUEUED,
                actor=self.actor,
                expected=State.RETRY_WAIT,
                lease_owner=owner,
                keep_lease=True,
                message="retry due",
            )
        await peer.limiter.acquire()
        canonical = await self.handoff.load(self.journal, sub.id)
        message_id = await self.messages.current(sub.id, peer.name, peer.adapter.new_message_id)
        started = time.perf_counter()
        answer = await peer.adapter.send(sub, canonical, message_id=message_id)
        observe_delivery(peer.name, answer.kind.value, time.perf_counter() - started)
        if answer.renew_message_id:
            await self.messages.retire(sub.id, peer.name, message_id)
        if self.after_send is not None and answer.kind is not AnswerKind.NO_ANSWER:
            self.after_send()
        now = self.journal.clock.now()
        envelopes = list(answer.envelopes)
        attempt = sub.attempts + 1
        if answer.kind is AnswerKind.NO_ANSWER:
            peer.breaker.failure()
        else:
            peer.breaker.success()
        if answer.kind is AnswerKind.ACCEPTED:
            await self.journal.transition(
                sub.id,
                State.SENT,
                actor=self.actor,
                expected=State.QUEUED,
                lease_owner=owner,
                message=f"accepted by {peer.name} (attempt {attempt})",
                changes=Changes(
                    count_attempt=True,
                    next_attempt_at=None,
                    answer_deadline=peer.answer_deadline(now, sub.reconcile_attempts),
                ),
                envelopes_in=envelopes,
            )
            return
        if answer.kind is AnswerKind.REGISTERED:
            await self.journal.transition(
                sub.id,
                State.REGISTERED,
                actor=self.actor,
                expected=State.QUEUED,
                lease_owner=owner,
                code="success",
                message=f"registered by {peer.name}",
                changes=Changes(
                    count_attempt=True,
                    peer_registration_id=answer.peer_registration_id,
                    outcome_code="success",
                    outcome_source="peer",
                    next_attempt_at=None,
                ),
                envelopes_in=envelopes,
            )
            return
        ambiguous = answer.kind is AnswerKind.NO_ANSWER and answer.http_status in _AMBIGUOUS_STATUS
        if ambiguous and not peer.capabilities.idempotent_resend:
            await self._may_have_arrived(sub, owner, answer.error or f"HTTP {answer.http_status}", envelopes)
            return
        if answer.kind is AnswerKind.REFUSED:
            decision = peer.classify(answer.codes)
        else:
            decision = classify_transport(http_status=answer.http_status, error=answer.error)
        _log.info(
            "send failed", peer=peer.name, code=decision.code, cause=decision.cause, verdict=str(decision.verdict)
        )
        await apply_decision(
            self.journal,
            peer,
            sub,
            decision,
            actor=self.actor,
            lease_owner=owner,
            expected=State.QUEUED,
            envelopes=envelopes,
            retry_after=answer.retry_after_seconds,
            count_attempt=True,
        )

    async def _may_have_arrived(self, sub: Submission, owner: str, error: str, envelopes: list[EnvelopeIn]) -> None:
        """No answer from a peer that does not recognise a resend (``idempotent_resend`` false):
        the message may have arrived, so it is never sent blindly again. The peer is asked when
        it can be (RECONCILING); otherwise the submission waits for the peer's answer in SENT
        (shown as stuck past its age, for an operator)."""
        peer = self.peer
        now = self.journal.clock.now()
        if peer.capabilities.lookup:
            to, changes = State.RECONCILING, Changes(count_attempt=True, next_attempt_at=now)
            then = "asking it before any resend"
        else:
            deadline = peer.answer_deadline(now, sub.reconcile_attempts)
            to, changes = State.SENT, Changes(count_attempt=True, next_attempt_at=None, answer_deadline=deadline)
            then = "not resent (this peer does not recognise a resend): waiting for its answer"
        await self.journal.transition(
            sub.id,
            to,
            actor=self.actor,
            expected=State.QUEUED,
            lease_owner=owner,
            code="MAY_HAVE_ARRIVED",
            message=f"no answer from {peer.name} ({error[:200]}); it may have the message: {then}",
            changes=changes,
            envelopes_in=envelopes,
        )
