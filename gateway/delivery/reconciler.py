"""Reconciliation: no submission stays unanswered. A SENT submission whose answer deadline passed
is looked up at the peer (REMD searchRegistryItem):

- found → REGISTERED (outcome source "reconciled") — the answer was lost;
- not found → resubmitted with the SAME localUid (bounded by max_resubmits; the peer's
  NOT_UNIQUE_PROVIDED_ID protects against a double registration if it was only slow);
- the peer could not be asked → back to SENT with the next deadline of the escalating schedule;
- too many lookups or resubmissions → DEAD, for an operator.

A peer whose plug-in cannot be asked (``capabilities.lookup`` false: a polling peer answers on
its queue) never has SENT rows looked up; a submission that still reaches RECONCILING for it (the
peer answered "already there") goes back to SENT awaiting the answer, with a LOOKUP_UNSUPPORTED
entry on its timeline, instead of waiting silently in RECONCILING. A SENT row past its deadline
for such a peer shows as stuck (the stuck list and its alert), for an operator.
"""

from __future__ import annotations

from typing import Any, Final

from gateway.common.logs import get_logger
from gateway.delivery.peer import Peer
from gateway.intake.stored import load_stored
from gateway.journal.store import Changes, Journal
from gateway.model import State, Submission

__all__ = ["Reconciler"]

_log: Final = get_logger(__name__)


class Reconciler:
    def __init__(self, journal: Journal, peer: Peer) -> None:
        self.journal = journal
        self.peer = peer
        self.actor = f"reconciler:{peer.name}"

    async def handle_overdue(self, sub: Submission, owner: str) -> None:
        """A SENT submission past its answer deadline."""
        sub = await self.journal.transition(
            sub.id,
            State.RECONCILING,
            actor=self.actor,
            expected=State.SENT,
            lease_owner=owner,
            keep_lease=True,
            message="no answer by the deadline: asking the peer",
        )
        await self.handle_reconciling(sub, owner)

    async def handle_reconciling(self, sub: Submission, owner: str) -> None:
        peer = self.peer
        if not peer.capabilities.lookup:
            await self.journal.transition(
                sub.id,
                State.SENT,
                actor=self.actor,
                expected=State.RECONCILING,
                lease_owner=owner,
                code="LOOKUP_UNSUPPORTED",
                message=f"{peer.name} cannot be asked about a submission: waiting for its answer",
                changes=Changes(
                    next_attempt_at=None,
                    answer_deadline=peer.answer_deadline(self.journal.clock.now(), sub.reconcile_attempts),
                ),
            )
            return
        if not peer.breaker.allow():
            await self.journal.defer(sub.id, owner, peer.breaker.retry_at())
            return
        await peer.limiter.acquire()
        canonical = await load_stored(self.journal, sub.id)
        result = await peer.adapter.lookup(sub, canonical)
        if result.found is None:
            peer.breaker.failure()
        else:
            peer.breaker.success()
        now = self.journal.clock.now()
        lookups = sub.reconcile_attempts + 1
        envelopes = list(result.envelopes)
        common: dict[str, Any] = {
            "actor": self.actor,
            "expected": State.RECONCILING,
            "lease_owner": owner,
            "envelopes_in": envelopes,
        }
        if result.found:
            await self.journal.transition(
                sub.id,
                State.REGISTERED,
                code="success",
                message="registered (found by reconciliation)",
                changes=Changes(
                    count_reconcile=True,
                    peer_registration_id=result.peer_registration_id,
                    outcome_code="success",
                    outcome_source="reconciled",
                    next_attempt_at=None,
                    answer_deadline=None,
                ),
                details={"registered_at": result.registered_at.isoformat() if result.registered_at else None},
                **common,
            )
            return
        if result.found is False:
            if sub.resubmits >= peer.config.max_resubmits:
                await self.journal.transition(
                    sub.id,
                    State.DEAD,
                    code="NOT_FOUND_AT_PEER",
                    message=f"{peer.name} does not have it after {sub.resubmits} resubmissions",
                    changes=Changes(count_reconcile=True, outcome_code="NOT_FOUND_AT_PEER"),
                    **common,
                )
                return
            await self.journal.transition(
                sub.id,
                State.QUEUED,
                code="NOT_FOUND_AT_PEER",
                message="not registered at the peer: resubmitting with the same localUid",
                changes=Changes(count_reconcile=True, count_resubmit=True, next_attempt_at=now),
                **common,
            )
            return
        if lookups >= peer.config.max_lookups:
            await self.journal.transition(
                sub.id,
                State.DEAD,
                code="RECONCILIATION_EXHAUSTED",
                message=f"could not learn the outcome after {lookups} lookups: {result.error}",
                changes=Changes(count_reconcile=True, outcome_code="RECONCILIATION_EXHAUSTED"),
                **common,
            )
            return
        _log.info("lookup failed", peer=peer.name, error=result.error)
        await self.journal.transition(
            sub.id,
            State.SENT,
            code="LOOKUP_FAILED",
            message=f"could not ask {peer.name}: {result.error}",
            changes=Changes(count_reconcile=True, answer_deadline=peer.answer_deadline(now, lookups)),
            **common,
        )
