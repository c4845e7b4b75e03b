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

import base64
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.inbound.contract import OFFERED_STATES, InboundReason, InboundState
from gateway.journal.codec import CODEC_NAME
from gateway.journal.schema import (
    clients,
    inbound_acks,
    inbound_cursors,
    inbound_documents,
    inbound_events,
    inbound_notices,
    submissions,
)
from gateway.journal.store import Journal
from gateway.model import PendingNotice, State

__all__ = [
    "INBOUND_NOTICE_VERSION",
    "OFFER_SEQUENCE",
    "InboundEvent",
    "InboundJournal",
    "InboundOutbox",
    "InboundRecord",
    "NewInbound",
    "StoredContent",
]

_D: Final = inbound_documents.c
_A: Final = inbound_acks.c
_C: Final = inbound_cursors.c
_N: Final = inbound_notices.c
_S: Final = submissions.c
OFFER_SEQUENCE: Final = "offer-seq"
INBOUND_NOTICE_VERSION: Final = 1
# A referral that the gateway itself refused, or its peer did: a decision on it contradicts that.
_REFUSED_REFERRAL: Final = frozenset({str(State.REJECTED), str(State.FAILED)})


@dataclass(frozen=True, slots=True)
class StoredContent:
    """What is kept of a document, sealed: its bytes, signatures and the exchange that brought it."""

    document: bytes
    document_mime: str
    signatures: tuple[dict[str, Any], ...]  # {"type", "signer", "cms": bytes}
    envelopes: tuple[dict[str, Any], ...] = ()  # {"direction", "peer", "content_type", "body": bytes}

    def encode(self) -> bytes:
        def b64(value: bytes) -> str:
            return base64.b64encode(value).decode("ascii")

        return json.dumps(
            {
                "document": b64(self.document),
                "document_mime": self.document_mime,
                "signatures": [{**s, "cms": b64(s["cms"])} for s in self.signatures],
                "envelopes": [{**e, "body": b64(e["body"])} for e in self.envelopes],
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()

    @classmethod
    def decode(cls, data: bytes) -> StoredContent:
        raw = json.loads(data)
        return cls(
            document=base64.b64decode(raw["document"]),
            document_mime=raw["document_mime"],
            signatures=tuple({**s, "cms": base64.b64decode(s["cms"])} for s in raw["signatures"]),
            envelopes=tuple({**e, "body": base64.b64decode(e["body"])} for e in raw.get("envelopes", ())),
        )


@dataclass(frozen=True, slots=True)
class NewInbound:
    """A document to record, after its checks. ``flag`` is the reason the checks found, if any;
    linking and the contradiction rule are decided by the journal, in the recording transaction."""

    peer: str
    peer_document_id: str
    kind: str
    recipient_oid: str
    content: StoredContent
    sha256: str
    peer_ids: Mapping[str, str]
    local_uid: str | None = None
    author_oid: str | None = None
    referral_local_uid: str | None = None
    patient_key: str | None = None
    final: bool = True
    registered_at: datetime | None = None
    flag: tuple[InboundReason, str] | None = None
    report: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class InboundRecord:
    id: str
    peer: str
    peer_document_id: str
    peer_ids: dict[str, str]
    kind: str
    recipient_oid: str
    local_uid: str | None
    author_oid: str | None
    referral_local_uid: str | None
    submission_id: str | None
    final: bool
    state: InboundState
    reason_code: str | None
    reason_message: str | None
    report: dict[str, Any] | None
    sha256: str
    size: int
    registered_at: datetime | None
    offer_seq: int | None
    received_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class InboundEvent:
    at: datetime
    kind: str
    actor: str
    code: str | None
    message: str | None
    details: dict[str, Any] | None


_COLUMNS: Final = [c for c in inbound_documents.c if c.name not in {"body", "codec", "patient_key"}]


def _record(row: Any) -> InboundRecord:
    m = row._mapping
    return InboundRecord(
        id=m["id"],
        peer=m["peer"],
        peer_document_id=m["peer_document_id"],
        peer_ids=dict(m["peer_ids"] or {}),
        kind=m["kind"],
        recipient_oid=m["recipient_oid"],
        local_uid=m["local_uid"],
        author_oid=m["author_oid"],
        referral_local_uid=m["referral_local_uid"],
        submission_id=m["submission_id"],
        final=bool(m["final"]),
        state=InboundState(m["state"]),
        reason_code=m["reason_code"],
        reason_message=m["reason_message"],
        report=m["report"],
        sha256=m["sha256"],
        size=m["size"],
        registered_at=m["registered_at"],
        offer_seq=m["offer_seq"],
        received_at=m["received_at"],
        updated_at=m["updated_at"],
    )


def notice_body(record: InboundRecord, content: StoredContent) -> bytes:
    """The webhook body for an offered document (docs/inbound.md): the same fields as an item of
    ``GET /api/v1/inbox``, document and signatures included."""
    return json.dumps(
        {"version": INBOUND_NOTICE_VERSION, "event": "inbound.document", **offer_view(record, content)},
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
    ).encode()


def offer_view(record: InboundRecord, content: StoredContent) -> dict[str, Any]:
    """An offered document as the MIS sees it (pull API item, webhook body)."""

    def b64(value: bytes) -> str:
        return base64.b64encode(value).decode("ascii")

    return {
        "id": record.id,
        "cursor": str(record.offer_seq) if record.offer_seq is not None else None,
        "kind": record.kind,
        "recipient_oid": record.recipient_oid,
        "local_uid": record.local_uid,
        "author_oid": record.author_oid,
        "referral": {"local_uid": record.referral_local_uid, "submission_id": record.submission_id},
        "peer": record.peer,
        "peer_document_id": record.peer_document_id,
        "peer_ids": record.peer_ids,
        "state": str(record.state),
        "flag": {"code": record.reason_code, "message": record.reason_message} if record.reason_code else None,
        "registered_at": record.registered_at.isoformat() if record.registered_at else None,
        "received_at": record.received_at.isoformat(),
        "document": b64(content.document),
        "document_mime": content.document_mime,
        "signatures": [
            {"type": s["type"], "signer": s.get("signer") or {}, "cms": b64(s["cms"])} for s in content.signatures
        ],
    }


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
            sa.select(*_COLUMNS)
            .where(
                sa.or_(
                    sa.and_(_D.peer == new.peer, _D.peer_document_id == new.peer_document_id),
                    sa.and_(_D.recipient_oid == new.recipient_oid, _D.sha256 == new.sha256),
                )
            )
            .limit(1)
        )
        row = (await conn.execute(stmt)).first()
        return None if row is None else _record(row)

    async def record(self, new: NewInbound) -> tuple[InboundRecord, bool]:
        """Record ``new`` once. Returns the record and whether it is new; a document already
        recorded (same peer and peer id, or the same bytes for the same recipient) changes nothing
        but a note when another peer brought it."""
        try:
            return await self._record(new)
        except IntegrityError:
            # Another process recorded it between our look-up and insert.
            async with self.journal.engine.connect() as conn:
                existing = await self._existing(conn, new)
            if existing is None:
                raise
            return existing, False

    async def _record(self, new: NewInbound) -> tuple[InboundRecord, bool]:
        j = self.journal
        now = j.clock.now()
        doc_id = str(uuid.uuid4())
        async with j.writing() as conn:
            existing = await self._existing(conn, new)
            if existing is not None:
                if (existing.peer, existing.peer_document_id) != (new.peer, new.peer_document_id):
                    await self._event(
                        conn,
                        existing.id,
                        now,
                        "seen-again",
                        new.peer,
                        message="the same document, brought again by another peer or under another id",
                        details={"peer": new.peer, "peer_document_id": new.peer_document_id},
                    )
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
        row = (await conn.execute(sa.select(*_COLUMNS).where(_D.id == doc_id))).first()
        if row is None:
            raise KeyError(doc_id)
        return _record(row)

    # -- operators --------------------------------------------------------------------------

    async def release(self, doc_id: str, actor: str, note: str = "") -> InboundRecord:
        """An operator releases a flagged document: it is offered to the MIS with its flag."""
        return await self._decide(doc_id, actor, note, InboundState.RELEASED)

    async def dismiss(self, doc_id: str, actor: str, note: str = "") -> InboundRecord:
        """An operator dismisses a flagged document: kept with its bytes, never offered."""
        return await self._decide(doc_id, actor, note, InboundState.DISMISSED)

    async def _decide(self, doc_id: str, actor: str, note: str, to: InboundState) -> InboundRecord:
        j = self.journal
        now = j.clock.now()
        async with j.writing() as conn:
            record = await self._get(conn, doc_id)
            if record.state is not InboundState.FLAGGED:
                raise ValueError(f"inbound document {doc_id} is {record.state}, not FLAGGED")
            await conn.execute(
                inbound_documents.update()
                .where(_D.id == doc_id, _D.state == str(InboundState.FLAGGED))
                .values(state=str(to), updated_at=now)
            )
            await self._event(conn, doc_id, now, "operator", actor, code=str(to), message=note[:2000] or None)
            if to is InboundState.RELEASED:
                sealed = (await conn.execute(sa.select(_D.body).where(_D.id == doc_id))).scalar_one()
                content = StoredContent.decode(j.open_body(sealed, bind=doc_id))
                await self._offer(conn, doc_id, now, actor, content)
            return await self._get(conn, doc_id)

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
        stmt = sa.select(*_COLUMNS).order_by(_D.received_at.desc(), _D.id).limit(limit)
        wanted = [str(s) for s in states]
        if wanted:
            stmt = stmt.where(_D.state.in_(wanted))
        if reason:
            stmt = stmt.where(_D.reason_code == reason)
        async with self.journal.engine.connect() as conn:
            return [_record(r) for r in (await conn.execute(stmt)).all()]

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
            sa.select(*_COLUMNS, _D.body)
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
        return [(_record(r), StoredContent.decode(j.open_body(r.body, bind=r.id))) for r in rows]

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


class InboundOutbox:
    """The webhook outbox of inbound documents, with the interface of
    :class:`gateway.journal.outbox.Outbox`, so one :class:`~gateway.notices.notifier.Notifier`
    drives it. A claimed notice's ``submission_id`` carries the *inbound document* id."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    async def claim(self, owner: str, *, limit: int, lease_seconds: float) -> list[PendingNotice]:
        j = self.journal
        now = j.clock.now()
        candidates = (
            sa.select(_N.id)
            .where(
                _N.state == "pending",
                _N.next_attempt_at <= now,
                sa.or_(_N.lease_until.is_(None), _N.lease_until < now),
            )
            .order_by(_N.next_attempt_at)
            .limit(limit)
        )
        if j.engine.dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        stmt = (
            inbound_notices.update()
            .where(_N.id.in_(candidates.scalar_subquery()))
            .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease_seconds))
            .returning(_N.id, _N.document_id, _N.client_id, _N.channel, _N.url, _N.body, _N.attempts, _N.created_at)
        )
        async with j.writing() as conn:
            rows = (await conn.execute(stmt)).all()
        return [
            PendingNotice(
                id=r.id,
                submission_id=r.document_id,
                client_id=r.client_id,
                channel=r.channel,
                url=r.url,
                body=j.open_body(r.body, bind=r.document_id),
                attempts=r.attempts,
                created_at=r.created_at,
            )
            for r in rows
        ]

    async def release(self, owner: str) -> int:
        stmt = (
            inbound_notices.update()
            .where(_N.lease_owner == owner, _N.state == "pending")
            .values(lease_owner=None, lease_until=None)
        )
        async with self.journal.writing() as conn:
            result = await conn.execute(stmt)
        return int(result.rowcount)

    async def _finish(self, notice: PendingNotice, owner: str, values: dict[str, object], message: str) -> None:
        j = self.journal
        now = j.clock.now()
        async with j.writing() as conn:
            result = await conn.execute(
                inbound_notices.update()
                .where(_N.id == notice.id, _N.lease_owner == owner)
                .values(lease_owner=None, lease_until=None, attempts=_N.attempts + 1, **values)
            )
            if result.rowcount == 1:
                await conn.execute(
                    inbound_events.insert().values(
                        document_id=notice.submission_id,
                        at=now,
                        kind="notification",
                        actor=owner[:120],
                        message=message,
                        details={"channel": notice.channel, "attempt": notice.attempts + 1},
                    )
                )

    async def delivered(self, notice: PendingNotice, owner: str) -> None:
        await self._finish(
            notice,
            owner,
            {"state": "delivered", "delivered_at": self.journal.clock.now(), "last_error": None},
            "inbound notice delivered",
        )

    async def failed(self, notice: PendingNotice, owner: str, error: str, retry_at: datetime | None) -> None:
        if retry_at is None:
            values: dict[str, object] = {"state": "dead", "last_error": error[:2000]}
            message = f"inbound notice abandoned: {error[:200]}"
        else:
            values = {"next_attempt_at": retry_at, "last_error": error[:2000]}
            message = f"inbound notice failed, retry at {retry_at.isoformat()}: {error[:200]}"
        await self._finish(notice, owner, values, message)

    async def states(self, document_id: str) -> list[tuple[str, str, int]]:
        async with self.journal.engine.connect() as conn:
            rows = (
                await conn.execute(sa.select(_N.channel, _N.state, _N.attempts).where(_N.document_id == document_id))
            ).all()
        return [(r.channel, r.state, r.attempts) for r in rows]
