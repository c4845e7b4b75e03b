"""Building and parsing SMEV 3 envelopes (SOAP 1.1, message-exchange types 1.1/1.2/1.3).

:class:`Smev3Codec` builds every operation's request (consumer and provider side), SMEV's
answers (for the twin and for tests) and SMEV's faults, and parses any of them back into
:mod:`adapters.smev3.messages` dataclasses. Builders return UTF-8 bytes with an XML declaration;
with a :class:`~adapters.smev3.signing.Signer` they are signed (ЭП-ОВ in
``CallerInformationSystemSignature``; ЭП-СМЭВ in ``SMEVSignature`` for SMEV's answers).

Parsing is tolerant of the namespace version (real deployments mix 1.1/1.2/1.3): elements are
matched by local name inside the SMEV message-exchange namespace family. What is not a usable
SMEV 3 message raises :class:`Smev3FormatError` with a stable code; SOAP faults come back as
:class:`~adapters.smev3.messages.Fault` values, never as exceptions.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Final

from lxml import etree

from adapters.smev3 import messages as m
from adapters.smev3.signing import Signer, sign_element
from gateway.wire import soap11
from gateway.wire.safexml import DEFAULT_MAX_BYTES, parse_xml

__all__ = [
    "ANSWER_SIGNED",
    "FAULT_ELEMENTS",
    "SOAP_ACTIONS",
    "VOID_FAULTS",
    "Message",
    "Smev3Codec",
    "Smev3FormatError",
    "format_datetime",
    "iter_fault_codes",
    "parse_fault",
]

Message = (
    m.SendRequestRequest
    | m.SendRequestResponse
    | m.SendResponseRequest
    | m.SendResponseResponse
    | m.GetRequestRequest
    | m.GetRequestResponse
    | m.GetResponseRequest
    | m.GetResponseResponse
    | m.AckRequest
    | m.AckResponse
    | m.GetStatusRequest
    | m.GetStatusResponse
    | m.Fault
)

# SOAPAction of each operation (SMEV: "urn:<Operation>").
SOAP_ACTIONS: Final = {
    op: f"urn:{op}" for op in ("SendRequest", "SendResponse", "GetRequest", "GetResponse", "Ack", "GetStatus")
}

# Faults of type basic:Void (no Code/Description) and of type basic:SmevFault (or extensions).
VOID_FAULTS: Final = frozenset(
    {
        "UnknownMessageType",
        "MessageIsAlreadySent",
        "InvalidMessageIdFormat",
        "StaleMessageId",
        "AttachmentContentMiscoordination",
        "AccessDenied",
        "SMEVFailure",
        "IncorrectResponseContentType",
        "RecipientIsNotFound",
        "SenderIsNotRegistered",
        "RequestIsNotFound",
        "TargetMessageIsNotFound",
        "EndOfLifeReached",
    }
)
_EXTENSIONS: Final = {
    "TransactionCodeInvalid": (),
    "BusinessDataTypeIsNotSupported": ("RootElementLocalName", "RootElementNamespaceURI"),
    "InvalidContent": (),  # ValidationError+ (validation_errors)
    "AttachmentSizeLimitExceeded": ("PermittedTotalAttachmentSize", "RealTotalAttachmentSize"),
    "QuoteLimitExceeded": ("RemainedTotalQuoteSize", "RealTotalAttachmentSize"),
    "SignatureVerificationFault": (),  # its reason (subcode)
    "DestinationOverflow": ("MessageBrokerAddress", "DestinationName"),
}
FAULT_ELEMENTS: Final = VOID_FAULTS | frozenset(_EXTENSIONS)

# The Id an SMEV answer's signed element gets when the message does not say.
ANSWER_SIGNED: Final = m.SIGNED_BY_SMEV
_HOLDER: Final = "CallerInformationSystemSignature"


class Smev3FormatError(ValueError):
    """Not a usable SMEV 3 message. ``code``: the SOAP layer's (XML_MALFORMED, NOT_SOAP11, ...),
    NOT_SMEV3 (a payload outside the message-exchange namespaces), UNKNOWN_OPERATION, or
    BAD_MESSAGE (a required element missing, a value that does not parse)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def format_datetime(moment: datetime) -> str:
    """xs:dateTime with an offset (naive datetimes are taken as UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.isoformat()


def _id(ident: str | None) -> dict[str, str]:
    return {"Id": ident} if ident else {}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --- building ----------------------------------------------------------------------------------


class _Builder:
    def __init__(self, ns: m.Namespaces) -> None:
        self.ns = ns

    def t(self, parent: etree._Element | None, name: str, text: str | None = None, **attrs: str) -> etree._Element:
        return self._el(parent, self.ns.types, name, text, attrs)

    def b(self, parent: etree._Element | None, name: str, text: str | None = None, **attrs: str) -> etree._Element:
        return self._el(parent, self.ns.basic, name, text, attrs)

    def f(self, parent: etree._Element | None, name: str, text: str | None = None, **attrs: str) -> etree._Element:
        return self._el(parent, self.ns.faults, name, text, attrs)

    def root(self, name: str) -> etree._Element:
        nsmap = {"ns": self.ns.types, "bas": self.ns.basic}
        return etree.Element(f"{{{self.ns.types}}}{name}", nsmap=nsmap)

    @staticmethod
    def _el(
        parent: etree._Element | None, ns: str, name: str, text: str | None, attrs: dict[str, str]
    ) -> etree._Element:
        tag = f"{{{ns}}}{name}"
        element = etree.Element(tag, attrs) if parent is None else etree.SubElement(parent, tag, attrs)
        if text is not None:
            element.text = text
        return element

    def opt(self, parent: etree._Element, name: str, value: str | None) -> None:
        if value is not None:
            self.t(parent, name, value)

    def content(self, parent: etree._Element, data: bytes) -> None:
        holder = self.b(parent, "MessagePrimaryContent")
        holder.append(parse_xml(data))

    def signature(self, parent: etree._Element, name: str, data: bytes | None) -> None:
        if data is not None:
            self.t(parent, name).append(parse_xml(data))

    def headers(
        self, parent: etree._Element, plain: tuple[m.AttachmentHeader, ...], ref: tuple[m.RefAttachmentHeader, ...]
    ) -> None:
        if plain:
            holder = self.b(parent, "AttachmentHeaderList")
            for h in plain:
                item = self.b(holder, "AttachmentHeader")
                self.b(item, "contentId", h.content_id)
                self.b(item, "MimeType", h.mime_type)
                if h.signature_pkcs7 is not None:
                    self.b(item, "SignaturePKCS7", _b64(h.signature_pkcs7))
        if ref:
            holder = self.b(parent, "RefAttachmentHeaderList")
            for r in ref:
                item = self.b(holder, "RefAttachmentHeader")
                self.b(item, "uuid", r.uuid)
                self.b(item, "Hash", r.hash)
                self.b(item, "MimeType", r.mime_type)
                if r.signature_pkcs7 is not None:
                    self.b(item, "SignaturePKCS7", _b64(r.signature_pkcs7))

    def attachments(self, parent: etree._Element, items: tuple[m.AttachmentContent, ...]) -> None:
        if items:
            holder = self.b(parent, "AttachmentContentList")
            for a in items:
                item = self.b(holder, "AttachmentContent")
                self.b(item, "Id", a.id)
                self.b(item, "Content", _b64(a.content))

    def fs_attachments(self, parent: etree._Element, items: tuple[m.FSAttachment, ...]) -> None:
        if items:
            holder = self.b(parent, "FSAttachmentsList")
            for a in items:
                item = self.b(holder, "FSAttachment")
                self.b(item, "uuid", a.uuid)
                self.b(item, "UserName", a.user_name)
                self.b(item, "Password", a.password)
                self.b(item, "FileName", a.file_name)

    def request_data(self, parent: etree._Element, d: m.SenderProvidedRequestData) -> None:
        data = self.t(parent, "SenderProvidedRequestData", Id=d.id)
        self.t(data, "MessageID", d.message_id)
        self.opt(data, "ReferenceMessageID", d.reference_message_id)
        self.opt(data, "TransactionCode", d.transaction_code)
        self.opt(data, "NodeID", d.node_id)
        self.opt(data, "EOL", format_datetime(d.eol) if d.eol is not None else None)
        self.content(data, d.content)
        self.signature(data, "PersonalSignature", d.personal_signature)
        self.headers(data, d.attachment_headers, d.ref_attachment_headers)
        if d.test_message:
            self.t(data, "TestMessage")

    def async_status(self, parent: etree._Element, s: m.AsyncProcessingStatus) -> None:
        status = self.t(parent, "AsyncProcessingStatus")
        self.t(status, "OriginalMessageId", s.original_message_id)
        self.t(status, "StatusCategory", s.category)
        self.opt(status, "StatusDetails", s.details)
        if s.has_fault or s.fault_code is not None or s.fault_description is not None:
            fault = self.t(status, "SmevFault")
            if s.fault_code is not None:
                self.b(fault, "Code", s.fault_code)
            if s.fault_description is not None:
                self.b(fault, "Description", s.fault_description)

    def response_data(self, parent: etree._Element, d: m.SenderProvidedResponseData) -> None:
        data = self.t(parent, "SenderProvidedResponseData", Id=d.id)
        self.t(data, "MessageID", d.message_id)
        self.t(data, "To", d.to)
        kind = d.kind  # raises for data of no kind: a caller bug
        if kind is m.ResponseKind.BUSINESS:
            assert d.content is not None
            self.content(data, d.content)
            self.signature(data, "PersonalSignature", d.personal_signature)
            self.headers(data, d.attachment_headers, d.ref_attachment_headers)
        elif kind is m.ResponseKind.REJECTED:
            for r in d.rejections:
                item = self.t(data, "RequestRejected")
                self.t(item, "RejectionReasonCode", r.code)
                self.t(item, "RejectionReasonDescription", r.description)
        elif kind is m.ResponseKind.STATUS:
            assert d.status is not None
            item = self.t(data, "RequestStatus")
            self.t(item, "StatusCode", str(d.status.code))
            for key, value in d.status.parameters:
                param = self.t(item, "StatusParameter")
                self.t(param, "Key", key)
                self.t(param, "Value", value)
            self.t(item, "StatusDescription", d.status.description)
        else:
            assert d.async_status is not None
            self.async_status(data, d.async_status)

    def party(self, parent: etree._Element, name: str, p: m.Party) -> None:
        item = self.t(parent, name)
        self.t(item, "Mnemonic", p.mnemonic)
        self.t(item, "HumanReadableName", p.human_readable_name)

    def metadata(self, parent: etree._Element, md: m.MessageMetadata, default_id: str | None = None) -> None:
        ident = md.id or default_id
        item = self.t(parent, "MessageMetadata", **({"Id": ident} if ident else {}))
        self.opt(item, "MessageId", md.message_id)
        self.t(item, "MessageType", md.message_type)
        self.party(item, "Sender", md.sender)
        self.t(item, "SendingTimestamp", format_datetime(md.sending_timestamp))
        self.opt(item, "MessageBroker", md.message_broker)
        self.t(item, "DestinationName", md.destination_name)
        if md.recipient is not None:
            self.party(item, "Recipient", md.recipient)
        supplementary = self.t(item, "SupplementaryData")
        self.opt(supplementary, "DetectedContentTypeName", md.detected_content_type_name)
        self.t(supplementary, "InteractionType", md.interaction_type)
        self.opt(item, "DeliveryTimestamp", format_datetime(md.delivery_timestamp) if md.delivery_timestamp else None)
        self.opt(item, "Status", md.status)

    def selector(self, parent: etree._Element, s: m.MessageTypeSelector) -> None:
        item = self.b(parent, "MessageTypeSelector", Id=s.id)
        if s.namespace_uri and s.root_element_local_name:
            self.b(item, "NamespaceURI", s.namespace_uri)
            self.b(item, "RootElementLocalName", s.root_element_local_name)
        self.b(item, "Timestamp", format_datetime(s.timestamp))
        if s.node_id:
            self.b(item, "NodeID", s.node_id)


class Smev3Codec:
    """Builds and parses SMEV 3 envelopes of one namespace version.

    ``signer`` makes ЭП-ОВ on the requests this side sends; ``smev_signer`` is only for a
    simulated SMEV (the twin, tests) signing its answers with ЭП-СМЭВ."""

    def __init__(
        self, version: str = "1.1", *, signer: Signer | None = None, smev_signer: Signer | None = None
    ) -> None:
        self.ns = m.Namespaces.for_version(version)
        self.signer = signer
        self.smev_signer = smev_signer
        self._b = _Builder(self.ns)

    # -- requests we send (consumer and provider side) -----------------------------------------

    def _finish(self, payload: etree._Element, reference_id: str | None, *, sign: bool) -> bytes:
        if sign and self.signer is not None and reference_id is not None:
            self._b.t(payload, _HOLDER)
            return sign_element(soap11.serialize(soap11.build_envelope(payload)), reference_id, self.signer)
        return soap11.serialize(soap11.build_envelope(payload))

    def send_request(self, msg: m.SendRequestRequest, *, sign: bool = True) -> bytes:
        root = self._b.root("SendRequestRequest")
        self._b.request_data(root, msg.data)
        self._b.attachments(root, msg.attachments)
        return self._finish(root, msg.data.id, sign=sign)

    def send_response(self, msg: m.SendResponseRequest, *, sign: bool = True) -> bytes:
        root = self._b.root("SendResponseRequest")
        self._b.response_data(root, msg.data)
        self._b.attachments(root, msg.attachments)
        return self._finish(root, msg.data.id, sign=sign)

    def get_response(self, msg: m.GetResponseRequest, *, sign: bool = True) -> bytes:
        root = self._b.root("GetResponseRequest")
        self._b.selector(root, msg.selector)
        return self._finish(root, msg.selector.id, sign=sign)

    def get_request(self, msg: m.GetRequestRequest, *, sign: bool = True) -> bytes:
        root = self._b.root("GetRequestRequest")
        self._b.selector(root, msg.selector)
        return self._finish(root, msg.selector.id, sign=sign)

    def ack(self, msg: m.AckRequest, *, sign: bool = True) -> bytes:
        root = self._b.root("AckRequest")
        self._b.b(root, "AckTargetMessage", msg.message_id, Id=msg.id, accepted="true" if msg.accepted else "false")
        return self._finish(root, msg.id, sign=sign)

    def get_status(self, msg: m.GetStatusRequest, *, sign: bool = True) -> bytes:
        """GetStatusRequest. The 1.1 XSD makes its signature mandatory: unsigned is for tests."""
        root = self._b.root("GetStatusRequest")
        self._b.b(root, "Timestamp", format_datetime(msg.timestamp), Id=msg.id)
        return self._finish(root, msg.id, sign=sign)

    # -- SMEV's answers (the twin; tests) ------------------------------------------------------

    def _answer_id(self, ident: str | None) -> str | None:
        return ident or (ANSWER_SIGNED if self.smev_signer is not None else None)

    def _answer(self, payload: etree._Element, holder_parent: etree._Element, reference_id: str | None) -> bytes:
        if self.smev_signer is None or reference_id is None:
            return soap11.serialize(soap11.build_envelope(payload))
        self._b.t(holder_parent, "SMEVSignature")
        data = soap11.serialize(soap11.build_envelope(payload))
        return sign_element(data, reference_id, self.smev_signer, holder="SMEVSignature")

    def send_request_response(self, msg: m.SendRequestResponse) -> bytes:
        root = self._b.root("SendRequestResponse")
        ident = self._answer_id(msg.metadata.id)
        self._b.metadata(root, msg.metadata, ident)
        return self._answer(root, root, ident)

    def send_response_response(self, msg: m.SendResponseResponse) -> bytes:
        root = self._b.root("SendResponseResponse")
        ident = self._answer_id(msg.metadata.id)
        self._b.metadata(root, msg.metadata, ident)
        return self._answer(root, root, ident)

    def get_response_response(self, msg: m.GetResponseResponse) -> bytes:
        root = self._b.root("GetResponseResponse")
        if msg.response is None:
            return soap11.serialize(soap11.build_envelope(root))
        r = msg.response
        holder = self._b.t(root, "ResponseMessage")
        ident = self._answer_id(r.id)
        response = self._b.t(holder, "Response", **_id(ident))
        self._b.opt(response, "OriginalMessageId", r.original_message_id)
        self._b.opt(response, "OriginalTransactionCode", r.original_transaction_code)
        self._b.opt(response, "ReferenceMessageID", r.reference_message_id)
        self._b.response_data(response, r.data)
        self._b.metadata(response, r.metadata)
        self._b.fs_attachments(response, r.fs_attachments)
        self._b.signature(response, "SenderInformationSystemSignature", r.sender_signature)
        self._b.attachments(holder, msg.attachments)
        return self._answer(root, holder, ident)

    def get_request_response(self, msg: m.GetRequestResponse) -> bytes:
        root = self._b.root("GetRequestResponse")
        if msg.empty:
            return soap11.serialize(soap11.build_envelope(root))
        holder = self._b.t(root, "RequestMessage")
        if msg.request is not None:
            r = msg.request
            ident = self._answer_id(r.id)
            request = self._b.t(holder, "Request", **_id(ident))
            self._b.request_data(request, r.data)
            self._b.metadata(request, r.metadata)
            self._b.fs_attachments(request, r.fs_attachments)
            self._b.t(request, "ReplyTo", r.reply_to)
            self._b.signature(request, "SenderInformationSystemSignature", r.sender_signature)
            self._b.attachments(holder, msg.attachments)
        else:
            c = msg.cancel
            assert c is not None
            ident = self._answer_id(c.id)
            cancel = self._b.t(holder, "Cancel", **_id(ident))
            self._b.b(cancel, "MessageReference", c.reference)
            self._b.t(cancel, "MessageID", c.message_id)
            self._b.metadata(cancel, c.metadata)
        return self._answer(root, holder, ident)

    def get_status_response(self, msg: m.GetStatusResponse) -> bytes:
        root = self._b.root("GetStatusResponse")
        if msg.status is None:
            return soap11.serialize(soap11.build_envelope(root))
        holder = self._b.t(root, "SmevAsyncProcessingMessage")
        ident = self._answer_id(msg.id)
        data = self._b.t(holder, "AsyncProcessingStatusData", **_id(ident))
        self._b.async_status(data, msg.status)
        return self._answer(root, holder, ident)

    def ack_response(self) -> bytes:
        return soap11.serialize(soap11.build_envelope(self._b.root("AckResponse")))

    def fault(self, fault: m.Fault) -> bytes:
        """A SOAP fault carrying SMEV's detail element ``fault.code`` (one of FAULT_ELEMENTS),
        or a bare fault for any other code."""
        detail: list[etree._Element] = []
        if fault.code in FAULT_ELEMENTS:
            item = self._b.f(None, fault.code)
            if fault.code not in VOID_FAULTS:
                if fault.detail_code is not None:
                    self._b.b(item, "Code", fault.detail_code)
                if fault.description is not None:
                    self._b.b(item, "Description", fault.description)
                if fault.code == "SignatureVerificationFault":
                    self._b.f(item, "SignatureVerificationFault", fault.subcode or "SignatureIsInvalid")
                for position, text in fault.validation_errors:
                    self._b.f(item, "ValidationError", text, errorPosition=str(position))
                for name, value in fault.details:
                    self._b.f(item, name, value)
            detail.append(item)
        return soap11.serialize(soap11.build_fault(fault.faultcode, fault.message, detail=detail))

    # -- parsing -------------------------------------------------------------------------------

    def parse(self, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Message:
        """Any SMEV 3 envelope → its message (a fault → :class:`~adapters.smev3.messages.Fault`).
        Raises :class:`Smev3FormatError` only."""
        try:
            envelope = soap11.parse_envelope(data, max_bytes=max_bytes)
        except soap11.Soap11Error as exc:
            raise Smev3FormatError(exc.code, str(exc)) from None
        if envelope.fault is not None:
            return parse_fault(envelope.fault)
        payload = envelope.payload
        assert payload is not None
        qname = etree.QName(payload)
        if not (qname.namespace or "").startswith(m.TYPES_FAMILY):
            raise Smev3FormatError("NOT_SMEV3", f"payload {payload.tag} is not an SMEV 3 message")
        parser = _PARSERS.get(qname.localname)
        if parser is None:
            raise Smev3FormatError("UNKNOWN_OPERATION", f"no SMEV 3 operation has the payload {qname.localname}")
        try:
            return parser(payload)
        except Smev3FormatError:
            raise
        except (ValueError, TypeError, etree.LxmlError) as exc:
            raise Smev3FormatError("BAD_MESSAGE", f"{qname.localname}: {exc}") from None


# --- parsing helpers ---------------------------------------------------------------------------


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _kids(parent: etree._Element, name: str | None = None) -> list[etree._Element]:
    return [c for c in parent if isinstance(c.tag, str) and (name is None or _local(c) == name)]


def _opt(parent: etree._Element, name: str) -> etree._Element | None:
    found = _kids(parent, name)
    return found[0] if found else None


def _req(parent: etree._Element, name: str) -> etree._Element:
    found = _opt(parent, name)
    if found is None:
        raise Smev3FormatError("BAD_MESSAGE", f"{_local(parent)} lacks {name}")
    return found


def _text(parent: etree._Element, name: str) -> str:
    return (_req(parent, name).text or "").strip()


def _opt_text(parent: etree._Element, name: str) -> str | None:
    found = _opt(parent, name)
    return None if found is None else (found.text or "").strip()


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value.strip())


def _opt_dt(parent: etree._Element, name: str) -> datetime | None:
    value = _opt_text(parent, name)
    return _dt(value) if value else None


def _serialize(element: etree._Element) -> bytes:
    """The element on its own: a copy without the envelope's namespace declarations it does not use."""
    alone = copy.deepcopy(element)
    alone.tail = None
    etree.cleanup_namespaces(alone)
    return etree.tostring(alone, encoding="UTF-8")


