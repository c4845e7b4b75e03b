"""Requests peers send the gateway as a *provider* (SMEV 3 GetRequest), and the answers owed to them.

A request is recorded once per ``(peer, message_id)`` — a redelivery (not Acked in time, or the
gateway crashed between "recorded" and "Ack") finds its row, counts one more ``seen`` and changes
nothing else — and it is recorded whatever its checks said: an untrusted one keeps its code, reason
and bytes (the incoming envelope, sealed) for operators, and can never be answered.

An answer (business content, or a rejection with reason codes) is written here first
(``answer_state = owed``). The message id it travels under is committed by :meth:`message_id`
before the first send and reused on every resend; ``settle`` records what the peer said: ``sent``
(also when the peer says the id was already sent), ``refused`` (permanent, with its code and text),
``retry`` (transient: the next attempt after a pause, same id) or ``renew`` (the id was stale: the
next attempt gets a new one).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, Literal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from gateway.journal.codec import CODEC_NAME
from gateway.journal.schema import peer_requests
from gateway.journal.store import Journal
from gateway.model import EnvelopeIn

__all__ = [
    "AnswerRefused",
    "OwedAnswer",
    "PeerRequest",
    "PeerRequests",
    "RecordedRequest",
    "RequestReceipt",
    "Settlement",
]

_Q: Final = peer_requests.c

Settlement = Literal["sent", "refused", "retry", "renew"]


class AnswerRefused(ValueError):
    """The request cannot be answered (unknown, untrusted, or already answered otherwise)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class PeerRequest:
    """A request taken from a peer's queue, as the adapter hands it to the core."""

    peer: str
    message_id: str  # the peer's id of the message: redeliveries carry the same
    trusted: bool  # its transport signature (and attachments) verified
    reply_to: str | None = None  # where the answer goes (SMEV ReplyTo)
    sender: str | None = None
    content_namespace: str | None = None
    content_root: str | None = None
    code: str | None = None  # why it is not trusted
    reason: str | None = None
    envelopes: Sequence[EnvelopeIn] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class RequestReceipt:
    id: str
    created: bool  # False: recorded before (a redelivery)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    id: str
    peer: str
    message_id: str
    reply_to: str | None
    sender: str | None
    content_namespace: str | None
    content_root: str | None
    trusted: bool
    code: str | None
    reason: str | None
    received_at: datetime
    seen: int
    answer_state: str | None
    answer_kind: str | None
    answer_message_id: str | None
    answer_attempts: int
    answer_code: str | None
    answer_text: str | None


@dataclass(frozen=True, slots=True)
class OwedAnswer:
    """An answer to send: ``content`` (business XML) or ``rejections`` ((code, description), …)."""

    request_id: str
    peer: str
    request_message_id: str
    reply_to: str
    message_id: str | None  # committed before the first send; None: not sent yet
    attempts: int
    content: bytes | None = None
    rejections: tuple[tuple[str, str], ...] = ()


def _recorded(r: sa.Row[tuple[object, ...]]) -> RecordedRequest:
    m = r._mapping
    return RecordedRequest(
        id=m["id"],
        peer=m["peer"],
        message_id=m["message_id"],
        reply_to=m["reply_to"],
        sender=m["sender"],
        content_namespace=m["content_namespace"],
        content_root=m["content_root"],
        trusted=bool(m["trusted"]),
        code=m["code"],
        reason=m["reason"],
        received_at=m["received_at"],
        seen=m["seen"],
        answer_state=m["answer_state"],
        answer_kind=m["answer_kind"],
        answer_message_id=m["answer_message_id"],
        answer_attempts=m["answer_attempts"],
        answer_code=m["answer_code"],
        answer_text=m["answer_text"],
    )


