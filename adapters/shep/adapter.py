"""``ShepAdapter``: one ШЭП instance as a :class:`~gateway.peers.contract.PollingAdapter`.

``send`` wraps the 031/у (:mod:`adapters.shep.payload`) in an AsyncChannel ``sendMessage``
(or a SyncChannel ``SendMessage``) under the core's persisted messageId, reused on every resend;
``receive`` polls ``getMessages``, verifies every answer's WS-Security signature against the
pinned certificates, hands each message to the core's sink — an expert's conclusion first to the
core's inbound path, which verifies its own signature and offers it to the MIS — and only then
sends ``sendDeliveryNotification``. An answer that cannot be trusted (signature, malformed body) is
recorded unattributed and notified MESSAGE_NOT_ACCTEPTED so it never blocks the queue; one that
names a messageId we never sent is recorded by the core as unattributed. See docs/shep.md.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import uuid
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Final

import aiohttp
from lxml import etree

from adapters.shep import messages as m
from adapters.shep import payload as p
from adapters.shep.client import Exchange, ShepClient
from adapters.shep.codec import ShepCodec
from adapters.shep.codes import ALERT_CODES, SUCCESS_STATUSES, reported_codes
from adapters.shep.pilot import PilotTable, conclusion_deadline, observe_conclusion
from adapters.shep.settings import ShepSettings
from gateway.common.clock import Clock, SystemClock
from gateway.common.logs import get_logger
from gateway.inbound.contract import (
    OFFERED_STATES,
    InboundDocument,
    InboundPort,
    InboundReceipt,
)
from gateway.intake.submission import CanonicalSubmission
from gateway.model import EnvelopeIn, Submission
from gateway.peers.contract import Answer, AnswerKind, LookupResult, PeerOutcome, PeerSink, Progress
from gateway.signatures.certificates import Certificate
from gateway.signatures.keys import PrivateKey
from gateway.signatures.xml.wssecurity import sign_wssecurity, verify_wssecurity_body
from gateway.wire.safexml import XmlSecurityError, XmlSyntaxError, parse_xml

__all__ = [
    "DUPLICATE",
    "MALFORMED_MESSAGE",
    "SIGNATURE_NOT_TRUSTED",
    "ShepAdapter",
    "ShepReceiveError",
    "build_request",
    "document_region",
]

_log: Final = get_logger(__name__)

DUPLICATE: Final = "DUPLICATE_MESSAGE"
SIGNATURE_NOT_TRUSTED: Final = "SHEP_SIGNATURE_INVALID"
MALFORMED_MESSAGE: Final = "SHEP_MALFORMED_MESSAGE"
_KZ031: Final = "urn:mse-gateway:kz:031u:1"
CONCLUSION_KIND: Final = "kz-cbdi-conclusion"  # gateway.documents.kinds
CONCLUSION_HELD: Final = "SHEP_CONCLUSION_HELD"


@dataclass(slots=True)
class _Round:
    """What one ``receive`` round shares between its handlers (one event loop: no lock needed)."""

    calls: int  # getMessages calls left in this round
    taken: int = 0
    in_hand: int = 0  # messages being handled now
    stop: bool = False  # the sink failed: no more getMessages
    get_error: str | None = None  # the getMessages that ended the round, and why
    failure: Exception | None = None  # the sink's, raised by receive()


class ShepReceiveError(ConnectionError):
    """getMessages brought nothing usable (transport, fault, untrusted answer): the receiver backs off."""


def document_region(document: bytes) -> str:
    """The КАТО region code of the 031/у's medical organisation (``MedicalOrganisation/Address/Region@code``),
    '' when the document does not say."""
    try:
        root = parse_xml(document)
    except (XmlSecurityError, XmlSyntaxError):
        return ""
    found = root.find(f"{{{_KZ031}}}MedicalOrganisation/{{{_KZ031}}}Address/{{{_KZ031}}}Region")
    return (found.get("code") or "").strip() if found is not None else ""


def build_request(
    settings: ShepSettings, canonical: CanonicalSubmission, *, message_id: str, now: datetime
) -> m.AsyncMessage | m.SyncSendMessage:
    """The message the adapter sends for one submission (also ``envelope build``)."""
    region = document_region(canonical.document)
    data = p.build_submission(
        p.Submission031u(
            local_uid=canonical.local_uid,
            organization_oid=canonical.organization_oid,
            region=region,
            document=canonical.document,
            signatures=tuple(s.cms for s in canonical.signatures if s.cms),
        )
    )
    sender = m.Sender(settings.sender_id, settings.sender_password or None)
    props = (
        m.Property("kind", canonical.kind),
        m.Property("region", region),
        m.Property("localUid", canonical.local_uid[:500]),
    )
    if settings.channel == "sync":
        info = m.SyncMessageInfo(message_id, settings.service_id, now, sender, message_id, None, props)
        return m.SyncSendMessage(info, data)
    return m.AsyncMessage(
        m.AsyncMessageInfo(
            settings.service_id, m.MessageType.REQUEST, now, sender, message_id, message_id, None, props
        ),
        data,
    )


class ShepAdapter:
    """Delivers 031/у to ЦБДИ through ШЭП and takes ЦБДИ's answers from the AsyncChannel."""

    def __init__(
        self,
        settings: ShepSettings,
        session: aiohttp.ClientSession,
        *,
        name: str,
        key: PrivateKey,
        certificate: Certificate,
        pinned: Sequence[Certificate],
        pilot: PilotTable,
        clock: Clock | None = None,
        endpoint: str | None = None,
        inbound: InboundPort | None = None,
    ) -> None:
        url = endpoint or settings.url
        if not url:
            raise ValueError(f"the endpoint of peer {name!r} is not configured (peers.{name}.url)")
        self.name = name
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.pinned = tuple(pinned)
        self.pilot = pilot
        self.codec = ShepCodec(signer=lambda data: sign_wssecurity(data, key, certificate))
        self.client = ShepClient(
            session, endpoint=url, codec=self.codec, timeout_seconds=settings.timeout_seconds, peer=name
        )
        self.sender = m.Sender(settings.sender_id, settings.sender_password or None)
        # where an expert's conclusion goes on to the MIS (gateway.inbound, docs/inbound.md)
        self.inbound = inbound

    @staticmethod
    def new_message_id() -> str:
        return str(uuid.uuid4())

    # -- trust -----------------------------------------------------------------------------------

    def _untrusted_reason(self, ex: Exchange) -> str | None:
        """Why the answer of ``ex`` cannot be trusted (None: signed by a pinned certificate)."""
        if ex.reply is None:
            return "no answer"
        try:
            root = parse_xml(ex.reply.body)
        except (XmlSecurityError, XmlSyntaxError) as exc:
            return f"unreadable answer: {exc}"
        return verify_wssecurity_body(root, self.pinned)

    # -- sending ---------------------------------------------------------------------------------

    async def send(self, sub: Submission, canonical: CanonicalSubmission, *, message_id: str) -> Answer:
        now = self.clock.now()
        refusal = self.pilot.refusal(document_region(canonical.document), now)
        if refusal is not None:
            _log.info("031/у refused before sending: pilot not started", peer=self.name, local_uid=sub.local_uid)
            return Answer(AnswerKind.REFUSED, codes=(("PILOT_NOT_STARTED", refusal),))
        try:
            msg = build_request(self.settings, canonical, message_id=message_id, now=now)
        except Exception as exc:  # a document we cannot wrap is ours, but must not kill the worker
            return Answer(AnswerKind.NO_ANSWER, error=f"could not build the request: {type(exc).__name__}: {exc}"[:500])
        operation = "SendMessage" if isinstance(msg, m.SyncSendMessage) else "sendMessage"
        ex = await self.client.call(operation, msg)
        answer = self._send_answer(ex)
        _log.info(
            "ШЭП send answered",
            peer=self.name,
            local_uid=sub.local_uid,
            message_id=message_id,
            kind=str(answer.kind),
            http_status=ex.http_status,
            codes=[c for c, _ in answer.codes],
        )
        return answer

    def _send_answer(self, ex: Exchange) -> Answer:
        status = ex.http_status
        if ex.message is None:
            return Answer(AnswerKind.NO_ANSWER, http_status=status, error=ex.error, envelopes=ex.envelopes)
        reason = self._untrusted_reason(ex)
        if reason is not None:
            # Neither an acceptance nor a refusal we cannot authenticate is acted on: the send is
            # retried under the same messageId (ШЭП answers DUPLICATE_MESSAGE if it had arrived).
            _log.warning(
                "security: ШЭП answer not trusted", security_event=SIGNATURE_NOT_TRUSTED, peer=self.name, reason=reason
            )
            return Answer(
                AnswerKind.NO_ANSWER,
                http_status=status,
                error=f"answer not trusted: {reason}"[:500],
                envelopes=ex.envelopes,
            )
        msg = ex.message
        if isinstance(msg, m.SendMessageResponse):
            return Answer(AnswerKind.ACCEPTED, http_status=status, envelopes=ex.envelopes)
        if isinstance(msg, m.SyncSendMessageResponse):
            code = msg.info.status.code
            if code.upper() in SUCCESS_STATUSES:
                return Answer(
                    AnswerKind.REGISTERED,
                    http_status=status,
                    peer_registration_id=msg.info.message_id,
                    envelopes=ex.envelopes,
                )
            return Answer(
                AnswerKind.REFUSED, codes=((code, msg.info.status.message),), http_status=status, envelopes=ex.envelopes
            )
        if isinstance(msg, m.ShepFault):
            codes = reported_codes(msg.answer_codes())
            if any(c.upper() == DUPLICATE for c, _ in codes):
                return Answer(AnswerKind.ACCEPTED, http_status=status, envelopes=ex.envelopes)
            alerting = [c for c, _ in codes if c.upper() in ALERT_CODES]
            if alerting:
                # Every message of this instance will fail the same way until an operator acts.
                _log.error(
                    "security: ШЭП refused this gateway's credentials or signature; nothing will pass until fixed",
                    security_event=alerting[0],
                    alert=True,
                    peer=self.name,
                )
            return Answer(AnswerKind.REFUSED, codes=codes, http_status=status, envelopes=ex.envelopes)
        error = f"unexpected answer to {ex.operation}: {type(msg).__name__}"
        return Answer(AnswerKind.NO_ANSWER, http_status=status, error=error, envelopes=ex.envelopes)

    async def lookup(self, sub: Submission, canonical: CanonicalSubmission) -> LookupResult:
        return LookupResult(found=None, error="ШЭП cannot say whether ЦБДИ concluded: answers come by polling")

    async def message_status(self, message_id: str) -> Exchange:
        """getMessageStatus of one of our messages (operators, tests)."""
        return await self.client.call("getMessageStatus", m.GetMessageStatus(message_id, self.clock.now(), self.sender))

    # -- receiving -------------------------------------------------------------------------------

    async def receive(self, sink: PeerSink) -> int:
        """getMessages until ШЭП has nothing more (at most ``receive_batch`` calls): each message
        verified, handed to the sink, then notified to ШЭП (sendDeliveryNotification).

        Up to ``receive_concurrency`` messages are handled at once (verify → record → notify
        each), and the next getMessages asks only for as many as there are free places, once at
        least half of them are free: a message ШЭП gave out is leased to us until its redelivery
        time, so one that waited behind a serial batch was delivered again and handled twice
        (docs/shep.md, "Receiving concurrently"). Each message is still recorded before it is
        notified; the order in which messages are recorded is not the queue's (a registration
        notice may be recorded after the conclusion it preceded: it is a timeline note). The
        round ends, every handler finished, before the receiver renews its lease."""
        state = _Round(calls=self.settings.receive_batch)
        limit = self.settings.receive_concurrency
        handlers: set[asyncio.Task[None]] = set()
        room = asyncio.Condition()

        async def handle(sink_call: Awaitable[None]) -> None:
            try:
                await sink_call
                state.taken += 1
            except Exception as exc:  # the sink could not record it: no notification, the round stops
                if state.failure is None:
                    state.failure = exc
                state.stop = True
            finally:
                state.in_hand -= 1
                async with room:
                    room.notify_all()

        try:
            while state.calls > 0 and not state.stop:
                async with room:
                    await room.wait_for(lambda: state.stop or state.in_hand <= limit // 2)
                if state.stop:
                    break
                amount = min(self.settings.receive_amount, limit - state.in_hand)
                state.calls -= 1
                request = m.GetMessages(self.settings.service_id, self.clock.now(), self.sender, amount=amount)
                ex = await self.client.call("getMessages", request)
                if not isinstance(ex.message, m.GetMessagesResponse):
                    reason = ex.fault.answer_codes() if ex.fault is not None else ex.error
                    state.get_error = f"getMessages: {reason}"
                    break
                # the answer's WS-Security is CPU work: off the loop, the handlers go on meanwhile
                untrusted = await asyncio.to_thread(self._untrusted_reason, ex)
                batch = ex.message.messages
                if untrusted is not None and not batch:
                    _log.warning("security: ШЭП getMessages answer not trusted", peer=self.name, reason=untrusted)
                    state.get_error = f"getMessages answer not trusted: {untrusted}"
                    break
                for item in batch:
                    call = (
                        self._untrusted(sink, ex, item, SIGNATURE_NOT_TRUSTED, untrusted)
                        if untrusted is not None
                        else self._take(sink, ex, item)
                    )
                    state.in_hand += 1
                    task = asyncio.get_running_loop().create_task(handle(call))
                    handlers.add(task)
                    task.add_done_callback(handlers.discard)
                if len(batch) < amount:
                    break  # the queue has nothing more for now: finish what is held
        finally:
            # Never leave a message half handled behind the round (nor behind a cancellation:
            # the handlers are awaited, then the cancellation goes on).
            if handlers:
                await asyncio.gather(*handlers, return_exceptions=True)
        if state.failure is not None:
            raise state.failure  # the journal failed: that message was not notified, it comes again
        if not state.taken and state.get_error is not None:
            raise ShepReceiveError(state.get_error)  # the receiver backs off
        return state.taken

    @staticmethod
    def _message_id(item: m.AsyncMessage) -> str:
        """The peer's id of a message; one derived from its content when ШЭП gave none (messageId
        is optional in the XSD) so that redeliveries are still recorded once."""
        if item.info.message_id:
            return item.info.message_id
        data = etree.tostring(item.data) if item.data is not None else b""
        return (
            "sha256:"
            + hashlib.sha256(
                item.info.service_id.encode() + item.info.message_date.isoformat().encode() + data
            ).hexdigest()
        )

    async def _take(self, sink: PeerSink, ex: Exchange, item: m.AsyncMessage) -> None:
        peer_message_id = self._message_id(item)
        relates_to = item.info.correlation_id
        try:
            answer = p.read_answer(item.data)
        except p.PayloadError as exc:
            await self._untrusted(sink, ex, item, MALFORMED_MESSAGE, str(exc))
            return
        envelopes = ex.envelopes
        if isinstance(answer, p.DraftRegistered):
            deadline = conclusion_deadline(answer.arrived_at)
            await sink.progress(
                Progress(
                    peer=self.name,
                    local_uid=answer.local_uid,
                    organization_oid=None,
                    status="registered-at-cbdi",
                    message=(
                        f"проект акта МСЭ {answer.act_number} зарегистрирован в ЦБДИ; эксперт назначен; "
                        f"срок заключения — {deadline.isoformat()}"
                    ),
                    relates_to=relates_to,
                    peer_message_id=peer_message_id,
                    details={
                        "act_number": answer.act_number,
                        "arrived_at": answer.arrived_at.isoformat(),
                        "deadline": deadline.isoformat(),
                        "region": item.info.prop("region") or "",
                    },
                    envelopes=envelopes,
                )
            )
        elif isinstance(answer, p.Conclusion):
            accepted = await self._conclusion(sink, item, answer, peer_message_id, envelopes)
            await self._notify(item, peer_message_id, accepted=accepted)
            return
        else:
            text = answer.texts.get("ru") or next(iter(answer.texts.values()), "")
            await sink(
                PeerOutcome(
                    peer=self.name,
                    local_uid=answer.local_uid,
                    organization_oid=None,
                    success=False,
                    codes=((answer.code, text),),
                    relates_to=relates_to,
                    envelopes=envelopes,
                    peer_message_id=peer_message_id,
                )
            )
        await self._notify(item, peer_message_id, accepted=True)

    async def _conclusion(
        self,
        sink: PeerSink,
        item: m.AsyncMessage,
        answer: p.Conclusion,
        peer_message_id: str,
        envelopes: tuple[EnvelopeIn, ...],
    ) -> bool:
        """The expert's conclusion: first to the core's inbound path (its enveloped XMLDSig
        verified there, linked to the 031/у it names, journalled, offered to the MIS or flagged),
        then — only when it is offered — the 031/у's outcome. A flagged conclusion (bad expert
        signature, someone else's signature, an unknown 031/у) is never applied: it waits for an
        operator — as the 031/у's held outcome when it names one of ours (released by an operator,
        it is applied then), else recorded unattributed.
        Returns whether ШЭП is told MESSAGE_ACCEPTED. Raises when the journal could not store it:
        no delivery notification then, ШЭП delivers it again and it is recorded once."""
        receipt = await self._to_mis(item, answer, peer_message_id, envelopes)
        relates_to = item.info.correlation_id
        inbound: dict[str, Any] = {"state": "NOT_DELIVERED"}
        if receipt is not None:
            inbound = {
                "id": receipt.id,
                "kind": CONCLUSION_KIND,
                "state": str(receipt.state),
                "reason_code": receipt.reason_code,
                "new": receipt.created,
            }
        outcome = PeerOutcome(
            peer=self.name,
            local_uid=answer.local_uid,
            organization_oid=None,
            success=True,
            peer_registration_id=answer.act_number,
            registered_at=answer.decided_at,
            relates_to=relates_to,
            envelopes=envelopes,
            peer_message_id=peer_message_id,
            details={"inbound": inbound, "decision": answer.decision},
        )
        if receipt is None or receipt.state in OFFERED_STATES:
            await sink(outcome)
            observe_conclusion(self.pilot, answer, item.info.prop("region") or "")
            return True
        _log.warning(
            "security: ЦБДИ conclusion flagged on the inbound path, not applied",
            security_event=receipt.reason_code,
            peer=self.name,
            inbound_id=receipt.id,
            peer_message_id=peer_message_id,
        )
        if receipt.submission_id is not None:
            # The 031/у's outcome stands on the flagged conclusion: the core holds it on the 031/у's
            # timeline (gateway.journal.held_outcomes), and an operator who releases the conclusion
            # applies it in the same transaction; one who dismisses it leaves the 031/у waiting.
            await sink(replace(outcome, held_by=receipt.id, held_reason=receipt.reason_code or CONCLUSION_HELD))
        else:
            reason = f"{receipt.reason_code}: заключение ЦБДИ {answer.act_number} задержано для оператора"
            await sink(
                PeerOutcome(
                    peer=self.name,
                    local_uid="",
                    organization_oid=None,
                    success=False,
                    codes=((receipt.reason_code or CONCLUSION_HELD, reason),),
                    relates_to=None,
                    peer_message_id=peer_message_id,
                    envelopes=envelopes,
                    details={"inbound": inbound},
                )
            )
        return False

    async def _to_mis(
        self, item: m.AsyncMessage, answer: p.Conclusion, peer_message_id: str, envelopes: tuple[EnvelopeIn, ...]
    ) -> InboundReceipt | None:
        """Hand the signed conclusion to the inbound path, keyed ``conclusion:<act number>`` (the
        same in every copy: ШЭП redelivery, a resend under another messageId), so it is recorded
        once; None when this adapter has no inbound path (then only the outcome is applied)."""
        if self.inbound is None:
            _log.warning("no inbound path: the ЦБДИ conclusion is not offered to the MIS", peer=self.name)
            return None
        assert item.data is not None
        # The element as ЦБДИ signed it, without the envelope's namespace declarations lxml would
        # copy in scope (the expert's signature is exc-c14n: unused declarations do not count).
        element = copy.deepcopy(item.data)
        etree.cleanup_namespaces(element)
        return await self.inbound.receive(
            InboundDocument(
                peer=self.name,
                peer_document_id=f"conclusion:{answer.act_number}",
                recipient_oid=answer.organization_oid,
                kind=CONCLUSION_KIND,
                document=etree.tostring(element, encoding="UTF-8", xml_declaration=True),
                signatures=(),
                document_mime="application/xml",
                referral_local_uid=answer.local_uid,
                peer_ids={"messageId": peer_message_id, "ActNumber": answer.act_number},
                registered_at=answer.decided_at,
                final=True,
                envelopes=envelopes,
            )
        )

    async def _untrusted(self, sink: PeerSink, ex: Exchange, item: m.AsyncMessage, code: str, text: str) -> None:
        """Record what cannot be trusted as unattributed (no ``relates_to``: it answers nothing
        until an operator says so), then tell ШЭП it was not accepted."""
        peer_message_id = self._message_id(item)
        _log.warning(
            "security: ШЭП message not trusted; recorded as unattributed",
            security_event=code,
            peer=self.name,
            peer_message_id=peer_message_id,
            reason=text[:500],
        )
        await sink(
            PeerOutcome(
                peer=self.name,
                local_uid="",
                organization_oid=None,
                success=False,
                codes=((code, text[:1000]),),
                relates_to=None,
                peer_message_id=peer_message_id,
                envelopes=ex.envelopes,
            )
        )
        await self._notify(item, peer_message_id, accepted=False)

    async def _notify(self, item: m.AsyncMessage, peer_message_id: str, *, accepted: bool) -> None:
        """sendDeliveryNotification; a failure is logged (the message comes again and the journal
        records it once), never raised: what was taken is durable."""
        now = self.clock.now()
        notice = m.DeliveryNotification(
            peer_message_id, item.info.service_id or self.settings.service_id, now, accepted, now
        )
        ex = await self.client.call("sendDeliveryNotification", m.SendDeliveryNotification(notice, now, self.sender))
        if not isinstance(ex.message, m.SendDeliveryNotificationResponse):
            _log.warning(
                "ШЭП delivery notification failed; the message will come again",
                peer=self.name,
                peer_message_id=peer_message_id,
                error=ex.error or str(ex.fault),
            )