def _content(parent: etree._Element) -> bytes | None:
    holder = _opt(parent, "MessagePrimaryContent")
    if holder is None:
        return None
    inner = _kids(holder)
    if len(inner) != 1:
        raise Smev3FormatError("BAD_MESSAGE", f"MessagePrimaryContent holds {len(inner)} elements, not one")
    return _serialize(inner[0])


def _signature(parent: etree._Element, name: str) -> bytes | None:
    holder = _opt(parent, name)
    if holder is None:
        return None
    inner = _kids(holder)
    return _serialize(inner[0]) if inner else None


def _pkcs7(parent: etree._Element) -> bytes | None:
    value = _opt_text(parent, "SignaturePKCS7")
    return base64.b64decode(value, validate=False) if value else None


def _headers(parent: etree._Element) -> tuple[tuple[m.AttachmentHeader, ...], tuple[m.RefAttachmentHeader, ...]]:
    plain: list[m.AttachmentHeader] = []
    ref: list[m.RefAttachmentHeader] = []
    holder = _opt(parent, "AttachmentHeaderList")
    for h in _kids(holder, "AttachmentHeader") if holder is not None else []:
        plain.append(m.AttachmentHeader(_text(h, "contentId"), _text(h, "MimeType"), _pkcs7(h)))
    holder = _opt(parent, "RefAttachmentHeaderList")
    for r in _kids(holder, "RefAttachmentHeader") if holder is not None else []:
        ref.append(m.RefAttachmentHeader(_text(r, "uuid"), _text(r, "Hash"), _text(r, "MimeType"), _pkcs7(r)))
    return tuple(plain), tuple(ref)


