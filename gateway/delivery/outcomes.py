"""Peers' answers applied to the journal: synchronous answers to a send, and asynchronous ones
(callbacks) — the rules that make a submission's outcome known exactly once.

- A success moves any not-yet-final submission to REGISTERED (a late answer beats a retry).
- An error answers the attempt it finds waiting (SENT, RECONCILING); one that finds a send queued
  or in flight is late — unless the peer answers a message id once (SMEV 3, ШЭП) and it answers
  the live id, the one that send carries: then it is the outcome (no other answer will come).
  From such a peer a transient error answer also retires the answered id: the resend it schedules
  goes under a new one (under the old id it would be refused as already sent, with no answer).
- A callback about a submission that is already final never changes it (no regression, no second
  notice); if it *contradicts* the outcome (an error after a registration, another emdrId, a
  success after a permanent failure) the submission is flagged for an operator.
- Errors are classified once (gateway.delivery.classify): transient → RETRY_WAIT with persisted
  backoff, "already there" → RECONCILING, permanent → FAILED, too many tries → DEAD.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.common.logs import get_logger
from gateway.delivery.classify import Decision, Verdict
from gateway.delivery.peer import Peer
from gateway.errors import ConcurrentUpdate, NotFound, StoreError
from gateway.inbound.contract import OFFERED_STATES
from gateway.journal.held_outcomes import HELD_EVENT, RESULT_DELIVERED, HeldOutcome, document_state
from gateway.journal.inbox import Inbox
from gateway.journal.ksi_marks import Mark, with_marks
from gateway.journal.peer_messages import PeerMessages
from gateway.journal.store import AlsoInTransaction, Changes, Journal
from gateway.model import EnvelopeIn, State, Submission
from gateway.monitoring.counters import record_retry
from gateway.peers.contract import PeerOutcome, Progress, StageMark

__all__ = ["AnswerNotRecorded", "CallbackRecorder", "apply_decision"]

_log: Final = get_logger(__name__)
_OFFERED: Final = frozenset(str(s) for s in OFFERED_STATES)
_OPEN_FOR_SUCCESS = frozenset({State.SENT, State.RECONCILING, State.QUEUED, State.RETRY_WAIT, State.DEAD})


async def apply_decision(
    journal: Journal,
    peer: Peer,
    sub: Submission,
    decision: Decision,
    *,
    actor: str,
    lease_owner: str | None,
    expected: State | tuple[State, ...],
    envelopes: Sequence[EnvelopeIn] = (),
    retry_after: float | None = None,
    details: dict[str, Any] | None = None,
    count_attempt: bool = False,
    also: AlsoInTransaction | None = None,
) -> Submission:
    """Move ``sub`` as a classified failure says. ``count_attempt``: the failure is a send attempt
    of ours (a synchronous answer), not a later callback about an attempt already counted."""
    now = journal.clock.now()
    attempts = sub.attempts + (1 if count_attempt else 0)
    info = {"cause": decision.cause, **(details or {})}

    async def move(to: State, changes: Changes, message: str) -> Submission:
        return await journal.transition(
            sub.id,
            to,
            actor=actor,
            lease_owner=lease_owner,
            expected=expected,
            code=decision.code,
            message=message,
            changes=changes,
            envelopes_in=envelopes,
            details=info,
            also=also,
        )

    if decision.verdict is Verdict.ALREADY_THERE:
        return await move(
            State.RECONCILING, Changes(next_attempt_at=now, count_attempt=count_attempt), decision.message
        )
    code, text = decision.code, decision.message
    if decision.verdict is Verdict.FAIL:
        changes = Changes(outcome_code=code, outcome_message=text, outcome_source="peer", count_attempt=count_attempt)
        return await move(State.FAILED, changes, decision.message)
    if peer.gave_up(attempts=attempts, created_at=sub.created_at, now=now):
        return await move(
            State.DEAD,
            Changes(outcome_code=code, outcome_message=text, count_attempt=count_attempt),
            f"gave up after {attempts} attempts: {decision.message}",
        )
    record_retry(peer.name, decision.cause)
    wait = max(decision.min_wait, retry_after or 0.0)
    at = peer.backoff.next_at(now, max(1, attempts), at_least=wait)
    return await move(State.RETRY_WAIT, Changes(next_attempt_at=at, count_attempt=count_attempt), decision.message)


class AnswerNotRecorded(StoreError):
    """The journal could not record a peer's answer (it kept moving): the peer must send it again."""

    http_status = 503


