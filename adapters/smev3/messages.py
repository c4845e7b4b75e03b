"""The SMEV 3 message-exchange messages as plain data (types 1.1; 1.2/1.3 by namespace).

Built into envelopes and parsed back by :class:`adapters.smev3.codec.Smev3Codec`. Business
content (``MessagePrimaryContent``'s one child) and ready-made signatures travel as serialized
XML bytes, so the dataclasses stay immutable and comparable. Timestamps are aware datetimes.

Ids (``Id`` attributes of the signed elements) follow the usual SMEV names: the consumer's
request data ``SIGNED_BY_CONSUMER``, the provider's response data ``SIGNED_BY_PROVIDER``,
selectors, Ack targets and the GetStatus timestamp ``SIGNED_BY_CALLER``; SMEV's own metadata
``SIGNED_BY_SMEV``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

__all__ = [
    "SIGNED_BY_CALLER",
    "SIGNED_BY_CONSUMER",
    "SIGNED_BY_PROVIDER",
    "SIGNED_BY_SMEV",
    "TYPES_FAMILY",
    "AckRequest",
    "AckResponse",
    "AsyncProcessingStatus",
    "AttachmentContent",
    "AttachmentHeader",
    "Cancel",
    "FSAttachment",
    "Fault",
    "GetRequestRequest",
    "GetRequestResponse",
    "GetResponseRequest",
    "GetResponseResponse",
    "GetStatusRequest",
    "GetStatusResponse",
    "InteractionStatus",
    "MessageMetadata",
    "MessageTypeSelector",
    "Namespaces",
    "Party",
    "RefAttachmentHeader",
    "Request",
    "RequestRejected",
    "RequestStatus",
    "Response",
    "ResponseKind",
    "SendRequestRequest",
    "SendRequestResponse",
    "SendResponseRequest",
    "SendResponseResponse",
    "SenderProvidedRequestData",
    "SenderProvidedResponseData",
]

SIGNED_BY_CONSUMER: Final = "SIGNED_BY_CONSUMER"
SIGNED_BY_PROVIDER: Final = "SIGNED_BY_PROVIDER"
SIGNED_BY_CALLER: Final = "SIGNED_BY_CALLER"
SIGNED_BY_SMEV: Final = "SIGNED_BY_SMEV"

TYPES_FAMILY: Final = "urn://x-artefacts-smev-gov-ru/services/message-exchange/types/"


@dataclass(frozen=True, slots=True)
class Namespaces:
    """The three namespaces of one message-exchange version."""

    version: str
    types: str
    basic: str
    faults: str

    @classmethod
    def for_version(cls, version: str) -> Namespaces:
        if version not in ("1.1", "1.2", "1.3"):
            raise ValueError(f"SMEV 3 namespace version {version!r} is not 1.1, 1.2 or 1.3")
        return cls(
            version, f"{TYPES_FAMILY}{version}", f"{TYPES_FAMILY}basic/{version}", f"{TYPES_FAMILY}faults/{version}"
        )


class InteractionStatus(enum.StrEnum):
    """basic:InteractionStatusType (1.1). Later versions add values; parsers keep unknown ones as
    plain strings."""

    DOES_NOT_EXIST = "doesNotExist"
    REQUEST_IS_QUEUED = "requestIsQueued"
    REQUEST_IS_ACCEPTED_BY_SMEV = "requestIsAcceptedBySmev"
    REQUEST_IS_REJECTED_BY_SMEV = "requestIsRejectedBySmev"
    UNDER_PROCESSING = "underProcessing"
    RESPONSE_IS_ACCEPTED_BY_SMEV = "responseIsAcceptedBySmev"
    CANCELLED = "cancelled"
    RESPONSE_IS_DELIVERED = "responseIsDelivered"


# --- attachments ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AttachmentHeader:
    """basic:AttachmentHeader: an attachment carried in the message (AttachmentContentList)."""

    content_id: str
    mime_type: str
    signature_pkcs7: bytes | None = None  # detached CMS of the attachment (DER)


@dataclass(frozen=True, slots=True)
class RefAttachmentHeader:
    """basic:RefAttachmentHeader: an attachment uploaded to the SMEV file store."""

    uuid: str
    hash: str  # GOST R 34.11-2012 of the file, base64, as the file store expects
    mime_type: str
    signature_pkcs7: bytes | None = None


@dataclass(frozen=True, slots=True)
class AttachmentContent:
    """basic:AttachmentContent: ``id`` matches an AttachmentHeader's ``content_id``. Inline
    base64 for now; MTOM/XOP is the transport's (not built yet)."""

    id: str
    content: bytes