def _attachments(parent: etree._Element) -> tuple[m.AttachmentContent, ...]:
    holder = _opt(parent, "AttachmentContentList")
    if holder is None:
        return ()
    return tuple(
        m.AttachmentContent(_text(a, "Id"), base64.b64decode(_text(a, "Content")))
        for a in _kids(holder, "AttachmentContent")
    )


def _fs_attachments(parent: etree._Element) -> tuple[m.FSAttachment, ...]:
    holder = _opt(parent, "FSAttachmentsList")
    if holder is None:
        return ()
    return tuple(
        m.FSAttachment(_text(a, "uuid"), _text(a, "UserName"), _text(a, "Password"), _text(a, "FileName"))
        for a in _kids(holder, "FSAttachment")
    )


def _request_data(element: etree._Element) -> m.SenderProvidedRequestData:
    content = _content(element)
    if content is None:
        raise Smev3FormatError("BAD_MESSAGE", "SenderProvidedRequestData lacks MessagePrimaryContent")
    plain, ref = _headers(element)
    return m.SenderProvidedRequestData(
        message_id=_text(element, "MessageID"),
        content=content,
        reference_message_id=_opt_text(element, "ReferenceMessageID"),
        transaction_code=_opt_text(element, "TransactionCode"),
        node_id=_opt_text(element, "NodeID"),
        eol=_opt_dt(element, "EOL"),
        personal_signature=_signature(element, "PersonalSignature"),
        attachment_headers=plain,
        ref_attachment_headers=ref,
        test_message=_opt(element, "TestMessage") is not None,
        id=element.get("Id") or m.SIGNED_BY_CONSUMER,
    )