class CallbackRecorder:
    """The core's PeerSink: applies a peer's asynchronous answers (callbacks, polled messages) to
    the journal — only when they answer a message we sent that peer.

    Attribution: ``relates_to`` must be the id of a message we sent *this* peer instance (the
    ``peer_messages`` row names the submission, and the answer's localUid must be that
    submission's); a peer whose plug-in says it cannot echo (``answers_relate_to`` false) is
    matched by localUid, but only to a submission routed to it that was actually sent there.
    Anything else — a forged callback, an answer to a message we never sent, about a document
    never sent to this peer — is stored in the peer inbox as *unattributed*, logged as a
    security event, and changes no submission. A message carrying a peer message id is recorded
    once: a redelivery finds its inbox row and is acknowledged without effect. Both entry points
    return only after the journal committed, and raise otherwise.
    """

    def __init__(self, journal: Journal, peers: dict[str, Peer]) -> None:
        self.journal = journal
        self.peers = peers
        self.messages = PeerMessages(journal)
        self.inbox = Inbox(journal)

    async def __call__(self, outcome: PeerOutcome) -> None:
        marks = outcome.marks
        if outcome.held_by:
            # A held result has not reached the MO: its delivery milestone waits for the release
            # (written then), or is added below if the outcome turns out applicable after all.
            marks = [m for m in marks if m.name != RESULT_DELIVERED]
        await self._record(
            outcome.peer,
            outcome.local_uid,
            outcome.organization_oid,
            outcome.relates_to,
            outcome.peer_message_id,
            outcome.envelopes,
            kind="outcome",
            apply=lambda sub, also: self._apply_or_hold(sub, outcome, also),
            marks=marks,
        )

    async def progress(self, progress: Progress) -> None:
        """An intermediate status: a timeline entry, never a state change."""

        async def note(sub: Submission, also: AlsoInTransaction) -> None:
            await self.journal.note(
                sub.id,
                kind="progress",
                actor=f"{progress.peer}:progress",
                code=progress.status,
                message=progress.message or progress.status,
                details={"status": progress.status, **dict(progress.details)},
                envelopes_in=list(progress.envelopes),
                also=also,
            )

        await self._record(
            progress.peer,
            progress.local_uid,
            progress.organization_oid,
            progress.relates_to,
            progress.peer_message_id,
            progress.envelopes,
            kind="progress",
            apply=note,
            marks=progress.marks,
        )

    async def attribute(
        self, peer: str, local_uid: str, organization_oid: str | None, relates_to: str | None
    ) -> Submission | None:
        """The submission an answer from ``peer`` answers, or None when it answers nothing we sent."""
        if relates_to:
            sid = await self.messages.submission_of(peer, relates_to)
            if sid is None:
                return None
            try:
                sub = await self.journal.get(sid)
            except NotFound:
                return None
            known = self.peers.get(peer)
            unnamed = not local_uid and known is not None and not known.capabilities.answers_name_document
            if (not unnamed and sub.local_uid != local_uid) or (
                organization_oid and sub.organization_oid != organization_oid
            ):
                return None
            return sub
        known = self.peers.get(peer)
        if known is None or known.capabilities.answers_relate_to:
            return None  # this peer always names what it answers: an answer naming nothing is not ours
        routed = await self.journal.find_by_peer(peer, local_uid, organization_oid)
        if routed is None or not await self.messages.sent(routed.id, peer):
            return None
        return routed

    async def _record(
        self,
        peer: str,
        local_uid: str,
        organization_oid: str | None,
        relates_to: str | None,
        peer_message_id: str | None,
        envelopes: Sequence[EnvelopeIn],
        *,
        kind: str,
        apply: Callable[[Submission, AlsoInTransaction], Awaitable[None]],
        marks: Sequence[StageMark] = (),
    ) -> None:
        if await self.inbox.seen(peer, peer_message_id):
            _log.info("peer message already recorded", peer=peer, peer_message_id=peer_message_id, kind=kind)
            return
        for _ in range(5):  # a worker may move the row meanwhile: re-read and apply again
            sub = await self.attribute(peer, local_uid, organization_oid, relates_to)
            if sub is None:
                recorded = await self.inbox.unattributed(
                    peer=peer,
                    peer_message_id=peer_message_id,
                    relates_to=relates_to,
                    local_uid=local_uid,
                    envelopes=envelopes,
                )
                _log.warning(
                    "security: a peer answer that answers nothing we sent; stored as unattributed",
                    security_event="UNATTRIBUTED_PEER_ANSWER",
                    peer=peer,
                    kind=kind,
                    relates_to=relates_to,
                    peer_message_id=peer_message_id,
                    duplicate=not recorded,
                )
                return
            also = self.inbox.attributed(
                peer=peer,
                peer_message_id=peer_message_id,
                submission_id=sub.id,
                kind=kind,
                relates_to=relates_to,
                local_uid=local_uid,
            )
            if marks:  # the KSI milestones the message reports, in the same transaction
                also = with_marks(
                    also,
                    submission_id=sub.id,
                    peer=peer,
                    marks=[Mark(m.name, m.at, m.bureau, m.region or sub.region) for m in marks],
                    now=self.journal.clock.now(),
                )
            try:
                await apply(sub, also)
                return
            except ConcurrentUpdate:
                continue
            except IntegrityError:
                if await self.inbox.seen(peer, peer_message_id):  # recorded concurrently
                    return
                raise
        _log.error("peer answer could not be applied after retries", peer=peer, kind=kind)
        raise AnswerNotRecorded("the answer could not be recorded (the submission kept changing); send it again")

    async def _apply_or_hold(self, sub: Submission, outcome: PeerOutcome, also: AlsoInTransaction) -> None:
        """Apply ``outcome``, unless it stands on an inbound document that is not offered to the
        MIS (``held_by``): then hold it for an operator (gateway.journal.held_outcomes)."""
        if outcome.held_by and not sub.is_final:
            held = self._held(sub, outcome)
            if held is not None:
                async with self.journal.reading() as conn:
                    state = await document_state(conn, outcome.held_by)
                if state not in _OFFERED:
                    await self._hold(sub, outcome, held, also)
                    return
        if outcome.held_by:  # applied after all (released meanwhile, or nothing to hold)
            delivered = [m for m in outcome.marks if m.name == RESULT_DELIVERED]
            if delivered:
                also = with_marks(
                    also,
                    submission_id=sub.id,
                    peer=outcome.peer,
                    marks=[Mark(m.name, m.at, m.bureau, m.region or sub.region) for m in delivered],
                    now=self.journal.clock.now(),
                )
        await self._apply(sub, outcome, also)

    def _held(self, sub: Submission, outcome: PeerOutcome) -> HeldOutcome | None:
        """What applying ``outcome`` would do, or None when it is not a final decision (a
        transient error is applied as usual: there is nothing to hold)."""
        assert outcome.held_by is not None
        marks = tuple(
            {"name": m.name, "bureau": m.bureau, "region": m.region or sub.region}
            for m in outcome.marks
            if m.name == RESULT_DELIVERED
        )
        if outcome.success:
            return HeldOutcome(
                outcome.held_by,
                State.REGISTERED,
                outcome.peer,
                "success",
                peer_registration_id=outcome.peer_registration_id,
                registered_at=outcome.registered_at,
                marks=marks,
            )
        peer = self.peers.get(outcome.peer)
        if peer is None:
            return None
        decision = peer.classify(outcome.codes)
        if decision.verdict is not Verdict.FAIL:
            return None
        return HeldOutcome(outcome.held_by, State.FAILED, outcome.peer, decision.code, decision.message, marks=marks)

    async def _hold(self, sub: Submission, outcome: PeerOutcome, held: HeldOutcome, also: AlsoInTransaction) -> None:
        doc_id = held.inbound_id

        async def check_and_also(conn: AsyncConnection, event_id: int) -> None:
            # Under the document's row lock: a release that committed meanwhile applies instead.
            if await document_state(conn, doc_id) in _OFFERED:
                raise ConcurrentUpdate("the held document was released meanwhile", details={"id": sub.id})
            await also(conn, event_id)

        codes = [{"code": c, "message": m} for c, m in outcome.codes]
        details: dict[str, Any] = {
            **dict(outcome.details),
            "success": outcome.success,
            "codes": codes,
            "held": held.to_json(),
        }
        await self.journal.note(
            sub.id,
            kind=HELD_EVENT,
            actor=f"{outcome.peer}:callback",
            code=outcome.held_reason or "INBOUND_HELD",
            message=(
                f"outcome held for an operator ({held.to}): its document (inbound {doc_id}) is not "
                f"offered to the MIS ({outcome.held_reason}); releasing it applies the outcome"
            ),
            details=details,
            envelopes_in=list(outcome.envelopes),
            also=check_and_also,
        )
        _log.warning(
            "peer outcome held for an operator",
            peer=outcome.peer,
            submission_id=sub.id,
            inbound_id=doc_id,
            reason=outcome.held_reason,
        )

    async def _apply(self, sub: Submission, outcome: PeerOutcome, also: AlsoInTransaction) -> None:
        actor = f"{outcome.peer}:callback"
        envelopes = list(outcome.envelopes)
        codes = [{"code": c, "message": m} for c, m in outcome.codes]
        details: dict[str, Any] = {**dict(outcome.details), "success": outcome.success, "codes": codes}
        if outcome.registered_at:
            details["registered_at"] = outcome.registered_at.isoformat()
        if outcome.success:
            if sub.state in _OPEN_FOR_SUCCESS:
                await self.journal.transition(
                    sub.id,
                    State.REGISTERED,
                    actor=actor,
                    expected=sub.state,
                    code="success",
                    message="registered (callback)",
                    changes=Changes(
                        peer_registration_id=outcome.peer_registration_id,
                        outcome_code="success",
                        outcome_message=None,
                        outcome_source="callback",
                        next_attempt_at=None,
                        answer_deadline=None,
                    ),
                    details=details,
                    envelopes_in=envelopes,
                    also=also,
                )
                return
            same = sub.state is State.REGISTERED and (sub.peer_registration_id in (None, outcome.peer_registration_id))
            await self._late(
                sub,
                actor,
                details,
                envelopes,
                also,
                contradiction=not same,
                why="success callback for a submission that is already " + str(sub.state),
            )
            return
        peer = self.peers.get(outcome.peer)
        if peer is None:  # configured elsewhere, or disabled here: keep it on the timeline
            await self._late(
                sub,
                actor,
                details,
                envelopes,
                also,
                contradiction=False,
                why="error callback from a peer not running here",
            )
            return
        decision = peer.classify(outcome.codes)
        if sub.state in (State.SENT, State.RECONCILING) or await self._answers_live_message(sub, peer, outcome):
            if decision.verdict is Verdict.RETRY and peer.capabilities.answers_once_per_message and outcome.relates_to:
                also = self._retiring(sub, peer, outcome.relates_to, also)
            await apply_decision(
                self.journal,
                peer,
                sub,
                decision,
                actor=actor,
                lease_owner=None,
                expected=sub.state,
                envelopes=envelopes,
                details=details,
                also=also,
            )
            return
        # An error about an attempt we are already past (a resend is scheduled, or the outcome
        # is final): note it; if the submission was registered, the error contradicts it.
        await self._late(
            sub,
            actor,
            details,
            envelopes,
            also,
            contradiction=sub.state is State.REGISTERED,
            why=f"error callback ({decision.code}) for a submission that is {sub.state}",
        )

    def _retiring(self, sub: Submission, peer: Peer, message_id: str, also: AlsoInTransaction) -> AlsoInTransaction:
        """A transient error answer from a peer that answers a message id once: the resend it
        schedules must be a new message. Under the answered id the peer would refuse it as already
        sent (SMEV ``MessageIsAlreadySent``) and never answer again, leaving the submission waiting
        for good; the answered message was not acted on (the error says so), so a new one makes no
        duplicate. Retired in the transaction that schedules the resend."""
        messages = self.messages

        async def retire_too(conn: AsyncConnection, event_id: int) -> None:
            await messages.retire_in(conn, sub.id, peer.name, message_id)
            await also(conn, event_id)

        return retire_too

    async def _answers_live_message(self, sub: Submission, peer: Peer, outcome: PeerOutcome) -> bool:
        """Whether an error answer that finds ``sub`` queued (a send in flight whose "accepted" is
        not committed yet, or a resend waiting) is still its outcome: the peer answers a message id
        once and this answers the live one, the id the send in flight or the resend carries."""
        if sub.state not in (State.QUEUED, State.RETRY_WAIT) or not outcome.relates_to:
            return False
        if not peer.capabilities.answers_once_per_message:
            return False
        ids = await self.messages.ids(sub.id)
        return (peer.name, outcome.relates_to, False) in ids

    async def _late(
        self,
        sub: Submission,
        actor: str,
        details: dict[str, Any],
        envelopes: list[EnvelopeIn],
        also: AlsoInTransaction,
        *,
        contradiction: bool,
        why: str,
    ) -> None:
        await self.journal.note(
            sub.id,
            kind="callback",
            actor=actor,
            code="late-callback",
            message=why,
            details=details,
            envelopes_in=envelopes,
            also=also,
        )
        if contradiction:
            _log.warning("contradicting callback flagged", state=str(sub.state))
            await self.journal.flag(
                sub.id,
                actor=actor,
                code="CONTRADICTING_CALLBACK",
                message=f"{why}; known outcome: {sub.outcome_source or 'peer'} "
                f"{sub.peer_registration_id or sub.outcome_code or ''}".strip(),
                details=details,
            )
