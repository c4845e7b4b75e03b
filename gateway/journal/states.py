"""The one state machine of a submission. Every state change in the gateway goes through
:func:`check_transition`; the journal refuses anything this table does not allow."""

from __future__ import annotations

from collections.abc import Mapping

from gateway.errors import IllegalTransition
from gateway.model import State

__all__ = ["TRANSITIONS", "check_transition", "is_legal"]

S = State

TRANSITIONS: Mapping[State, frozenset[State]] = {
    S.RECEIVED: frozenset({S.VALIDATED, S.REJECTED, S.DEAD}),
    S.VALIDATED: frozenset({S.QUEUED, S.REJECTED, S.DEAD}),
    # A send can be accepted (SENT), answered synchronously and finally (REGISTERED/FAILED), fail
    # transiently (RETRY_WAIT), or meet "already registered" (NOT_UNIQUE_PROVIDED_ID → RECONCILING).
    # CANCELLED (from QUEUED, RETRY_WAIT, DEAD, FAILED) is an operator's alone, and only while no
    # worker holds the row (TransitionJournal.transition(..., unleased=True)): nothing in flight.
    S.QUEUED: frozenset({S.SENT, S.REGISTERED, S.FAILED, S.RETRY_WAIT, S.RECONCILING, S.DEAD, S.CANCELLED}),
    S.SENT: frozenset({S.REGISTERED, S.FAILED, S.RETRY_WAIT, S.RECONCILING, S.DEAD}),
    # A late answer can overtake a scheduled retry: accept it rather than resend.
    S.RETRY_WAIT: frozenset({S.QUEUED, S.REGISTERED, S.FAILED, S.RECONCILING, S.DEAD, S.CANCELLED}),
    # Reconciliation: found → REGISTERED; not found → QUEUED (resend, same localUid); the peer could
    # not be asked → back to SENT with a new deadline; a found-but-refused document → FAILED.
    S.RECONCILING: frozenset({S.REGISTERED, S.FAILED, S.QUEUED, S.SENT, S.DEAD}),
    # An operator's "resend now"; or the peer's answer arrives after the gateway gave up.
    S.DEAD: frozenset({S.QUEUED, S.REGISTERED, S.FAILED, S.CANCELLED}),
    S.REJECTED: frozenset(),
    S.REGISTERED: frozenset(),
    S.FAILED: frozenset({S.QUEUED, S.CANCELLED}),  # an operator's resend after fixing the cause at the peer
    S.CANCELLED: frozenset(),  # never sent again: no worker state is reachable
}


def is_legal(current: State, target: State) -> bool:
    return target in TRANSITIONS[current]


def check_transition(current: State, target: State) -> None:
    """Raise IllegalTransition unless ``current → target`` is in the table."""
    if not is_legal(current, target):
        raise IllegalTransition(
            f"illegal transition {current} → {target}",
            details={"from": str(current), "to": str(target)},
        )