def _async_status(element: etree._Element) -> m.AsyncProcessingStatus:
    fault = _opt(element, "SmevFault")
    return m.AsyncProcessingStatus(
        original_message_id=_text(element, "OriginalMessageId"),
        category=_text(element, "StatusCategory"),
        details=_opt_text(element, "StatusDetails"),
        fault_code=_opt_text(fault, "Code") if fault is not None else None,
        fault_description=_opt_text(fault, "Description") if fault is not None else None,
        has_fault=fault is not None,
    )


def _response_data(element: etree._Element) -> m.SenderProvidedResponseData:
    plain, ref = _headers(element)
    status_el = _opt(element, "RequestStatus")
    status = None
    if status_el is not None:
        status = m.RequestStatus(
            code=int(_text(status_el, "StatusCode")),
            description=_text(status_el, "StatusDescription"),
            parameters=tuple((_text(p, "Key"), _text(p, "Value")) for p in _kids(status_el, "StatusParameter")),
        )
    async_el = _opt(element, "AsyncProcessingStatus")
    data = m.SenderProvidedResponseData(
        message_id=_text(element, "MessageID"),
        to=_text(element, "To"),
        content=_content(element),
        personal_signature=_signature(element, "PersonalSignature"),
        attachment_headers=plain,
        ref_attachment_headers=ref,
        rejections=tuple(
            m.RequestRejected(_text(r, "RejectionReasonCode"), _text(r, "RejectionReasonDescription"))
            for r in _kids(element, "RequestRejected")
        ),
        status=status,
        async_status=_async_status(async_el) if async_el is not None else None,
        id=element.get("Id") or m.SIGNED_BY_PROVIDER,
    )
    try:
        data.kind  # noqa: B018 — one of the four kinds must be there
    except ValueError as exc:
        raise Smev3FormatError("BAD_MESSAGE", str(exc)) from None
    return data


