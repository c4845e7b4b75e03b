"""Transitions: state changes with their timeline event, envelopes and outcome notice in one
transaction; notes, flags and deferrals."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.errors import ConcurrentUpdate, NotFound
from gateway.journal import statements as st
from gateway.journal.base import JournalBase
from gateway.journal.records import AlsoInTransaction, Changes, row_to_submission
from gateway.journal.schema import clients, notifications, submissions
from gateway.journal.states import TRANSITIONS, check_transition
from gateway.journal.wakeup import announce
from gateway.model import RESUBMITTABLE_STATES, EnvelopeIn, State, Submission
from gateway.notices.build import build_notice, encode_notice

__all__ = ["TransitionJournal"]

# For each state, the states it can be reached from.
_SOURCES: dict[State, frozenset[State]] = {
    target: frozenset(s for s, targets in TRANSITIONS.items() if target in targets) for target in State
}


def _guard(row: Any, submission_id: str, to: State, allowed: set[State] | None, lease_owner: str | None) -> State:
    """The row's state, if a transition to ``to`` may start from it: NotFound, ConcurrentUpdate
    (the state moved from ``allowed``; the lease went to another worker) or IllegalTransition."""
    if row is None:
        raise NotFound(f"no submission {submission_id}")
    current = State(row.state)
    if allowed is not None and current not in allowed:
        raise ConcurrentUpdate(
            f"submission is {current}, expected {', '.join(sorted(allowed))}",
            details={"id": submission_id, "state": str(current)},
        )
    if lease_owner is not None and row.lease_owner != lease_owner:
        raise ConcurrentUpdate(
            "lease lost: the submission was claimed by another worker",
            details={"id": submission_id, "owner": row.lease_owner},
        )
    check_transition(current, to)
    return current


class TransitionJournal(JournalBase):
    async def transition(
        self,
        submission_id: str,
        to: State,
        *,
        actor: str,
        expected: State | Sequence[State] | None = None,
        lease_owner: str | None = None,
        keep_lease: bool = False,
        unleased: bool = False,
        changes: Changes = Changes(),
        code: str | None = None,
        message: str | None = None,
        details: dict[str, Any] | None = None,
        envelopes_in: Iterable[EnvelopeIn] = (),
        also: AlsoInTransaction | None = None,
    ) -> Submission:
        """Move a submission to ``to`` with its event (and envelopes) in one transaction.

        ``expected`` guards against acting on a stale view (ConcurrentUpdate if the state moved);
        ``lease_owner`` guards against a worker whose lease expired (its claim went to another
        worker). A transition by the lease owner releases the lease, unless ``keep_lease`` (a
        step in the middle of the owner's work). ``also(conn, event_id)`` writes more in the same
        transaction (the peer inbox row that makes a peer's answer recorded once). ``unleased``
        refuses (ConcurrentUpdate) while a worker holds a live lease on the row: an operator's
        cancel must not race a send already on the wire.
        """
        now = self.clock.now()
        allowed = None if expected is None else ({expected} if isinstance(expected, State) else set(expected))
        # The state the row must be in. When only one is possible (the one expected, or the only
        # one ``to`` can be reached from) the guard is folded into the UPDATE: one statement
        # instead of a SELECT and an UPDATE, and a row that moved simply matches nothing. The
        # operator's checks (a live lease, a superseded version) need the row: general path.
        sources = _SOURCES[to] if allowed is None else _SOURCES[to] & allowed
        fold = len(sources) == 1 and not unleased and not (sources & RESUBMITTABLE_STATES)
        values: dict[str, Any] = {"state": str(to), "updated_at": now, **changes.values()}
        if lease_owner is not None and not keep_lease:
            values["lease_owner"] = None
            values["lease_until"] = None
        counters = {
            column: st.S[column] + 1
            for column, wanted in (
                ("attempts", changes.count_attempt),
                ("reconcile_attempts", changes.count_reconcile),
                ("resubmits", changes.count_resubmit),
            )
            if wanted
        }
        async with self.writing() as conn:
            updated_row = None
            if fold:
                (current,) = sources
                updated_row = await self._update_if(conn, submission_id, current, lease_owner, values, counters)
            if updated_row is None:
                # The general path, and the diagnosis of a folded UPDATE that matched nothing:
                # read the row (locked on PostgreSQL) and say why, or apply the change.
                query = st.GUARD_FOR_UPDATE if self._postgres else st.GUARD
                row = (await conn.execute(query, {"sid": submission_id})).first()
                current = _guard(row, submission_id, to, allowed, lease_owner)
                assert row is not None  # _guard raised NotFound otherwise
                if unleased and row.lease_owner is not None and row.lease_until is not None and row.lease_until > now:
                    raise ConcurrentUpdate(
                        "a worker is delivering the submission right now; try again in a moment",
                        details={"id": submission_id, "owner": row.lease_owner},
                    )
                if current in RESUBMITTABLE_STATES:
                    await self._refuse_if_superseded(conn, submission_id)
                updated_row = await self._update_if(conn, submission_id, current, None, values, counters)
                if updated_row is None:
                    raise ConcurrentUpdate("submission changed during the transition", details={"id": submission_id})
            event_id = await self._insert_event(
                conn,
                submission_id,
                at=now,
                kind="state",
                actor=actor,
                from_state=current,
                to_state=to,
                code=code,
                message=message,
                details=details,
                envelopes_in=envelopes_in,
            )
            if also is not None:
                await also(conn, event_id)
            updated = row_to_submission(updated_row)
            if to is State.QUEUED and updated.destination:
                await announce(conn, f"delivery:{updated.destination}")
            if updated.is_final and updated.callback_url:
                await self._enqueue_notice(conn, updated, now)
        return updated

    @staticmethod
    async def _update_if(
        conn: AsyncConnection,
        submission_id: str,
        current: State,
        lease_owner: str | None,
        values: dict[str, Any],
        counters: dict[str, Any],
    ) -> Any:
        """UPDATE the row if it is in ``current`` (and leased to ``lease_owner``, when given);
        the updated row, or None when nothing matched."""
        stmt = st.UPDATE_IF_STATE if lease_owner is None else st.UPDATE_IF_STATE_AND_OWNER
        if counters:
            stmt = stmt.values(**counters)
        params = {"sid": submission_id, "current_state": str(current), **values}
        if lease_owner is not None:
            params["owner"] = lease_owner
        return (await conn.execute(stmt, params)).first()

    async def _enqueue_notice(self, conn: AsyncConnection, sub: Submission, now: datetime) -> None:
        """Owe the sender a notice, in the transaction that made the state final. One per
        submission and channel: a later final state (an operator's resend that registers) replaces
        an undelivered one and re-arms a delivered one."""
        client_id = (
            await conn.execute(sa.select(clients.c.id).where(clients.c.source_system == sub.source_system))
        ).scalar_one_or_none()
        body = self._codec.seal(encode_notice(build_notice(sub)), bind=sub.id)
        values = {
            "client_id": client_id,
            "url": sub.callback_url,
            "body": body,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "last_error": None,
            "lease_owner": None,
            "lease_until": None,
            "created_at": now,
            "delivered_at": None,
        }
        n = notifications.c
        result = await conn.execute(
            notifications.update().where(n.submission_id == sub.id, n.channel == sub.origin).values(**values)
        )
        if result.rowcount == 0:
            await conn.execute(notifications.insert().values(submission_id=sub.id, channel=sub.origin, **values))

    async def note(
        self,
        submission_id: str,
        *,
        kind: str,
        actor: str,
        code: str | None = None,
        message: str | None = None,
        details: dict[str, Any] | None = None,
        envelopes_in: Iterable[EnvelopeIn] = (),
        also: AlsoInTransaction | None = None,
    ) -> int:
        """Record a fact in the timeline without changing state (a late callback, an operator's
        comment, an envelope exchanged during reconciliation). ``also`` as in :meth:`transition`."""
        now = self.clock.now()
        async with self.writing() as conn:
            exists = (await conn.execute(sa.select(st.S.id).where(st.S.id == submission_id))).first()
            if exists is None:
                raise NotFound(f"no submission {submission_id}")
            event_id = await self._insert_event(
                conn,
                submission_id,
                at=now,
                kind=kind,
                actor=actor,
                code=code,
                message=message,
                details=details,
                envelopes_in=envelopes_in,
            )
            if also is not None:
                await also(conn, event_id)
            return event_id

    async def flag(
        self, submission_id: str, *, actor: str, code: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        """Mark a submission for an operator (a contradiction the gateway must not resolve alone)
        and say why in the timeline."""
        now = self.clock.now()
        async with self.writing() as conn:
            await conn.execute(
                submissions.update().where(st.S.id == submission_id).values(flagged=True, updated_at=now)
            )
            await self._insert_event(
                conn, submission_id, at=now, kind="conflict", actor=actor, code=code, message=message, details=details
            )

    async def defer(self, submission_id: str, owner: str, until: datetime, *, column: str = "next_attempt_at") -> bool:
        """Give a claimed row back, due again at ``until``, without a state change (a circuit
        breaker holding sends, a peer's quota)."""
        async with self.writing() as conn:
            result = await conn.execute(
                submissions.update()
                .where(st.S.id == submission_id, st.S.lease_owner == owner)
                .values({column: until, "lease_owner": None, "lease_until": None})
            )
        return int(result.rowcount) == 1

    # -- work claiming -----------------------------------------------------------------------

    @staticmethod
    async def _refuse_if_superseded(conn: AsyncConnection, submission_id: str) -> None:
        """A finally refused version that a newer one replaced stays final: resending it would put
        two versions of one localUid on their way to the peer. Under the row lock the intake
        takes before adding a version, so the two cannot cross."""
        newer = (
            await conn.execute(sa.select(st.S.id, st.S.version).where(st.S.supersedes == submission_id).limit(1))
        ).first()
        if newer is not None:
            raise ConcurrentUpdate(
                f"superseded by version {newer.version} ({newer.id}): act on that one",
                details={"id": submission_id, "superseded_by": newer.id},
            )
