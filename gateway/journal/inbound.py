"""The journal of inbound documents: documents addressed to our organisations, whatever peer
brought them (not :mod:`gateway.journal.inbox`, which holds peers' answers about our own
submissions).

One transaction records a document, links it to the referral it names, decides whether it is
offered to the MIS or flagged for an operator, and — when offered — gives it the next place in the
offer sequence and writes its webhook notice. The sequence number comes from one counter row
updated in that transaction, so transactions that offer documents commit in sequence order: a
reader that has seen number n has seen every number below it, and a cursor never skips a document
that commits later.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.errors import ConcurrentUpdate
from gateway.inbound.contract import OFFERED_STATES, InboundReason, InboundState
from gateway.journal.codec import CODEC_NAME
from gateway.journal.held_outcomes import HeldOutcome, held_outcome
from gateway.journal.inbound_outbox import InboundOutbox
from gateway.journal.inbound_records import (
    INBOUND_NOTICE_VERSION,
    RECORD_COLUMNS,
    InboundEvent,
    InboundRecord,
    NewInbound,
    StoredContent,
    notice_body,
    offer_view,
    record_of,
)
from gateway.journal.ksi_marks import Mark, with_marks
from gateway.journal.schema import (
    clients,
    inbound_acks,
    inbound_cursors,
    inbound_documents,
    inbound_events,
    inbound_notices,
    submissions,
)
from gateway.journal.store import Changes, Journal
from gateway.model import FINAL_STATES, State

__all__ = [
    "INBOUND_NOTICE_VERSION",
    "OFFER_SEQUENCE",
    "InboundEvent",
    "InboundJournal",
    "InboundOutbox",
    "InboundRecord",
    "NewInbound",
    "StoredContent",
    "notice_body",
    "offer_view",
]

_D: Final = inbound_documents.c
_A: Final = inbound_acks.c
_C: Final = inbound_cursors.c
_S: Final = submissions.c
OFFER_SEQUENCE: Final = "offer-seq"
# A referral that the gateway itself refused, or its peer did: a decision on it contradicts that.
_REFUSED_REFERRAL: Final = frozenset({str(State.REJECTED), str(State.FAILED)})


class _HoldAppeared(Exception):
    """An outcome was held on the document while an operator's decision was being written."""


async def _nothing(conn: AsyncConnection, event_id: int) -> None:
    return None