def _party(element: etree._Element) -> m.Party:
    # 1.2/1.3 SMEV omits HumanReadableName (seen in captured real answers)
    return m.Party(_text(element, "Mnemonic"), _opt_text(element, "HumanReadableName") or "")


def _metadata(element: etree._Element) -> m.MessageMetadata:
    """Lenient about what 1.2/1.3 made optional (DestinationName, SupplementaryData): real SMEV
    answers leave them out, and refusing them would refuse genuine messages."""
    recipient = _opt(element, "Recipient")
    supplementary = _opt(element, "SupplementaryData")
    return m.MessageMetadata(
        message_type=_text(element, "MessageType"),
        sender=_party(_req(element, "Sender")),
        sending_timestamp=_dt(_text(element, "SendingTimestamp")),
        destination_name=_opt_text(element, "DestinationName") or "",
        interaction_type=(_opt_text(supplementary, "InteractionType") or "") if supplementary is not None else "",
        message_id=_opt_text(element, "MessageId"),
        message_broker=_opt_text(element, "MessageBroker"),
        recipient=_party(recipient) if recipient is not None else None,
        detected_content_type_name=_opt_text(supplementary, "DetectedContentTypeName")
        if supplementary is not None
        else None,
        delivery_timestamp=_opt_dt(element, "DeliveryTimestamp"),
        status=_opt_text(element, "Status"),
        id=element.get("Id"),
    )