@dataclass(frozen=True, slots=True)
class FSAttachment:
    """basic:FSAttachment: where to fetch a file-store attachment of a received message."""

    uuid: str
    user_name: str
    password: str
    file_name: str


# --- requests ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SenderProvidedRequestData:
    message_id: str  # UUID v1 (adapters.smev3.identity)
    content: bytes  # the business XML: MessagePrimaryContent's only child
    reference_message_id: str | None = None
    transaction_code: str | None = None
    node_id: str | None = None
    eol: datetime | None = None
    personal_signature: bytes | None = None  # a ds:Signature (ЭП-СП) over the content, serialized
    attachment_headers: tuple[AttachmentHeader, ...] = ()
    ref_attachment_headers: tuple[RefAttachmentHeader, ...] = ()
    test_message: bool = False
    id: str = SIGNED_BY_CONSUMER


@dataclass(frozen=True, slots=True)
class SendRequestRequest:
    data: SenderProvidedRequestData
    attachments: tuple[AttachmentContent, ...] = ()


@dataclass(frozen=True, slots=True)
class Party:
    mnemonic: str
    human_readable_name: str


@dataclass(frozen=True, slots=True)
class MessageMetadata:
    """tns:MessageMetadata, filled in by SMEV (signed by it as ``SIGNED_BY_SMEV`` in answers)."""

    message_type: str  # REQUEST | BROADCAST | RESPONSE | CANCEL
    sender: Party
    sending_timestamp: datetime
    destination_name: str
    interaction_type: str  # basic:InteractionTypeType, e.g. OIV2OIV
    message_id: str | None = None
    message_broker: str | None = None
    recipient: Party | None = None
    detected_content_type_name: str | None = None
    delivery_timestamp: datetime | None = None
    status: str | None = None  # InteractionStatus value (kept as text: later versions add more)
    id: str | None = None


@dataclass(frozen=True, slots=True)
class SendRequestResponse:
    metadata: MessageMetadata


@dataclass(frozen=True, slots=True)
class SendResponseResponse:
    metadata: MessageMetadata


@dataclass(frozen=True, slots=True)
class MessageTypeSelector:
    timestamp: datetime
    namespace_uri: str | None = None
    root_element_local_name: str | None = None
    node_id: str | None = None
    id: str = SIGNED_BY_CALLER


@dataclass(frozen=True, slots=True)
class GetResponseRequest:
    selector: MessageTypeSelector


@dataclass(frozen=True, slots=True)
class GetRequestRequest:
    selector: MessageTypeSelector


@dataclass(frozen=True, slots=True)
class AckRequest:
    """Acknowledges one received message (its ``MessageMetadata/MessageId``, or the
    ``SenderProvidedRequestData/MessageID`` on the provider side). ``accepted=False`` for a
    message that failed our checks: SMEV drops it from the queue all the same."""

    message_id: str
    accepted: bool = True
    id: str = SIGNED_BY_CALLER


@dataclass(frozen=True, slots=True)
class AckResponse:
    """SMEV's empty answer to an Ack."""


@dataclass(frozen=True, slots=True)
class GetStatusRequest:
    timestamp: datetime
    id: str = SIGNED_BY_CALLER


# --- responses ---------------------------------------------------------------------------------


class ResponseKind(enum.StrEnum):
    BUSINESS = "business"  # MessagePrimaryContent
    REJECTED = "rejected"  # RequestRejected (one or more)
    STATUS = "status"  # RequestStatus
    ASYNC_STATUS = "async-status"  # AsyncProcessingStatus (e.g. requestIsRejectedBySmev)


@dataclass(frozen=True, slots=True)
class RequestRejected:
    code: str  # ACCESS_DENIED | NO_DATA | UNKNOWN_REQUEST_DESCRIPTION | FAILURE
    description: str


@dataclass(frozen=True, slots=True)
class RequestStatus:
    code: int
    description: str
    parameters: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class AsyncProcessingStatus:
    original_message_id: str
    category: str  # InteractionStatus value
    details: str | None = None
    fault_code: str | None = None  # SmevFault/Code
    fault_description: str | None = None  # SmevFault/Description
    has_fault: bool = False  # a SmevFault element was present (possibly empty)


