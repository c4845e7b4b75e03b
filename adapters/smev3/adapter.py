"""``Smev3Adapter``: one SMEV 3 consumer instance as a :class:`~gateway.peers.contract.PollingAdapter`.

``send`` is SendRequest under the core's persisted MessageID (a UUID v1); ``receive`` drains the
instance's response queue with GetResponse, hands each message to the core's sink and only then
Acks it. What SMEV answers is reported raw (fault codes and texts, the exact envelopes); the core
classifies it with the plug-in's code table. See docs/smev3.md, "Client and polling".

The business content (MessagePrimaryContent) is provisional: ``<Referral>`` in the configurable
``content_namespace`` carrying the document base64-encoded (:func:`referral_content`). The real
ЕАВИИАС schema of the MSE referral is another issue's business.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Final

import aiohttp
from lxml import etree

from adapters.smev3 import messages as m
from adapters.smev3.acks import AckFailed, Smev3ReceiveError, acknowledge, lax_message_id
from adapters.smev3.attachments import AttachmentTooLarge
from adapters.smev3.client import Exchange, Smev3Client
from adapters.smev3.codec import Smev3Codec
from adapters.smev3.codes import RENEW_MESSAGE_ID
from adapters.smev3.eaviias.profile import EaviiasProfile, NoticeRejected
from adapters.smev3.filestore import FileStoreError
from adapters.smev3.identity import new_message_id
from adapters.smev3.incoming import attachments_problem
from adapters.smev3.outgoing import build_send_request, message_eol, prepare_send_request
from adapters.smev3.provider import Smev3Provider
from adapters.smev3.settings import Smev3Settings
from adapters.smev3.signing import Signer, Verdicts, verify_incoming
from gateway.common.clock import Clock, SystemClock
from gateway.common.logs import get_logger
from gateway.inbound.contract import OFFERED_STATES, InboundDocument, InboundPort
from gateway.intake.submission import CanonicalSubmission
from gateway.model import EnvelopeIn, Submission
from gateway.peers.contract import (
    Answer,
    AnswerKind,
    LookupResult,
    PeerOutcome,
    PeerSink,
    Progress,
    RequestPort,
)
from gateway.signatures.xml.verify import XmlVerifier
from gateway.wire.safexml import XmlSecurityError, XmlSyntaxError, parse_xml

__all__ = [
    "ALREADY_SENT",
    "REGISTRATION_ID_ELEMENTS",
    "SMEV_SIGNATURE_INVALID",
    "Smev3Adapter",
    "Smev3ReceiveError",
    "referral_content",
    "send_request_message",
]

_log: Final = get_logger(__name__)

ALREADY_SENT: Final = "MessageIsAlreadySent"
# Recorded as the code of an incoming message whose ЭП-СМЭВ fails, or that cannot be read.
SMEV_SIGNATURE_INVALID: Final = "SMEV_SIGNATURE_INVALID"
MALFORMED_MESSAGE: Final = "SMEV_MALFORMED_MESSAGE"
# Local names, in the business response, of the peer's registration number (first found wins).
REGISTRATION_ID_ELEMENTS: Final = ("RegistrationNumber", "RegistrationId", "RegistryId")
# GetResponse failures in a row after which a receive lane gives up (SMEV is down, not busy).
LANE_FAILURES: Final = 3


@dataclass(slots=True)
class _Round:
    """What the lanes of one ``receive`` share (one event loop: no lock needed)."""

    budget: int  # GetResponse calls left in this round
    taken: int = 0
    stop: bool = False  # the queue answered empty, or the sink failed
    drained: bool = False  # the queue answered empty
    get_error: str | None = None  # the last GetResponse that brought no message, and why
    failure: Exception | None = None  # the sink's, raised by receive()


def referral_content(canonical: CanonicalSubmission, *, namespace: str, root: str = "Referral") -> bytes:
    """The provisional business XML: the referral (CDA) base64-encoded with its identifiers."""
    element = etree.Element(f"{{{namespace}}}{root}", nsmap={"ref": namespace})

    def add(name: str, value: str | None) -> etree._Element:
        child = etree.SubElement(element, f"{{{namespace}}}{name}")
        child.text = value or ""
        return child

    add("LocalUid", canonical.local_uid)
    add("Kind", canonical.kind)
    add("OrganizationOid", canonical.organization_oid)
    document = add("Document", base64.b64encode(canonical.document).decode("ascii"))
    document.set("mimeType", canonical.document_mime)
    return bytes(etree.tostring(element, encoding="UTF-8"))


def send_request_message(
    settings: Smev3Settings,
    canonical: CanonicalSubmission,
    *,
    message_id: str,
    personal_signer: Signer | None = None,
    now: datetime | None = None,
) -> m.SendRequestRequest:
    """The SendRequest the adapter sends for one submission (also ``envelope build``; file-store
    attachments are hashed, not uploaded: see adapters/smev3/outgoing.py); ``now`` (the adapter's
    clock) sets the EOL when ``message_ttl_seconds`` is."""
    eol = message_eol(settings, now or datetime.now(UTC))
    return build_send_request(settings, canonical, message_id=message_id, personal_signer=personal_signer, eol=eol)


def _registration_id(content: bytes) -> str | None:
    try:
        root = parse_xml(content)
    except (XmlSecurityError, XmlSyntaxError):
        return None
    for element in root.iter():
        if isinstance(element.tag, str) and etree.QName(element).localname in REGISTRATION_ID_ELEMENTS:
            value = (element.text or "").strip()
            if value:
                return value
    return None


class Smev3Adapter:
    """Delivers submissions to SMEV 3 (SendRequest) and takes the answers from its queue."""

    def __init__(
        self,
        settings: Smev3Settings,
        session: aiohttp.ClientSession,
        *,
        name: str,
        signer: Signer,
        verifier: XmlVerifier,
        clock: Clock | None = None,
        endpoint: str | None = None,
        personal_signer: Signer | None = None,
        requests: RequestPort | None = None,
        inbound: InboundPort | None = None,
    ) -> None:
        url = endpoint or settings.url
        if not url:
            raise ValueError(f"the endpoint of peer {name!r} is not configured (peers.{name}.url)")
        self.name = name
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.verifier = verifier
        self.personal_signer = personal_signer
        self.endpoint = url
        self.session = session
        self.profile = EaviiasProfile(settings.eaviias) if settings.content_profile == "eaviias" else None
        # where an ЕАВИИАС result or return document goes on to the MIS (gateway.inbound)
        self.inbound = inbound
        self.codec = Smev3Codec(settings.namespace_version, signer=signer)
        self.client = Smev3Client(
            session, endpoint=url, codec=self.codec, timeout_seconds=settings.timeout_seconds, peer=name, clock=clock
        )
        # The provider side (settings.provider): requests to us, recorded through the core's port.
        self.provider = Smev3Provider(self, requests) if settings.provider and requests is not None else None
        if settings.provider and requests is None:
            raise ValueError(f"peer {name!r} is a provider (peers.{name}.provider) but the core gave no request port")

    def new_message_id(self) -> str:
        return new_message_id(self.clock.now())

    # -- sending ---------------------------------------------------------------------------------

    def send_request_message(self, canonical: CanonicalSubmission, *, message_id: str) -> m.SendRequestRequest:
        return send_request_message(
            self.settings, canonical, message_id=message_id, personal_signer=self.personal_signer, now=self.clock.now()
        )

    async def send(self, sub: Submission, canonical: CanonicalSubmission, *, message_id: str) -> Answer:
        try:
            msg = await prepare_send_request(
                self.settings,
                canonical,
                message_id=message_id,
                session=self.session,
                endpoint=self.endpoint,
                personal_signer=self.personal_signer,
                eol=message_eol(self.settings, self.clock.now()),
            )
        except AttachmentTooLarge as exc:  # refused before sending: nothing left the gateway
            return Answer(AnswerKind.REFUSED, codes=((exc.code, str(exc)),))
        except FileStoreError as exc:
            if exc.transient:
                # nothing was sent (the upload comes first): a plain retry is safe, which the
                # core does for a 503 (no status would read as "may have arrived")
                error = f"file store upload failed before SendRequest, nothing sent: {exc.code}: {exc}"[:500]
                return Answer(AnswerKind.NO_ANSWER, http_status=503, error=error)
            return Answer(AnswerKind.REFUSED, codes=((exc.code, str(exc)[:1000]),))
        except Exception as exc:  # a document we cannot wrap is ours, but must not kill the worker
            return Answer(AnswerKind.NO_ANSWER, error=f"could not build the request: {type(exc).__name__}: {exc}"[:500])
        ex = await self.client.send_request(msg)
        answer = self._send_answer(ex)
        _log.info(
            "SMEV 3 SendRequest answered",
            peer=self.name,
            local_uid=sub.local_uid,
            message_id=message_id,
            kind=str(answer.kind),
            http_status=ex.http_status,
            codes=[c for c, _ in answer.codes],
        )
        return answer

    @staticmethod
    def _send_answer(ex: Exchange) -> Answer:
        status = ex.http_status
        if ex.message is None:
            return Answer(AnswerKind.NO_ANSWER, http_status=status, error=ex.error, envelopes=ex.envelopes)
        if isinstance(ex.message, m.SendRequestResponse):
            md = ex.message.metadata
            _log.info(
                "SMEV 3 accepted the request",
                smev_message_id=md.message_id,
                status=md.status,
                sending_timestamp=md.sending_timestamp.isoformat(),
                destination=md.destination_name,
            )  # the metadata itself is in the recorded "in" envelope
            return Answer(AnswerKind.ACCEPTED, http_status=status, envelopes=ex.envelopes)
        fault = ex.fault
        if fault is None:
            error = f"unexpected answer to SendRequest: {type(ex.message).__name__}"
            return Answer(AnswerKind.NO_ANSWER, http_status=status, error=error, envelopes=ex.envelopes)
        if fault.code == ALREADY_SENT:  # the earlier send under this MessageID arrived
            return Answer(AnswerKind.ACCEPTED, http_status=status, envelopes=ex.envelopes)
        codes = fault.answer_codes()
        return Answer(
            AnswerKind.REFUSED,
            codes=codes,
            http_status=status,
            envelopes=ex.envelopes,
            renew_message_id=any(code.upper() in RENEW_MESSAGE_ID for code, _ in codes),
        )

    async def lookup(self, sub: Submission, canonical: CanonicalSubmission) -> LookupResult:
        return LookupResult(found=None, error="SMEV 3 cannot be asked about a submission: answers come by polling")

    # -- receiving -------------------------------------------------------------------------------

    def _selector(self) -> m.MessageTypeSelector:
        s = self.settings.message_type_selector
        return m.MessageTypeSelector(
            timestamp=self.clock.now(),
            namespace_uri=s.namespace_uri or None,
            root_element_local_name=s.root_element_local_name or None,
            node_id=self.settings.node_id or None,
        )

    async def receive(self, sink: PeerSink) -> int:
        """GetResponse until the queue is empty (at most ``receive_batch`` messages): each message
        verified, handed to the sink, then Acked (accepted="false" for what cannot be trusted).

        ``receive_concurrency`` lanes run at once, each GetResponse → verify → record → Ack → the
        next GetResponse: a message SMEV gave out is invisible to the other calls until its
        redelivery time, so the lanes take different messages, and each message is still
        recorded before it is Acked. The order in which messages are recorded is not the queue's
        (a progress status may be recorded after the answer it preceded: it is a timeline note)."""
        state = await self._consume(sink)
        if self.provider is None:
            if not state.taken and not state.drained and state.get_error is not None:
                raise Smev3ReceiveError(f"GetResponse: {state.get_error}")  # the receiver backs off
            return state.taken
        # The provider side shares the instance's lease and round: answers owed, then requests.
        # The round backs off only when neither queue gave anything and both calls failed.
        provided = await self.provider.run()
        done = state.taken + provided.taken + provided.answered
        failed = (not state.drained and state.get_error is not None) and (
            not provided.drained and provided.get_error is not None
        )
        if not done and failed:
            raise Smev3ReceiveError(f"GetResponse: {state.get_error}; GetRequest: {provided.get_error}")
        return done

    async def _consume(self, sink: PeerSink) -> _Round:
        state = _Round(budget=self.settings.receive_batch)
        lanes = min(self.settings.receive_concurrency, state.budget)
        await asyncio.gather(*(self._lane(sink, state) for _ in range(lanes)))
        if state.failure is not None:
            raise state.failure  # the sink (journal) failed: that message was not Acked
        return state

    async def _lane(self, sink: PeerSink, state: _Round) -> None:
        failures = 0  # GetResponse calls in a row that brought nothing
        while not state.stop and state.budget > 0:
            state.budget -= 1
            ex = await self.client.get_response(self._selector())
            try:
                if isinstance(ex.message, m.GetResponseResponse):
                    if ex.message.response is None:
                        state.drained = state.stop = True  # the other lanes finish what they hold
                        return
                    await self._take(sink, ex, ex.message.response)
                elif ex.message is None and ex.reply is not None and (lax := lax_message_id(ex.reply.body)):
                    # a message in the queue we cannot read: record it, then drop it from the queue
                    await self._untrusted(sink, ex, lax, MALFORMED_MESSAGE, ex.error or "unreadable message")
                else:
                    # A fault or no answer. SMEV answers SMEVFailure to some calls of a healthy
                    # queue: the lane goes on, and ends after LANE_FAILURES in a row (SMEV is
                    # down). Ending it at once left one lane working while the others waited
                    # for the round to end, and the slow answers were serial again.
                    code = ex.fault.code if ex.fault is not None else "NO_ANSWER"
                    state.get_error = f"{code}: {ex.fault.text if ex.fault is not None else ex.error}"
                    failures += 1
                    if failures >= LANE_FAILURES:
                        return
                    continue
            except AckFailed as exc:
                # Recorded, not acknowledged: SMEV delivers it again after its base time and the
                # core records it once. The lane goes on.
                _log.warning(
                    "SMEV 3 Ack failed; the message is recorded and comes again", peer=self.name, error=str(exc)
                )
            except Exception as exc:  # the sink could not record it: no Ack, every lane stops
                if state.failure is None:
                    state.failure = exc
                state.stop = True
                return
            failures = 0
            state.taken += 1

    async def _take(self, sink: PeerSink, ex: Exchange, response: m.Response) -> None:
        message_id = response.metadata.message_id or response.data.message_id
        assert ex.reply is not None
        verdicts: Verdicts = await asyncio.to_thread(verify_incoming, ex.reply.body, self.verifier)
        if not verdicts.smev_valid:
            reasons = [r for v in verdicts.of("SMEVSignature") for r in v.reasons] or list(verdicts.errors)
            text = "; ".join(reasons) or "no SMEVSignature"
            await self._untrusted(sink, ex, message_id, SMEV_SIGNATURE_INVALID, text)
            return
        problem = await attachments_problem(self, ex, response)
        if problem is not None:  # an attachment missing, changed, or its ЭП-СП not valid
            await self._untrusted(sink, ex, message_id, *problem)
            return
        accepted = await self._hand(sink, response, message_id, ex.envelopes)
        await self._ack(message_id, accepted=accepted)

    async def _hand(
        self, sink: PeerSink, response: m.Response, message_id: str, envelopes: tuple[EnvelopeIn, ...]
    ) -> bool:
        """The four response kinds → an outcome or a progress status; False when the message was
        recorded as unusable (Acked accepted="false"). ``local_uid`` stays empty: SMEV answers name
        our MessageID (OriginalMessageId, under ЭП-СМЭВ), not the document — except an ЕАВИИАС
        notice, which names the referral and must name the one we sent."""
        data = response.data
        relates_to = response.original_message_id
        if data.async_status is not None:
            relates_to = relates_to or data.async_status.original_message_id

        async def outcome(
            success: bool, codes: tuple[tuple[str, str], ...] = (), registration_id: str | None = None
        ) -> None:
            md = response.metadata
            await sink(
                PeerOutcome(
                    peer=self.name,
                    local_uid="",
                    organization_oid=None,
                    success=success,
                    codes=codes,
                    peer_registration_id=registration_id,
                    registered_at=(md.delivery_timestamp or md.sending_timestamp) if success else None,
                    relates_to=relates_to,
                    envelopes=envelopes,
                    peer_message_id=message_id,
                )
            )

        async def progress(status: str, message: str, details: dict[str, object] | None = None) -> None:
            await sink.progress(
                Progress(
                    peer=self.name,
                    local_uid="",
                    organization_oid=None,
                    status=status,
                    message=message,
                    relates_to=relates_to,
                    peer_message_id=message_id,
                    details=details or {},
                    envelopes=envelopes,
                )
            )

        kind = data.kind
        if kind is m.ResponseKind.BUSINESS and self.profile is not None:
            assert data.content is not None
            md = response.metadata
            try:
                notice = self.profile.read(data.content)
            except NoticeRejected as exc:
                await self._record_unattributed(sink, envelopes, message_id, exc.code, exc.text)
                return False
            answer = self.profile.answer(
                notice,
                peer=self.name,
                relates_to=relates_to,
                peer_message_id=message_id,
                envelopes=envelopes,
                delivered_at=md.delivery_timestamp or md.sending_timestamp,
            )
            if isinstance(answer, PeerOutcome):
                document = self.profile.inbound_document(
                    notice, peer=self.name, peer_message_id=message_id, envelopes=envelopes
                )
                if document is not None:
                    answer = await self._to_mis(document, answer)
                await sink(answer)
            else:
                await sink.progress(answer)
        elif kind is m.ResponseKind.BUSINESS:
            assert data.content is not None
            await outcome(True, registration_id=_registration_id(data.content))
        elif kind is m.ResponseKind.REJECTED:
            await outcome(False, tuple((r.code, r.description) for r in data.rejections))
        elif kind is m.ResponseKind.STATUS:
            assert data.status is not None
            parameters = dict(data.status.parameters)
            await progress(str(data.status.code), data.status.description, {"parameters": parameters})
        else:
            status = data.async_status
            assert status is not None
            if status.category == m.InteractionStatus.REQUEST_IS_REJECTED_BY_SMEV:
                code = status.fault_code or str(m.InteractionStatus.REQUEST_IS_REJECTED_BY_SMEV)
                await outcome(False, ((code, status.fault_description or status.details or ""),))
            else:
                await progress(status.category, status.details or status.category)
        return True

    async def _to_mis(self, document: InboundDocument, answer: PeerOutcome) -> PeerOutcome:
        """Hand the result/return document of a final notice to the core's inbound path (verified
        there, linked to the referral, offered to the MIS or flagged) *before* the outcome is
        applied: the referral is not yet FAILED when its own return arrives, and a redelivered
        notice finds the document recorded (same NoticeId). Raises when the journal could not
        store it, so the notice is not Acked and comes again. The receipt goes on the outcome's
        timeline event: an operator sees there whether the document reached the MIS or was held.
        A document that is not offered (flagged, dismissed) makes the outcome ``held_by`` it: the
        core holds the referral's outcome until an operator releases the document."""
        if self.inbound is None:
            _log.warning("no inbound path: the document of a final notice is not offered to the MIS", peer=self.name)
            return replace(answer, details={**answer.details, "inbound": {"state": "NOT_DELIVERED"}})
        receipt = await self.inbound.receive(document)
        if receipt.reason_code is not None and receipt.created:
            _log.warning(
                "the document of a final ЕАВИИАС notice is flagged, held for an operator",
                peer=self.name,
                inbound_id=receipt.id,
                kind=document.kind,
                reason=receipt.reason_code,
            )
        inbound = {
            "id": receipt.id,
            "kind": document.kind,
            "state": str(receipt.state),
            "reason_code": receipt.reason_code,
            "new": receipt.created,
        }
        answer = replace(answer, details={**answer.details, "inbound": inbound})
        if receipt.state not in OFFERED_STATES:
            # The outcome stands on a document the MIS is not given (flagged, or dismissed by an
            # operator): the core holds it until an operator decides (docs/eaviias.md).
            answer = replace(answer, held_by=receipt.id, held_reason=receipt.reason_code or str(receipt.state))
        return answer

    async def _untrusted(self, sink: PeerSink, ex: Exchange, message_id: str, code: str, text: str) -> None:
        """Record a message we cannot trust as unattributed (no ``relates_to``: it answers nothing
        until an operator says so), then Ack it accepted="false" so it never blocks the queue."""
        await self._record_unattributed(sink, ex.envelopes, message_id, code, text)
        await self._ack(message_id, accepted=False)

    async def _record_unattributed(
        self, sink: PeerSink, envelopes: tuple[EnvelopeIn, ...], message_id: str, code: str, text: str
    ) -> None:
        _log.warning(
            "security: SMEV 3 message not usable; recorded as unattributed and Acked accepted=false",
            security_event=code,
            peer=self.name,
            peer_message_id=message_id,
            reason=text[:500],
        )
        outcome = PeerOutcome(
            peer=self.name,
            local_uid="",
            organization_oid=None,
            success=False,
            codes=((code, text[:1000]),),
            relates_to=None,
            peer_message_id=message_id,
            envelopes=envelopes,
        )
        await sink(outcome)

    async def _ack(self, message_id: str, *, accepted: bool) -> None:
        await acknowledge(self.client, message_id, accepted=accepted)