def _selector(payload: etree._Element) -> m.MessageTypeSelector:
    s = _req(payload, "MessageTypeSelector")
    return m.MessageTypeSelector(
        timestamp=_dt(_text(s, "Timestamp")),
        namespace_uri=_opt_text(s, "NamespaceURI"),
        root_element_local_name=_opt_text(s, "RootElementLocalName"),
        node_id=_opt_text(s, "NodeID"),
        id=s.get("Id") or m.SIGNED_BY_CALLER,
    )


def _parse_send_request(p: etree._Element) -> m.SendRequestRequest:
    return m.SendRequestRequest(_request_data(_req(p, "SenderProvidedRequestData")), _attachments(p))


def _parse_send_response(p: etree._Element) -> m.SendResponseRequest:
    return m.SendResponseRequest(_response_data(_req(p, "SenderProvidedResponseData")), _attachments(p))


def _parse_get_response_response(p: etree._Element) -> m.GetResponseResponse:
    holder = _opt(p, "ResponseMessage")
    if holder is None:
        return m.GetResponseResponse()
    r = _req(holder, "Response")
    response = m.Response(
        data=_response_data(_req(r, "SenderProvidedResponseData")),
        metadata=_metadata(_req(r, "MessageMetadata")),
        original_message_id=_opt_text(r, "OriginalMessageId"),
        original_transaction_code=_opt_text(r, "OriginalTransactionCode"),
        reference_message_id=_opt_text(r, "ReferenceMessageID"),
        fs_attachments=_fs_attachments(r),
        sender_signature=_signature(r, "SenderInformationSystemSignature"),
        id=r.get("Id"),
    )
    return m.GetResponseResponse(response, _attachments(holder))


