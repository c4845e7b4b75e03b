"""The REMD client: registerDocument and searchRegistryItem over the shared aiohttp session.

registerDocument, sent once per document, is built and its answer decoded by the adapter's own
lxml codec (:func:`register_envelope`, :mod:`adapters.remd.codec`): zeep's ``create_message``
and ``process_reply`` took ~9 % of the gateway's CPU in ``bench delivery``. zeep, driven by the
reconstructed WSDL, still builds and decodes searchRegistryItem (reconciliation, rare), and tests
hold the two builders to the same message, valid against the service XSD. The HTTP exchange goes
through the gateway's one aiohttp session (gateway.wire.transport). Every envelope sent and
received is returned with the answer, and nothing a peer or the network does raises out of here.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from datetime import datetime
from typing import Any, Final

import aiohttp
from lxml import etree

from adapters.remd import codec, mapping
from adapters.remd.codec import MOSCOW
from adapters.remd.messages import (
    RegisterDocumentRequest,
    RegistryMatch,
    SearchRegistryItemRequest,
    SearchRegistryItemResponse,
    StatusResponse,
)
from adapters.remd.soap import SOAP12_CONTENT_TYPE, Addressing, Envelope, build_envelope
from adapters.remd.wsdl import service_zeep_client
from gateway.common.clock import Clock, SystemClock
from gateway.common.logs import get_logger
from gateway.intake.submission import CanonicalSubmission
from gateway.model import EnvelopeIn, Submission
from gateway.peers.contract import Answer, AnswerKind, LookupResult
from gateway.wire.transport import HttpReply, TransportError, post_soap

__all__ = [
    "RemdClient",
    "decode_search_response",
    "decode_status_response",
    "register_envelope",
    "zeep_register_envelope",
    "zeep_search_envelope",
]

_log: Final = get_logger(__name__)
_INLINE_DECODE_BYTES: Final = 64 * 1024
_BINDING: Final = "{http://egisz.rosminzdrav.ru/iehr/emdr/service/}EmdrServiceSoap12Binding"


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=MOSCOW)


def _operation(name: str) -> Any:
    return service_zeep_client().wsdl.bindings[_BINDING].get(name)


def _headers(*, client_entity_id: str, message_id: str, action: str, to: str, reply_to: str | None) -> dict[str, Any]:
    headers: dict[str, Any] = {
        "transportHeader": {"authInfo": {"clientEntityId": client_entity_id}},
        "MessageID": message_id,
        "Action": action,
        "To": to,
    }
    if reply_to:
        headers["ReplyTo"] = {"Address": reply_to}
    return headers


def _coded(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    out: dict[str, Any] = {"_value_1": value.code}
    if value.version is not None:
        out["version"] = value.version
    return out


def _serialise(envelope: etree._Element) -> bytes:
    return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))


def register_envelope(
    req: RegisterDocumentRequest, *, client_entity_id: str, message_id: str, to: str, reply_to: str | None
) -> bytes:
    """registerDocument built by the codec: the message :func:`zeep_register_envelope` builds."""
    addressing = Addressing(message_id=message_id, action=mapping.ACTION_REGISTER, to=to, reply_to=reply_to)
    return build_envelope(
        codec.build_register_document_request(req), addressing=addressing, client_entity_id=client_entity_id
    )


def zeep_register_envelope(
    req: RegisterDocumentRequest, *, client_entity_id: str, message_id: str, to: str, reply_to: str | None
) -> bytes:
    """registerDocument as zeep builds it from the WSDL."""
    client = service_zeep_client()
    patient = None
    if req.patient is not None and (req.patient.snils or req.patient.local_id):
        patient = {"snils": req.patient.snils, "localId": req.patient.local_id}
    personal = None
    if req.personal_signatures:
        personal = {
            "item": [
                {
                    "signer": {
                        "localId": ps.signer.local_id,
                        "snils": ps.signer.snils,
                        "role": _coded(ps.signer.role),
                        "position": _coded(ps.signer.position),
                        "speciality": _coded(ps.signer.speciality),
                        "department": ps.signer.department,
                    },
                    "signature": {"data": ps.signature.data, "checksum": ps.signature.checksum},
                }
                for ps in req.personal_signatures
            ]
        }
    envelope = client.create_message(
        client.service,
        mapping.ACTION_REGISTER,
        localUid=req.local_uid,
        kind=req.kind,
        organization=req.organization,
        department=req.department,
        documentNumber=req.document_number,
        creationDateTime=req.creation_datetime,
        patient=patient,
        document={"data": req.document.data, "checksum": req.document.checksum},
        orgSignature=(
            {"data": req.org_signature.data, "checksum": req.org_signature.checksum} if req.org_signature else None
        ),
        personalSignatures=personal,
        _soapheaders=_headers(
            client_entity_id=client_entity_id,
            message_id=message_id,
            action=mapping.ACTION_REGISTER,
            to=to,
            reply_to=reply_to,
        ),
    )
    return _serialise(envelope)


def zeep_search_envelope(req: SearchRegistryItemRequest, *, client_entity_id: str, message_id: str, to: str) -> bytes:
    client = service_zeep_client()
    envelope = client.create_message(
        client.service,
        mapping.ACTION_SEARCH,
        organization=req.organization,
        kind=req.kind,
        registerDateBegin=req.begin,
        registerDateEnd=req.end,
        patientSnils=req.patient_snils,
        _soapheaders=_headers(
            client_entity_id=client_entity_id, message_id=message_id, action=mapping.ACTION_SEARCH, to=to, reply_to=None
        ),
    )
    return _serialise(envelope)


def _errors(value: Any) -> tuple[tuple[str, str], ...]:
    if value is None or not getattr(value, "item", None):
        return ()
    return tuple((str(item.code or "UNKNOWN"), str(item.message or "")) for item in value.item)


def decode_status_response(env: Envelope) -> StatusResponse:
    """registerDocumentResponse decoded by zeep (the envelope was already parsed safely)."""
    reply = _operation(mapping.ACTION_REGISTER).process_reply(env.body.getroottree().getroot())  # type: ignore[union-attr]
    body = reply.body if hasattr(reply, "body") else reply
    status = str(body.status or "").lower()
    if status not in {"success", "error"}:
        raise ValueError(f"registerDocumentResponse/status: {status[:20]!r}")
    return StatusResponse(success=status == "success", errors=_errors(body.errors))


def decode_search_response(env: Envelope) -> SearchRegistryItemResponse:
    """searchRegistryItemResponse decoded by zeep."""
    reply = _operation(mapping.ACTION_SEARCH).process_reply(env.body.getroottree().getroot())  # type: ignore[union-attr]
    body = reply.body if hasattr(reply, "body") else reply
    status = str(body.status or "").lower()
    if status not in {"success", "error"}:
        raise ValueError(f"searchRegistryItemResponse/status: {status[:20]!r}")
    items = body.matches.item if body.matches is not None and body.matches.item else []
    matches = []
    for item in items:
        if not item.localUid or not item.emdrId or item.registrationDateTime is None:
            raise ValueError("searchRegistryItemResponse/matches/item: localUid, emdrId, registrationDateTime required")
        matches.append(
            RegistryMatch(
                local_uid=str(item.localUid),
                emdr_id=str(item.emdrId),
                registered_at=_aware(item.registrationDateTime),
                kind=item.kind,
                organization=item.organization,
            )
        )
    return SearchRegistryItemResponse(success=status == "success", matches=tuple(matches), errors=_errors(body.errors))


def _reply_envelopes(peer: str, out: bytes, reply: HttpReply | None, attempts: int) -> tuple[EnvelopeIn, ...]:
    sent = tuple(EnvelopeIn("out", peer, SOAP12_CONTENT_TYPE, out) for _ in range(max(1, attempts)))
    if reply is None:
        return sent
    return (*sent, EnvelopeIn("in", peer, reply.content_type or "application/octet-stream", reply.body))


class RemdClient:
    """Talks to one REMD endpoint. Stateless apart from its settings: safe to share."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        endpoint: str,
        client_entity_id: str,
        timeout_seconds: float,
        reply_to: str | None,
        clock: Clock | None = None,
        inline_document: bool = True,
        peer: str = mapping.PEER,
    ) -> None:
        self.peer = peer
        self.session = session
        self.endpoint = endpoint
        self.client_entity_id = client_entity_id
        self.timeout_seconds = timeout_seconds
        self.reply_to = reply_to
        self.clock: Clock = clock or SystemClock()
        self.inline_document = inline_document

    async def register(
        self, sub: Submission, canonical: CanonicalSubmission, *, message_id: str | None = None
    ) -> Answer:
        """registerDocument for one submission. A resend reuses ``sub.local_uid`` (REMD's
        idempotency key) and the core's persisted ``message_id``, so a callback's RelatesTo
        matches whichever attempt REMD answers."""
        message_id = message_id or str(uuid.uuid4())
        try:
            req = mapping.to_register_request(sub, canonical, inline_document=self.inline_document)
            out = register_envelope(
                req,
                client_entity_id=self.client_entity_id,
                message_id=message_id,
                to=self.endpoint,
                reply_to=self.reply_to,
            )
        except Exception as exc:  # a serialisation failure is ours, but must not kill the worker
            _log.error("could not build registerDocumentRequest", local_uid=sub.local_uid, error=str(exc)[:300])
            return Answer(AnswerKind.NO_ANSWER, error=f"could not build the request: {type(exc).__name__}: {exc}"[:500])
        try:
            reply = await post_soap(
                self.session, self.endpoint, out, action=mapping.ACTION_REGISTER, timeout_seconds=self.timeout_seconds
            )
        except TransportError as exc:
            _log.info("REMD registerDocument: no answer", local_uid=sub.local_uid, error=str(exc))
            return Answer(
                AnswerKind.NO_ANSWER, error=str(exc), envelopes=_reply_envelopes(self.peer, out, None, exc.attempts)
            )
        answer = mapping.register_answer(
            reply.status,
            reply.body,
            envelopes=_reply_envelopes(self.peer, out, reply, reply.attempts),
            retry_after=reply.retry_after,
        )
        _log.info(
            "REMD registerDocument answered",
            local_uid=sub.local_uid,
            message_id=message_id,
            kind=str(answer.kind),
            http_status=reply.status,
            codes=[c for c, _ in answer.codes],
        )
        return answer

    async def search(self, sub: Submission, canonical: CanonicalSubmission) -> LookupResult:
        """searchRegistryItem for reconciliation; found when a match has this localUid."""
        req = mapping.to_search_request(sub, canonical, now=self.clock.now())
        try:
            out = zeep_search_envelope(
                req, client_entity_id=self.client_entity_id, message_id=str(uuid.uuid4()), to=self.endpoint
            )
        except Exception as exc:
            _log.error("could not build searchRegistryItemRequest", local_uid=sub.local_uid, error=str(exc)[:300])
            return LookupResult(None, error=f"could not build the request: {type(exc).__name__}: {exc}"[:500])
        try:
            reply = await post_soap(
                self.session, self.endpoint, out, action=mapping.ACTION_SEARCH, timeout_seconds=self.timeout_seconds
            )
        except TransportError as exc:
            return LookupResult(None, error=str(exc), envelopes=_reply_envelopes(self.peer, out, None, exc.attempts))
        decode = functools.partial(
            mapping.lookup_from_reply,
            reply.status,
            reply.body,
            local_uid=sub.local_uid,
            organization=sub.organization_oid,
            envelopes=_reply_envelopes(self.peer, out, reply, reply.attempts),
            decode=decode_search_response,
        )
        # A search without a patient SNILS can list a whole organisation's day (1,000 matches take
        # ~0.2 s to decode): keep that off the event loop.
        result = await asyncio.to_thread(decode) if len(reply.body) > _INLINE_DECODE_BYTES else decode()
        _log.info(
            "REMD searchRegistryItem answered", local_uid=sub.local_uid, found=result.found, http_status=reply.status
        )
        return result