class InboundJournal:
    """Async access to the inbound tables; stateless apart from the journal it wraps."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    # -- recording --------------------------------------------------------------------------

    async def known(self, peer: str, peer_document_id: str) -> bool:
        stmt = sa.select(_D.id).where(_D.peer == peer, _D.peer_document_id == peer_document_id)
        async with self.journal.engine.connect() as conn:
            return (await conn.execute(stmt)).first() is not None

    async def _existing(self, conn: AsyncConnection, new: NewInbound) -> InboundRecord | None:
        stmt = (
            sa.select(*RECORD_COLUMNS)
            .where(
                sa.or_(
                    sa.and_(_D.peer == new.peer, _D.peer_document_id == new.peer_document_id),
                    sa.and_(_D.recipient_oid == new.recipient_oid, _D.sha256 == new.sha256),
                )
            )
            .limit(1)
        )
        row = (await conn.execute(stmt)).first()
        return None if row is None else record_of(row)

    async def record(self, new: NewInbound) -> tuple[InboundRecord, bool]:
        """Record ``new`` once. Returns the record and whether it is new; a document already
        recorded (same peer and peer id, or the same bytes for the same recipient) changes nothing
        but a note when another peer brought it."""
        try:
            return await self.record_of(new)
        except IntegrityError:
            # Another transaction recorded it between our look-up and insert (PostgreSQL: the
            # same result by SMEV and by REMD discovery at the same moment). Note the copy as
            # record_of would have, so every route that brought it shows on its timeline.
            async with self.journal.writing() as conn:
                existing = await self._existing(conn, new)
                if existing is None:
                    raise
                await self._seen_again(conn, existing, new)
            return existing, False

    async def record_of(self, new: NewInbound) -> tuple[InboundRecord, bool]:
        j = self.journal
        now = j.clock.now()
        doc_id = str(uuid.uuid4())
        async with j.writing() as conn:
            existing = await self._existing(conn, new)
            if existing is not None:
                await self._seen_again(conn, existing, new)
                return existing, False
            referral = await self._referral(conn, new)
            state, reason = InboundState.ACCEPTED, new.flag
            if reason is None and referral is None:
                reason = (
                    InboundReason.UNKNOWN_REFERRAL,
                    "the document names no referral of this organisation known to the gateway"
                    if new.referral_local_uid
                    else "the document names no referral",
                )
            if reason is None:
                reason = await self._same_identity(conn, new)
            if reason is None and referral is not None and new.final:
                reason = await self._contradiction(conn, new, referral)
            if reason is not None:
                state = InboundState.FLAGGED
            await conn.execute(
                inbound_documents.insert().values(
                    id=doc_id,
                    peer=new.peer,
                    peer_document_id=new.peer_document_id,
                    peer_ids=dict(new.peer_ids),
                    kind=new.kind,
                    recipient_oid=new.recipient_oid,
                    local_uid=new.local_uid,
                    author_oid=new.author_oid,
                    referral_local_uid=new.referral_local_uid,
                    submission_id=referral.id if referral is not None else None,
                    patient_key=new.patient_key,
                    final=new.final,
                    state=str(state),
                    reason_code=str(reason[0]) if reason else None,
                    reason_message=reason[1][:2000] if reason else None,
                    report=dict(new.report) if new.report is not None else None,
                    sha256=new.sha256,
                    size=len(new.content.document),
                    codec=CODEC_NAME,
                    body=j.seal_body(new.content.encode(), bind=doc_id),
                    registered_at=new.registered_at,
                    received_at=now,
                    updated_at=now,
                )
            )
            await self._event(
                conn,
                doc_id,
                now,
                "received",
                new.peer,
                code=str(reason[0]) if reason else None,
                message=reason[1] if reason else "verified and linked",
                details={"peer_document_id": new.peer_document_id, "submission_id": referral.id if referral else None},
            )
            if state is InboundState.ACCEPTED:
                await self._offer(conn, doc_id, now, new.peer, new.content)
            record = await self._get(conn, doc_id)
        return record, True

    async def _seen_again(self, conn: AsyncConnection, existing: InboundRecord, new: NewInbound) -> None:
        if (existing.peer, existing.peer_document_id) != (new.peer, new.peer_document_id):
            await self._event(
                conn,
                existing.id,
                self.journal.clock.now(),
                "seen-again",
                new.peer,
                message="the same document, brought again by another peer or under another id",
                details={"peer": new.peer, "peer_document_id": new.peer_document_id},
            )

    async def _referral(self, conn: AsyncConnection, new: NewInbound) -> Any:
        """The submission the document answers: the recipient's own document with that localUid,
        locked (PostgreSQL) so two answers to one referral are decided one after the other."""
        if not new.referral_local_uid:
            return None
        stmt = (
            sa.select(_S.id, _S.state, _S.source_system, _S.callback_url)
            .where(_S.local_uid == new.referral_local_uid, _S.organization_oid == new.recipient_oid)
            .order_by(_S.created_at.desc())
            .limit(1)
        )
        if self.journal.engine.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        return (await conn.execute(stmt)).first()

    async def _same_identity(self, conn: AsyncConnection, new: NewInbound) -> tuple[InboundReason, str] | None:
        """A document offered already under this one's own id (author, localUid) with other bytes.

        The bytes are what identifies a document across routes (its signatures cover exactly
        them), so a copy with the same bytes was matched before we got here. Same id, other
        bytes: a damaged or re-issued copy — never offered a second time. Only an *offered* one
        counts: if the first copy to arrive was damaged (flagged), the intact one from the other
        route is the one the MIS must get."""
        if not new.local_uid:
            return None
        earlier = (
            await conn.execute(
                sa.select(_D.id, _D.peer)
                .where(
                    _D.recipient_oid == new.recipient_oid,
                    _D.local_uid == new.local_uid,
                    sa.or_(_D.author_oid == new.author_oid, _D.author_oid.is_(None)) if new.author_oid else sa.true(),
                    _D.sha256 != new.sha256,
                    _D.state.in_([str(s) for s in OFFERED_STATES]),
                )
                .limit(1)
            )
        ).first()
        if earlier is None:
            return None
        return (
            InboundReason.SAME_ID_OTHER_BYTES,
            f"a document with this localUid was already offered to the MIS with other bytes "
            f"(inbound {earlier.id}, from {earlier.peer})",
        )

    async def _contradiction(
        self, conn: AsyncConnection, new: NewInbound, referral: Any
    ) -> tuple[InboundReason, str] | None:
        if referral.state in _REFUSED_REFERRAL:
            return (
                InboundReason.CONTRADICTS_OUTCOME,
                f"the referral ended {referral.state} at the gateway, yet a decision on it arrived",
            )
        earlier = (
            await conn.execute(
                sa.select(_D.id, _D.kind)
                .where(
                    _D.submission_id == referral.id,
                    _D.final.is_(True),
                    _D.state.in_([str(s) for s in OFFERED_STATES]),
                    _D.sha256 != new.sha256,
                )
                .limit(1)
            )
        ).first()
        if earlier is None:
            return None
        return (
            InboundReason.CONTRADICTS_OUTCOME,
            f"the referral already has a final outcome (kind {earlier.kind}, inbound {earlier.id})",
        )

    async def _next_seq(self, conn: AsyncConnection, now: datetime) -> int:
        bump = (
            inbound_cursors.update()
            .where(_C.name == OFFER_SEQUENCE)
            .values(number=_C.number + 1, updated_at=now)
            .returning(_C.number)
        )
        seq = (await conn.execute(bump)).scalar_one_or_none()
        if seq is None:  # the migration seeds the row; a database built otherwise starts it here
            await conn.execute(inbound_cursors.insert().values(name=OFFER_SEQUENCE, number=1, updated_at=now))
            return 1
        return int(seq)

    async def _offer(
        self, conn: AsyncConnection, doc_id: str, now: datetime, actor: str, content: StoredContent
    ) -> None:
        """Give the document its place in the offer sequence and owe its webhook notice."""
        seq = await self._next_seq(conn, now)
        await conn.execute(inbound_documents.update().where(_D.id == doc_id).values(offer_seq=seq, updated_at=now))
        record = await self._get(conn, doc_id)
        target = None
        if record.submission_id is not None:
            target = (
                await conn.execute(
                    sa.select(_S.callback_url, clients.c.id.label("client_id"))
                    .select_from(submissions.outerjoin(clients, clients.c.source_system == _S.source_system))
                    .where(_S.id == record.submission_id)
                )
            ).first()
        notice = target is not None and bool(target.callback_url)
        if notice:
            assert target is not None
            await conn.execute(
                inbound_notices.insert().values(
                    document_id=doc_id,
                    client_id=target.client_id,
                    channel="rest",
                    url=target.callback_url,
                    body=self.journal.seal_body(notice_body(record, content), bind=doc_id),
                    state="pending",
                    next_attempt_at=now,
                    created_at=now,
                )
            )
        await self._event(
            conn,
            doc_id,
            now,
            "offered",
            actor,
            message=f"offered to the MIS at position {seq}" + (" (webhook owed)" if notice else ""),
        )

    async def _event(
        self,
        conn: AsyncConnection,
        doc_id: str,
        at: datetime,
        kind: str,
        actor: str,
        *,
        code: str | None = None,
        message: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        await conn.execute(
            inbound_events.insert().values(
                document_id=doc_id, at=at, kind=kind, actor=actor[:120], code=code, message=message, details=details
            )
        )

    async def _get(self, conn: AsyncConnection, doc_id: str) -> InboundRecord:
        row = (await conn.execute(sa.select(*RECORD_COLUMNS).where(_D.id == doc_id))).first()
        if row is None:
            raise KeyError(doc_id)
        return record_of(row)

    # -- operators --------------------------------------------------------------------------

    async def release(self, doc_id: str, actor: str, note: str = "") -> InboundRecord:
        """An operator releases a flagged document: it is offered to the MIS with its flag, and a
        peer outcome held on it (gateway.journal.held_outcomes) is applied to its referral in the
        same transaction."""
        return await self._decide(doc_id, actor, note, InboundState.RELEASED)

    async def dismiss(self, doc_id: str, actor: str, note: str = "") -> InboundRecord:
        """An operator dismisses a flagged document: kept with its bytes, never offered; an outcome
        held on it stays unapplied (the referral waits for a valid answer), said on its timeline."""
        return await self._decide(doc_id, actor, note, InboundState.DISMISSED)

    async def _decide(self, doc_id: str, actor: str, note: str, to: InboundState) -> InboundRecord:
        for _ in range(5):
            record = await self.get(doc_id)
            if record is None:
                raise KeyError(doc_id)
            if record.state is not InboundState.FLAGGED:
                raise ValueError(f"inbound document {doc_id} is {record.state}, not FLAGGED")
            held: HeldOutcome | None = None
            sub = None
            if record.submission_id is not None:
                async with self.journal.engine.connect() as conn:
                    held = await held_outcome(conn, record.submission_id, doc_id)
                sub = await self.journal.get(record.submission_id) if held is not None else None
            try:
                if held is None or sub is None or sub.is_final:
                    return await self._decide_alone(doc_id, actor, note, to, record.submission_id)
                return await self._decide_held(doc_id, actor, note, to, held, sub)
            except (ConcurrentUpdate, _HoldAppeared):
                continue  # the referral or its holds changed meanwhile: look again
        raise ConcurrentUpdate("the document's referral kept changing; try again", details={"id": doc_id})

    async def _decide_alone(
        self, doc_id: str, actor: str, note: str, to: InboundState, submission_id: str | None
    ) -> InboundRecord:
        async with self.journal.writing() as conn:
            await self._decide_in(conn, doc_id, actor, note, to)
            # Under the row lock _decide_in took: an outcome held on this document since we
            # looked must be applied with it (or noted), so look again.
            if submission_id is not None and await held_outcome(conn, submission_id, doc_id) is not None:
                state = (await conn.execute(sa.select(_S.state).where(_S.id == submission_id))).scalar_one()
                if State(state) not in FINAL_STATES:
                    raise _HoldAppeared(doc_id)
            return await self._get(conn, doc_id)

    async def _decide_held(
        self, doc_id: str, actor: str, note: str, to: InboundState, held: HeldOutcome, sub: Any
    ) -> InboundRecord:
        j = self.journal

        async def decide(conn: AsyncConnection, event_id: int) -> None:
            await self._decide_in(conn, doc_id, actor, note, to)
            if to is InboundState.RELEASED and held.marks:
                write = with_marks(
                    _nothing,
                    submission_id=sub.id,
                    peer=held.peer,
                    marks=[Mark(str(m["name"]), None, m.get("bureau"), m.get("region")) for m in held.marks],
                    now=j.clock.now(),
                )
                await write(conn, event_id)

        if to is InboundState.RELEASED:
            success = held.to is State.REGISTERED
            await j.transition(
                sub.id,
                held.to,
                actor=actor,
                expected=sub.state,
                code=held.outcome_code,
                message=f"held outcome applied: {actor} released its document (inbound {doc_id})",
                changes=Changes(
                    peer_registration_id=held.peer_registration_id if success else None,
                    outcome_code=held.outcome_code,
                    outcome_message=held.outcome_message,
                    outcome_source="callback",
                    next_attempt_at=None,
                    answer_deadline=None,
                ),
                details={"held": held.to_json(), "inbound_id": doc_id, "note": note[:2000] or None},
                also=decide,
            )
        else:
            await j.note(
                sub.id,
                kind="outcome-dismissed",
                actor=actor,
                code=str(InboundState.DISMISSED),
                message=(
                    f"{actor} dismissed the document (inbound {doc_id}) the held outcome stood on: "
                    "the outcome stays unapplied; the referral waits for a valid answer"
                ),
                details={"held": held.to_json(), "inbound_id": doc_id, "note": note[:2000] or None},
                also=decide,
            )
        record = await self.get(doc_id)
        assert record is not None
        return record

    async def _decide_in(self, conn: AsyncConnection, doc_id: str, actor: str, note: str, to: InboundState) -> None:
        j = self.journal
        now = j.clock.now()
        updated = await conn.execute(
            inbound_documents.update()
            .where(_D.id == doc_id, _D.state == str(InboundState.FLAGGED))
            .values(state=str(to), updated_at=now)
        )
        if updated.rowcount == 0:
            record = await self._get(conn, doc_id)
            raise ValueError(f"inbound document {doc_id} is {record.state}, not FLAGGED")
        await self._event(conn, doc_id, now, "operator", actor, code=str(to), message=note[:2000] or None)
        if to is InboundState.RELEASED:
            sealed = (await conn.execute(sa.select(_D.body).where(_D.id == doc_id))).scalar_one()
            content = StoredContent.decode(j.open_body(sealed, bind=doc_id))
            await self._offer(conn, doc_id, now, actor, content)

    # -- reading ----------------------------------------------------------------------------

    async def get(self, doc_id: str) -> InboundRecord | None:
        async with self.journal.engine.connect() as conn:
            try:
                return await self._get(conn, doc_id)
            except KeyError:
                return None

    async def content(self, doc_id: str) -> StoredContent | None:
        async with self.journal.engine.connect() as conn:
            sealed = (await conn.execute(sa.select(_D.body).where(_D.id == doc_id))).scalar_one_or_none()
        return None if sealed is None else StoredContent.decode(self.journal.open_body(sealed, bind=doc_id))

    async def events(self, doc_id: str) -> list[InboundEvent]:
        e = inbound_events.c
        stmt = sa.select(inbound_events).where(e.document_id == doc_id).order_by(e.id)
        async with self.journal.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        return [InboundEvent(r.at, r.kind, r.actor, r.code, r.message, r.details) for r in rows]

    async def listing(
        self, *, states: Iterable[InboundState] = (), reason: str | None = None, limit: int = 100
    ) -> list[InboundRecord]:
        """Newest first, for operators."""
        stmt = sa.select(*RECORD_COLUMNS).order_by(_D.received_at.desc(), _D.id).limit(limit)
        wanted = [str(s) for s in states]
        if wanted:
            stmt = stmt.where(_D.state.in_(wanted))
        if reason:
            stmt = stmt.where(_D.reason_code == reason)
        async with self.journal.engine.connect() as conn:
            return [record_of(r) for r in (await conn.execute(stmt)).all()]

    async def counts(self) -> dict[str, int]:
        stmt = sa.select(_D.state, sa.func.count()).group_by(_D.state)
        async with self.journal.engine.connect() as conn:
            return {str(r[0]): int(r[1]) for r in (await conn.execute(stmt)).all()}

    # -- the MIS's pull API -----------------------------------------------------------------

    def _addressed(self, organisations: Sequence[str]) -> Any:
        return sa.true() if "*" in organisations else _D.recipient_oid.in_(list(organisations))

    async def offers(
        self, client_id: str, organisations: Sequence[str], *, after: int, limit: int
    ) -> list[tuple[InboundRecord, StoredContent]]:
        """Offered documents addressed to ``organisations`` that ``client_id`` has not
        acknowledged, after position ``after``, in sequence order."""
        acked = sa.select(_A.document_id).where(_A.document_id == _D.id, _A.client_id == client_id).exists()
        stmt = (
            sa.select(*RECORD_COLUMNS, _D.body)
            .where(
                _D.offer_seq > after,
                _D.state.in_([str(s) for s in OFFERED_STATES]),
                self._addressed(organisations),
                ~acked,
            )
            .order_by(_D.offer_seq)
            .limit(limit)
        )
        async with self.journal.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        j = self.journal
        return [(record_of(r), StoredContent.decode(j.open_body(r.body, bind=r.id))) for r in rows]

    async def acknowledge(
        self, client_id: str, organisations: Sequence[str], ids: Iterable[str]
    ) -> tuple[list[str], list[str]]:
        """Record the client's acknowledgement of ``ids``. Returns (acknowledged, unknown):
        an id that is not an offered document addressed to the client is unknown to it; an id
        acknowledged before is acknowledged (idempotent)."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return [], []
        now = self.journal.clock.now()
        async with self.journal.writing() as conn:
            ours = {
                r.id
                for r in (
                    await conn.execute(
                        sa.select(_D.id).where(
                            _D.id.in_(wanted),
                            _D.state.in_([str(s) for s in OFFERED_STATES]),
                            self._addressed(organisations),
                        )
                    )
                ).all()
            }
            done = {
                r.document_id
                for r in (
                    await conn.execute(
                        sa.select(_A.document_id).where(_A.client_id == client_id, _A.document_id.in_(list(ours)))
                    )
                ).all()
            }
            fresh = [i for i in wanted if i in ours and i not in done]
            if fresh:
                await conn.execute(
                    inbound_acks.insert(), [{"document_id": i, "client_id": client_id, "acked_at": now} for i in fresh]
                )
                for i in fresh:
                    await self._event(conn, i, now, "acknowledged", client_id)
        return [i for i in wanted if i in ours], [i for i in wanted if i not in ours]

    async def submitting_organisations(self, since: datetime) -> list[str]:
        """Organisations that submitted anything since ``since``: the MOs a wildcard client
        (organisations ``*``) is served for, as far as the journal shows."""
        stmt = sa.select(_S.organization_oid).where(_S.created_at >= since).distinct()
        async with self.journal.engine.connect() as conn:
            return sorted(str(r[0]) for r in (await conn.execute(stmt)).all())

    # -- named positions (discovery windows) ------------------------------------------------

    async def position(self, name: str) -> datetime | None:
        async with self.journal.engine.connect() as conn:
            return (await conn.execute(sa.select(_C.position).where(_C.name == name))).scalar_one_or_none()

    async def set_position(self, name: str, value: datetime) -> None:
        now = self.journal.clock.now()
        async with self.journal.writing() as conn:
            done = await conn.execute(
                inbound_cursors.update().where(_C.name == name).values(position=value, updated_at=now)
            )
            if done.rowcount == 0:
                await conn.execute(inbound_cursors.insert().values(name=name, position=value, updated_at=now))