def _parse_get_request_response(p: etree._Element) -> m.GetRequestResponse:
    holder = _opt(p, "RequestMessage")
    if holder is None:
        return m.GetRequestResponse()
    r = _opt(holder, "Request")
    if r is not None:
        request = m.Request(
            data=_request_data(_req(r, "SenderProvidedRequestData")),
            metadata=_metadata(_req(r, "MessageMetadata")),
            reply_to=_text(r, "ReplyTo"),
            fs_attachments=_fs_attachments(r),
            sender_signature=_signature(r, "SenderInformationSystemSignature"),
            id=r.get("Id"),
        )
        return m.GetRequestResponse(request=request, attachments=_attachments(holder))
    c = _req(holder, "Cancel")
    cancel = m.Cancel(
        reference=_text(c, "MessageReference"),
        message_id=_text(c, "MessageID"),
        metadata=_metadata(_req(c, "MessageMetadata")),
        id=c.get("Id"),
    )
    return m.GetRequestResponse(cancel=cancel)


def _parse_get_status_response(p: etree._Element) -> m.GetStatusResponse:
    holder = _opt(p, "SmevAsyncProcessingMessage")
    if holder is None:
        return m.GetStatusResponse()
    data = _req(holder, "AsyncProcessingStatusData")
    return m.GetStatusResponse(_async_status(_req(data, "AsyncProcessingStatus")), data.get("Id"))


