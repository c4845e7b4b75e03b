"""Operator actions on a submission, each audited twice: a row in ``ui_audit`` (who, when, why,
what happened) and an entry in the submission's own timeline (actor ``operator:<name>``).

* **resend**: DEAD/FAILED → QUEUED, due now (the journal's state machine allows exactly this).
* **resolve**: the operator handled it outside the gateway (DEAD, FAILED or flagged).
* **cancel**: it must not be sent: QUEUED, RETRY_WAIT, DEAD or FAILED → CANCELLED (final; the
  MIS is told like of any final state). Refused while a worker holds the row, so nothing in
  flight is cancelled under the worker's feet.

resolve does not change the journal state; it is recorded as a disposition, and dashboards and
alerts leave resolved submissions out.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.errors import ConcurrentUpdate, IllegalTransition
from gateway.journal.outcome_texts import as_stored, outcome_text
from gateway.journal.store import Changes, Journal
from gateway.model import State
from gateway.ui.schema import ui_audit, ui_dispositions

__all__ = [
    "CANCELLABLE",
    "RESENDABLE",
    "Action",
    "ActionRefused",
    "ActionResult",
    "applies",
    "audit",
    "audit_entries",
    "disposition",
    "perform",
]

RESENDABLE = (State.DEAD, State.FAILED)
CANCELLABLE = (State.QUEUED, State.RETRY_WAIT, State.DEAD, State.FAILED)
CANCELLED_CODE = "OPERATOR_CANCELLED"


class Action(enum.StrEnum):
    RESEND = "resend"
    RESOLVE = "resolve"
    CANCEL = "cancel"


class ActionRefused(Exception):
    """The action does not apply to the submission as it stands (audited as refused)."""


@dataclass(frozen=True, slots=True)
class ActionResult:
    action: Action
    from_state: State
    to_state: State


def applies(action: Action, state: State, flagged: bool) -> bool:
    """Whether ``action`` can be carried out on a submission in ``state`` (the bulk preview's rule)."""
    if action is Action.RESEND:
        return state in RESENDABLE
    if action is Action.CANCEL:
        return state in CANCELLABLE
    return state in RESENDABLE or flagged


def actor_name(username: str) -> str:
    return f"operator:{username}"


async def audit(
    engine: AsyncEngine,
    journal: Journal,
    *,
    username: str,
    action: str,
    outcome: str,
    submission_id: str | None = None,
    from_state: State | None = None,
    to_state: State | None = None,
    comment: str | None = None,
) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            ui_audit.insert().values(
                at=journal.clock.now(),
                username=username,
                action=action,
                submission_id=submission_id,
                from_state=str(from_state) if from_state else None,
                to_state=str(to_state) if to_state else None,
                comment=comment,
                outcome=outcome,
            )
        )


async def perform(journal: Journal, submission_id: str, action: Action, *, username: str, comment: str) -> ActionResult:
    """Carry out ``action`` and audit it; ActionRefused (also audited) when it does not apply.
    NotFound when there is no such submission."""
    sub = await journal.get(submission_id)
    engine = journal.engine
    try:
        result = await _apply(journal, sub.id, sub.state, sub.flagged, action, username=username, comment=comment)
    except (ActionRefused, IllegalTransition, ConcurrentUpdate) as exc:
        await audit(
            engine, journal, username=username, action=str(action), outcome="refused",
            submission_id=sub.id, from_state=sub.state, comment=comment,
        )  # fmt: skip
        raise ActionRefused(str(exc)) from exc
    await audit(
        engine, journal, username=username, action=str(action), outcome="ok", submission_id=sub.id,
        from_state=result.from_state, to_state=result.to_state, comment=comment,
    )  # fmt: skip
    return result


async def _apply(
    journal: Journal, sid: str, state: State, flagged: bool, action: Action, *, username: str, comment: str
) -> ActionResult:
    actor = actor_name(username)
    details = {"operator": username, "action": str(action), "comment": comment}
    if action is Action.RESEND:
        if state not in RESENDABLE:
            raise ActionRefused(f"resend applies to DEAD or FAILED, not {state}")
        updated = await journal.transition(
            sid,
            State.QUEUED,
            actor=actor,
            expected=RESENDABLE,
            changes=Changes(next_attempt_at=journal.clock.now()),
            code="OPERATOR_RESEND",
            message=comment,
            details=details,
        )
        async with journal.engine.begin() as conn:  # a resent submission is live again
            await conn.execute(ui_dispositions.delete().where(ui_dispositions.c.submission_id == sid))
        return ActionResult(action, state, updated.state)
    if action is Action.CANCEL:
        if state not in CANCELLABLE:
            raise ActionRefused(f"cancel applies to QUEUED, RETRY_WAIT, DEAD or FAILED, not {state}")
        updated = await journal.transition(
            sid,
            State.CANCELLED,
            actor=actor,
            expected=CANCELLABLE,
            unleased=True,
            # What the MIS is told: the operator's comment is internal and stays in the timeline.
            changes=Changes(
                outcome_code=CANCELLED_CODE,
                outcome_message=outcome_text("cancelled").en,
                outcome_text=as_stored(outcome_text("cancelled")),
                outcome_source="operator",
                next_attempt_at=None,
            ),
            code=CANCELLED_CODE,
            message=comment,
            details=details,
        )
        async with journal.engine.begin() as conn:
            await conn.execute(ui_dispositions.delete().where(ui_dispositions.c.submission_id == sid))
        return ActionResult(action, state, updated.state)
    if not applies(action, state, flagged):
        raise ActionRefused(f"{action} does not apply to a {state} submission")
    disposition = "resolved"
    now = journal.clock.now()
    async with journal.engine.begin() as conn:
        table = ui_dispositions
        await conn.execute(table.delete().where(table.c.submission_id == sid))
        await conn.execute(
            table.insert().values(
                submission_id=sid, disposition=disposition, username=username, at=now, comment=comment
            )
        )
    await journal.note(
        sid, kind="operator", actor=actor, code=f"OPERATOR_{disposition.upper()}", message=comment, details=details
    )
    return ActionResult(action, state, state)


async def disposition(engine: AsyncEngine, submission_id: str) -> dict[str, object] | None:
    async with engine.connect() as conn:
        row = (
            await conn.execute(sa.select(ui_dispositions).where(ui_dispositions.c.submission_id == submission_id))
        ).first()
    return dict(row._mapping) if row else None


async def audit_entries(
    engine: AsyncEngine, *, submission_id: str | None = None, limit: int = 200
) -> list[dict[str, object]]:
    stmt = sa.select(ui_audit).order_by(ui_audit.c.id.desc()).limit(limit)
    if submission_id is not None:
        stmt = stmt.where(ui_audit.c.submission_id == submission_id)
    async with engine.connect() as conn:
        return [dict(r._mapping) for r in (await conn.execute(stmt)).all()]
