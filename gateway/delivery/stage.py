"""The delivery stage: send QUEUED (and due RETRY_WAIT) submissions to their peer and record the
synchronous answer. One claim loop per peer, so a slow peer cannot starve another.

The outgoing message id is persisted (committed) before the first send and reused on every
resend (after a restart too), so the peer's answers can be matched to what we sent and a peer that
recognises a resend (``idempotent_resend``) can be sent the same message again after no answer.
When the peer asks for a new id (``Answer.renew_message_id``, SMEV's StaleMessageId) the old one
is retired; the next attempt gets a fresh id only if no send under the old one may have arrived
(each one the peer refused outright). Otherwise — a send under it went unanswered, or a restart
cut one short — the new id would make a second message at the peer, so the submission waits for
the peer's answer to the old one in SENT (``STALE_ID_MAY_HAVE_ARRIVED``, for an operator)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
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
        # A row claimed in QUEUED under an id already handed to a send resumes a send that a
        # restart (or an expired lease) cut short: that send may have arrived.
        resumed = sub.state is State.QUEUED
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
        message_id, fresh = await self.messages.current_or_new(sub.id, peer.name, peer.adapter.new_message_id)
        started = time.perf_counter()
        answer = await peer.adapter.send(sub, canonical, message_id=message_id)
        observe_delivery(peer.name, answer.kind.value, time.perf_counter() - started)
        unsettled = resumed and not fresh
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
        # Kept in the attempt's event: a later StaleMessageId must know whether any send under
        # this id may have arrived (PeerMessages.unsettled).
        details = {"unsettled_message_id": message_id} if ambiguous or unsettled else None
        if ambiguous and not peer.capabilities.idempotent_resend:
            await self._may_have_arrived(sub, owner, answer.error or f"HTTP {answer.http_status}", envelopes, details)
            return
        if answer.renew_message_id and not fresh and (unsettled or await self.messages.unsettled(sub.id, message_id)):
            # A new id would make a second message at the peer: never resent blindly.
            await self._stale_may_have_arrived(sub, owner, message_id, answer.codes, envelopes)
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
            details=details,
            count_attempt=True,
        )

    async def _may_have_arrived(
        self, sub: Submission, owner: str, error: str, envelopes: list[EnvelopeIn], details: dict[str, str] | None
    ) -> None:
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
            details=details,
        )

    async def _stale_may_have_arrived(
        self,
        sub: Submission,
        owner: str,
        message_id: str,
        codes: Sequence[tuple[str, str]],
        envelopes: list[EnvelopeIn],
    ) -> None:
        """The peer refused a resend under ``message_id`` as stale (SMEV StaleMessageId) and an
        earlier send under it may have arrived. The peer cannot be asked about one message id
        (SMEV), so the submission waits in SENT for the peer's answer to the old id, which still
        matches (retired ids do); past its answer deadline it shows as stuck, for an operator to
        settle with the peer's support. Any later send goes under a new id."""
        peer = self.peer
        now = self.journal.clock.now()
        deadline = peer.answer_deadline(now, sub.reconcile_attempts)
        said = "; ".join(f"{code}: {text}" for code, text in codes)[:300] or "stale message id"
        await self.journal.transition(
            sub.id,
            State.SENT,
            actor=self.actor,
            expected=State.QUEUED,
            lease_owner=owner,
            code="STALE_ID_MAY_HAVE_ARRIVED",
            message=(
                f"{peer.name} refused the resend under {message_id} as stale ({said}); an earlier send "
                "under it may have arrived, so it is not sent under a new id: waiting for the answer "
                "to it (an operator settles it with the peer if none comes)"
            ),
            changes=Changes(count_attempt=True, next_attempt_at=None, answer_deadline=deadline),
            envelopes_in=envelopes,
            details={"message_id": message_id, "peer_codes": [code for code, _ in codes]},
        )