def _parse_ack(p: etree._Element) -> m.AckRequest:
    target = _req(p, "AckTargetMessage")
    accepted = (target.get("accepted") or "").strip()
    if accepted not in ("true", "false", "1", "0"):
        raise Smev3FormatError("BAD_MESSAGE", f"AckTargetMessage/@accepted is {accepted!r}")
    return m.AckRequest((target.text or "").strip(), accepted in ("true", "1"), target.get("Id") or "")


def _parse_get_status(p: etree._Element) -> m.GetStatusRequest:
    stamp = _req(p, "Timestamp")
    return m.GetStatusRequest(_dt(stamp.text or ""), stamp.get("Id") or m.SIGNED_BY_CALLER)


_PARSERS: Final[dict[str, Callable[[etree._Element], Message]]] = {
    "SendRequestRequest": _parse_send_request,
    "SendRequestResponse": lambda p: m.SendRequestResponse(_metadata(_req(p, "MessageMetadata"))),
    "SendResponseRequest": _parse_send_response,
    "SendResponseResponse": lambda p: m.SendResponseResponse(_metadata(_req(p, "MessageMetadata"))),
    "GetRequestRequest": lambda p: m.GetRequestRequest(_selector(p)),
    "GetRequestResponse": _parse_get_request_response,
    "GetResponseRequest": lambda p: m.GetResponseRequest(_selector(p)),
    "GetResponseResponse": _parse_get_response_response,
    "AckRequest": _parse_ack,
    "AckResponse": lambda p: m.AckResponse(),
    "GetStatusRequest": _parse_get_status,
    "GetStatusResponse": _parse_get_status_response,
}


def parse_fault(fault: soap11.Soap11Fault) -> m.Fault:
    """A SOAP 1.1 fault → :class:`~adapters.smev3.messages.Fault` (never raises)."""
    smev = [d for d in fault.detail if (etree.QName(d).namespace or "").startswith(m.TYPES_FAMILY)]
    if not smev:
        code = {"server": "SOAP_SERVER", "client": "SOAP_CLIENT"}.get(fault.code.lower(), f"SOAP_{fault.code}")
        return m.Fault(code=code, message=fault.faultstring, faultcode=fault.faultcode)
    item = smev[0]
    detail_code = description = subcode = None
    errors: list[tuple[int, str]] = []
    details: list[tuple[str, str]] = []
    for child in _kids(item):
        name, text = _local(child), (child.text or "").strip()
        if name == "Code":
            detail_code = text
        elif name == "Description":
            description = text
        elif name == "SignatureVerificationFault":
            subcode = text
        elif name == "ValidationError":
            raw = (child.get("errorPosition") or "").strip()
            errors.append((int(raw) if raw.lstrip("-").isdigit() else -1, text))
        else:
            details.append((name, text))
    return m.Fault(
        code=_local(item),
        message=fault.faultstring,
        faultcode=fault.faultcode,
        detail_code=detail_code,
        description=description,
        subcode=subcode,
        validation_errors=tuple(errors),
        details=tuple(details),
    )


def iter_fault_codes(faults: Iterable[m.Fault]) -> tuple[tuple[str, str], ...]:
    """Every (code, message) pair of several faults, most specific first (for ``Answer.codes``)."""
    return tuple(pair for f in faults for pair in f.answer_codes())
