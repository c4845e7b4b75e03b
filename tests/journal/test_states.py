"""The state machine, table-driven, plus a property: every random walk through it only ever takes
edges from the table and never leaves a final state."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.errors import IllegalTransition
from gateway.journal.states import TRANSITIONS, check_transition, is_legal
from gateway.model import FINAL_STATES, State

S = State

LEGAL = [
    (S.RECEIVED, S.VALIDATED),
    (S.RECEIVED, S.REJECTED),
    (S.VALIDATED, S.QUEUED),
    (S.QUEUED, S.SENT),
    (S.QUEUED, S.RETRY_WAIT),
    (S.QUEUED, S.RECONCILING),
    (S.SENT, S.REGISTERED),
    (S.SENT, S.FAILED),
    (S.SENT, S.RETRY_WAIT),
    (S.SENT, S.RECONCILING),
    (S.RETRY_WAIT, S.QUEUED),
    (S.RECONCILING, S.REGISTERED),
    (S.RECONCILING, S.QUEUED),
    (S.RECONCILING, S.SENT),
    (S.DEAD, S.QUEUED),
    *[(s, S.DEAD) for s in (S.RECEIVED, S.VALIDATED, S.QUEUED, S.SENT, S.RETRY_WAIT, S.RECONCILING)],
    *[(s, S.CANCELLED) for s in (S.QUEUED, S.RETRY_WAIT, S.DEAD, S.FAILED)],
]

ILLEGAL = [
    (S.RECEIVED, S.SENT),  # skipping validation
    (S.RECEIVED, S.QUEUED),
    (S.VALIDATED, S.SENT),
    (S.REGISTERED, S.QUEUED),  # never resend what the peer registered
    (S.REGISTERED, S.FAILED),
    (S.REGISTERED, S.DEAD),
    (S.REJECTED, S.VALIDATED),
    (S.REJECTED, S.QUEUED),
    (S.RETRY_WAIT, S.SENT),  # a retry goes back through the queue
    (S.SENT, S.SENT),
    (S.SENT, S.QUEUED),
    # CANCELLED is final, and never reached from where a peer may already hold the document.
    *[(S.CANCELLED, s) for s in State],
    (S.SENT, S.CANCELLED),
    (S.RECONCILING, S.CANCELLED),
    (S.REGISTERED, S.CANCELLED),
    (S.REJECTED, S.CANCELLED),
]


@pytest.mark.parametrize(("src", "dst"), LEGAL)
def test_legal(src: State, dst: State) -> None:
    check_transition(src, dst)
    assert is_legal(src, dst)


@pytest.mark.parametrize(("src", "dst"), ILLEGAL)
def test_illegal_raises_with_both_states(src: State, dst: State) -> None:
    with pytest.raises(IllegalTransition) as info:
        check_transition(src, dst)
    assert info.value.details == {"from": str(src), "to": str(dst)}


def test_every_state_has_a_row() -> None:
    assert set(TRANSITIONS) == set(State)


def test_registered_and_rejected_are_terminal() -> None:
    assert TRANSITIONS[S.REGISTERED] == frozenset()
    assert TRANSITIONS[S.REJECTED] == frozenset()
    assert TRANSITIONS[S.CANCELLED] == frozenset()
    assert S.CANCELLED in FINAL_STATES


@given(st.lists(st.sampled_from(list(State)), max_size=30))
def test_random_walk_takes_only_table_edges(targets: list[State]) -> None:
    state = S.RECEIVED
    for target in targets:
        if is_legal(state, target):
            state = target
        else:
            with pytest.raises(IllegalTransition):
                check_transition(state, target)
    if state in {S.REGISTERED, S.REJECTED}:
        assert state in FINAL_STATES
