"""Peers' answers applied to the journal: synchronous answers to a send, and asynchronous ones
(callbacks) — the rules that make a submission's outcome known exactly once.

- A success moves any not-yet-final submission to REGISTERED (a late answer beats a retry).
- A callback about a submission that is already final never changes it (no regression, no second
  notice); if it *contradicts* the outcome (an error after a registration, another emdrId, a
  success after a permanent failure) the submission is flagged for an operator.
- Errors are classified once (gateway.delivery.classify): transient → RETRY_WAIT with persisted
  backoff, "already there" → RECONCILING, permanent → FAILED, too many tries → DEAD.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from gateway.common.logs import get_logger
from gateway.delivery.classify import Decision, Verdict
from gateway.delivery.peer import Peer
from gateway.errors import ConcurrentUpdate
from gateway.journal.store import Changes, Journal
from gateway.model import EnvelopeIn, State, Submission
from gateway.monitoring.counters import record_retry
from gateway.peers.contract import PeerOutcome, Progress

__all__ = ["CallbackRecorder", "apply_decision"]

_log: Final = get_logger(__name__)
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


class CallbackRecorder:
    """The core's CallbackSink: applies a peer's asynchronous answer to the journal."""

    def __init__(self, journal: Journal, peers: dict[str, Peer]) -> None:
        self.journal = journal
        self.peers = peers

    async def __call__(self, outcome: PeerOutcome) -> None:
        for _ in range(5):  # a worker may move the row meanwhile: re-read and apply again
            sub = await self.journal.find_by_peer(outcome.peer, outcome.local_uid, outcome.organization_oid)
            if sub is None:
                _log.warning("callback about an unknown document", peer=outcome.peer, success=outcome.success)
                return
            try:
                await self._apply(sub, outcome)
                return
            except ConcurrentUpdate:
                continue
        _log.error("callback could not be applied after retries", peer=outcome.peer)

    async def progress(self, progress: Progress) -> None:
        """An intermediate status: a timeline entry, never a state change."""
        sub = await self.journal.find_by_peer(progress.peer, progress.local_uid, progress.organization_oid)
        if sub is None:
            _log.warning("progress about an unknown document", peer=progress.peer, status=progress.status)
            return
        await self.journal.note(
            sub.id,
            kind="progress",
            actor=f"{progress.peer}:progress",
            code=progress.status,
            message=progress.message or progress.status,
            details=dict(progress.details),
            envelopes_in=list(progress.envelopes),
        )

    async def _apply(self, sub: Submission, outcome: PeerOutcome) -> None:
        actor = f"{outcome.peer}:callback"
        envelopes = list(outcome.envelopes)
        codes = [{"code": c, "message": m} for c, m in outcome.codes]
        details: dict[str, Any] = {"success": outcome.success, "codes": codes}
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
                )
                return
            same = sub.state is State.REGISTERED and (sub.peer_registration_id in (None, outcome.peer_registration_id))
            await self._late(
                sub,
                actor,
                details,
                envelopes,
                contradiction=not same,
                why="success callback for a submission that is already " + str(sub.state),
            )
            return
        peer = self.peers.get(outcome.peer)
        if peer is None:  # configured elsewhere, or disabled here: keep it on the timeline
            await self._late(
                sub, actor, details, envelopes, contradiction=False, why="error callback from a peer not running here"
            )
            return
        decision = peer.classify(outcome.codes)
        if sub.state in (State.SENT, State.RECONCILING):
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
            )
            return
        # An error about an attempt we are already past (a resend is scheduled, or the outcome
        # is final): note it; if the submission was registered, the error contradicts it.
        await self._late(
            sub,
            actor,
            details,
            envelopes,
            contradiction=sub.state is State.REGISTERED,
            why=f"error callback ({decision.code}) for a submission that is {sub.state}",
        )

    async def _late(
        self,
        sub: Submission,
        actor: str,
        details: dict[str, Any],
        envelopes: list[EnvelopeIn],
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