@dataclass(frozen=True, slots=True)
class SenderProvidedResponseData:
    """One of four kinds (``kind``): business content, rejections, a status, an async status."""

    message_id: str
    to: str  # the request's ReplyTo, copied
    content: bytes | None = None
    personal_signature: bytes | None = None
    attachment_headers: tuple[AttachmentHeader, ...] = ()
    ref_attachment_headers: tuple[RefAttachmentHeader, ...] = ()
    rejections: tuple[RequestRejected, ...] = ()
    status: RequestStatus | None = None
    async_status: AsyncProcessingStatus | None = None
    id: str = SIGNED_BY_PROVIDER

    @property
    def kind(self) -> ResponseKind:
        if self.content is not None:
            return ResponseKind.BUSINESS
        if self.rejections:
            return ResponseKind.REJECTED
        if self.status is not None:
            return ResponseKind.STATUS
        if self.async_status is not None:
            return ResponseKind.ASYNC_STATUS
        raise ValueError("SenderProvidedResponseData carries none of its four kinds")


@dataclass(frozen=True, slots=True)
class SendResponseRequest:
    data: SenderProvidedResponseData
    attachments: tuple[AttachmentContent, ...] = ()


@dataclass(frozen=True, slots=True)
class Response:
    data: SenderProvidedResponseData
    metadata: MessageMetadata
    original_message_id: str | None = None
    original_transaction_code: str | None = None
    reference_message_id: str | None = None
    fs_attachments: tuple[FSAttachment, ...] = ()
    sender_signature: bytes | None = None  # SenderInformationSystemSignature's ds:Signature
    id: str | None = SIGNED_BY_SMEV  # the element ЭП-СМЭВ signs

    @property
    def kind(self) -> ResponseKind:
        return self.data.kind


@dataclass(frozen=True, slots=True)
class GetResponseResponse:
    """``response`` None: the queue is empty."""

    response: Response | None = None
    attachments: tuple[AttachmentContent, ...] = ()

    @property
    def empty(self) -> bool:
        return self.response is None


@dataclass(frozen=True, slots=True)
class Request:
    data: SenderProvidedRequestData
    metadata: MessageMetadata
    reply_to: str
    fs_attachments: tuple[FSAttachment, ...] = ()
    sender_signature: bytes | None = None  # SenderInformationSystemSignature's ds:Signature
    id: str | None = SIGNED_BY_SMEV  # the element ЭП-СМЭВ signs


@dataclass(frozen=True, slots=True)
class Cancel:
    reference: str  # the MessageID of the request to cancel
    message_id: str
    metadata: MessageMetadata
    id: str | None = SIGNED_BY_SMEV  # the element ЭП-СМЭВ signs


@dataclass(frozen=True, slots=True)
class GetRequestResponse:
    """Exactly one of ``request``/``cancel``, or neither: the queue is empty."""

    request: Request | None = None
    cancel: Cancel | None = None
    attachments: tuple[AttachmentContent, ...] = ()

    @property
    def empty(self) -> bool:
        return self.request is None and self.cancel is None


@dataclass(frozen=True, slots=True)
class GetStatusResponse:
    """``status`` None: no status message waiting."""

    status: AsyncProcessingStatus | None = None
    id: str | None = SIGNED_BY_SMEV  # the element ЭП-СМЭВ signs


# --- faults ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fault:
    """A SOAP fault from SMEV. ``code`` is the fault detail element's local name
    (``InvalidContent``, ``StaleMessageId``, ...) or, without a SMEV detail, ``SOAP_SERVER`` /
    ``SOAP_CLIENT`` / ``SOAP_<faultcode>``. ``subcode`` is the SignatureVerificationFault reason
    (``SignatureIsInvalid``, ...). ``validation_errors`` are InvalidContent's (errorPosition, text);
    ``details`` the other detail fields by local name (RootElementLocalName,
    PermittedTotalAttachmentSize, DestinationName, ...)."""

    code: str
    message: str  # faultstring
    faultcode: str = "soap:Server"
    detail_code: str | None = None  # basic:SmevFault/Code
    description: str | None = None  # basic:SmevFault/Description
    subcode: str | None = None
    validation_errors: tuple[tuple[int, str], ...] = ()
    details: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def text(self) -> str:
        """What to show: the fault's own description, else its faultstring, with InvalidContent's
        positions."""
        base = self.description or self.message or self.code
        if self.validation_errors:
            positions = "; ".join(f"@{pos}: {text}" for pos, text in self.validation_errors)
            return f"{base} [{positions}]"
        return base

    def answer_codes(self) -> tuple[tuple[str, str], ...]:
        """The (code, message) pairs for ``Answer.codes``: the most specific first (the
        SignatureVerificationFault reason, then the fault itself)."""
        if self.subcode:
            return ((self.subcode, self.text), (self.code, self.text))
        return ((self.code, self.text),)