class PeerRequests:
    """The journal of requests to us and our answers (the core's ``RequestPort``)."""

    # Pause before the n-th resend of a transiently failed answer: 10 s doubling, at most 10 min.
    BASE_PAUSE: Final = 10.0
    MAX_PAUSE: Final = 600.0

    def __init__(self, journal: Journal) -> None:
        self.journal = journal

    async def record(self, request: PeerRequest) -> RequestReceipt:
        """Durable when this returns (acknowledge to the peer only then); raises otherwise."""
        row_id = str(uuid.uuid4())
        incoming = [e for e in request.envelopes if e.direction == "in"]
        values: dict[str, object] = {}
        if incoming:
            body = incoming[0].body
            values = {
                "content_type": incoming[0].content_type[:120],
                "size": len(body),
                "sha256": hashlib.sha256(body).hexdigest(),
                "codec": CODEC_NAME,
                "body": self.journal.seal_body(body, bind=row_id),
            }
        try:
            async with self.journal.writing() as conn:
                await conn.execute(
                    peer_requests.insert().values(
                        id=row_id,
                        peer=request.peer,
                        message_id=request.message_id[:200],
                        reply_to=request.reply_to,
                        sender=(request.sender or "")[:200] or None,
                        content_namespace=(request.content_namespace or "")[:500] or None,
                        content_root=(request.content_root or "")[:200] or None,
                        trusted=request.trusted,
                        code=(request.code or "")[:60] or None,
                        reason=(request.reason or "")[:2000] or None,
                        received_at=self.journal.clock.now(),
                        seen=1,
                        answer_attempts=0,
                        **values,
                    )
                )
        except IntegrityError:
            key = (_Q.peer == request.peer) & (_Q.message_id == request.message_id[:200])
            async with self.journal.writing() as conn:
                found = (await conn.execute(sa.select(_Q.id).where(key))).scalar_one_or_none()
                if found is None:
                    raise
                await conn.execute(peer_requests.update().where(key).values(seen=_Q.seen + 1))
            return RequestReceipt(str(found), created=False)
        return RequestReceipt(row_id, created=True)

    async def get(self, request_id: str) -> RecordedRequest | None:
        async with self.journal.engine.connect() as conn:
            row = (await conn.execute(sa.select(peer_requests).where(_Q.id == request_id))).first()
        return None if row is None else _recorded(row)

    async def find(self, peer: str, message_id: str) -> RecordedRequest | None:
        stmt = sa.select(peer_requests).where(_Q.peer == peer, _Q.message_id == message_id)
        async with self.journal.engine.connect() as conn:
            row = (await conn.execute(stmt)).first()
        return None if row is None else _recorded(row)

    async def entries(self, *, peer: str | None = None, limit: int = 100) -> list[RecordedRequest]:
        stmt = sa.select(peer_requests).order_by(_Q.received_at.desc()).limit(limit)
        if peer is not None:
            stmt = stmt.where(_Q.peer == peer)
        async with self.journal.engine.connect() as conn:
            return [_recorded(r) for r in (await conn.execute(stmt)).all()]

    async def body(self, request_id: str) -> bytes | None:
        """The request's incoming envelope, opened (the handler's or an operator's business)."""
        async with self.journal.engine.connect() as conn:
            sealed = (await conn.execute(sa.select(_Q.body).where(_Q.id == request_id))).scalar_one_or_none()
        return None if sealed is None else self.journal.open_body(sealed, bind=request_id)

    async def answer(
        self,
        request_id: str,
        *,
        content: bytes | None = None,
        rejections: Sequence[tuple[str, str]] = (),
        by: str = "",
    ) -> None:
        """Owe the peer this answer (committed here; the provider loop sends it). Exactly one of
        ``content`` and ``rejections``. The same answer again is a no-op; another one, or an
        answer to an untrusted or unknown request, raises :class:`AnswerRefused`."""
        if (content is None) == (not rejections):
            raise ValueError("an answer is business content or rejections, not both or neither")
        kind = "business" if content is not None else "rejected"
        payload = content if content is not None else json.dumps([list(r) for r in rejections]).encode()
        async with self.journal.writing() as conn:
            row = (await conn.execute(sa.select(peer_requests).where(_Q.id == request_id))).first()
            if row is None:
                raise AnswerRefused("REQUEST_UNKNOWN", f"no request {request_id}")
            if not row.trusted:
                raise AnswerRefused("REQUEST_UNTRUSTED", f"request {request_id} was not trusted ({row.code})")
            if not row.reply_to:
                raise AnswerRefused("REQUEST_NO_REPLY_TO", f"request {request_id} says nowhere to answer")
            if row.answer_state is not None:
                same = row.answer_kind == kind and self.journal.open_body(
                    row.answer_body, bind=f"{request_id}:answer"
                ) == bytes(payload)
                if same:
                    return
                raise AnswerRefused("REQUEST_ALREADY_ANSWERED", f"request {request_id} has another answer")
            await conn.execute(
                peer_requests.update()
                .where(_Q.id == request_id)
                .values(
                    answer_state="owed",
                    answer_kind=kind,
                    answer_body=self.journal.seal_body(bytes(payload), bind=f"{request_id}:answer"),
                    answered_by=by[:200] or None,
                    answered_at=self.journal.clock.now(),
                )
            )

    async def owed(self, peer: str, *, limit: int = 50) -> list[OwedAnswer]:
        """Answers to send now (owed, and their pause after a transient failure is over)."""
        now = self.journal.clock.now()
        stmt = (
            sa.select(peer_requests)
            .where(_Q.peer == peer, _Q.answer_state == "owed")
            .where(sa.or_(_Q.answer_next_at.is_(None), _Q.answer_next_at <= now))
            .order_by(_Q.answered_at)
            .limit(limit)
        )
        async with self.journal.engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        owed: list[OwedAnswer] = []
        for r in rows:
            payload = self.journal.open_body(r.answer_body, bind=f"{r.id}:answer")
            content: bytes | None = payload if r.answer_kind == "business" else None
            rejections: tuple[tuple[str, str], ...] = ()
            if r.answer_kind == "rejected":
                rejections = tuple((str(c), str(d)) for c, d in json.loads(payload))
            owed.append(
                OwedAnswer(
                    r.id,
                    r.peer,
                    r.message_id,
                    r.reply_to or "",
                    r.answer_message_id,
                    r.answer_attempts,
                    content,
                    rejections,
                )
            )
        return owed

    async def message_id(self, request_id: str, new_id: Callable[[], str]) -> str:
        """The id the answer goes under: the committed one, or a new one committed now (before
        the send), so a resend after a network error carries the same."""
        async with self.journal.writing() as conn:
            found = (
                await conn.execute(sa.select(_Q.answer_message_id).where(_Q.id == request_id))
            ).scalar_one_or_none()
            if found:
                return str(found)
            message_id = new_id()
            await conn.execute(peer_requests.update().where(_Q.id == request_id).values(answer_message_id=message_id))
        return message_id

    async def settle(
        self,
        request_id: str,
        result: Settlement,
        *,
        code: str | None = None,
        text: str | None = None,
        pause_seconds: float | None = None,
    ) -> None:
        now = self.journal.clock.now()
        values: dict[str, object] = {
            "answer_attempts": _Q.answer_attempts + 1,
            "answer_code": (code or "")[:120] or None,
            "answer_text": (text or "")[:2000] or None,
        }
        if result == "sent":
            values |= {"answer_state": "sent", "answer_sent_at": now, "answer_next_at": None}
        elif result == "refused":
            values |= {"answer_state": "refused", "answer_next_at": None}
        else:
            async with self.journal.engine.connect() as conn:
                attempts = (
                    await conn.execute(sa.select(_Q.answer_attempts).where(_Q.id == request_id))
                ).scalar_one_or_none() or 0
            pause = pause_seconds if pause_seconds is not None else self.BASE_PAUSE * 2 ** min(attempts, 10)
            values["answer_next_at"] = now + timedelta(seconds=min(pause, self.MAX_PAUSE))
            if result == "renew":
                values["answer_message_id"] = None
        async with self.journal.writing() as conn:
            await conn.execute(
                peer_requests.update().where(_Q.id == request_id, _Q.answer_state == "owed").values(**values)
            )
