"""ШЭП v10 messages as values: what the codec builds and what it parses (docs/shep.md).

Names follow the XSD (``requestInfo``, ``messageInfo``, ``ErrorInfo``...); Python spells them in
snake case. Times are aware datetimes; the codec writes them with Kazakhstan's offset (+05:00).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

__all__ = [
    "AsyncMessage",
    "AsyncMessageInfo",
    "ChangeStatusNotify",
    "ChangeStatusNotifyResponse",
    "DeliveryNotification",
    "ErrorInfo",
    "GetMessageStatus",
    "GetMessageStatusResponse",
    "GetMessages",
    "GetMessagesResponse",
    "MessageState",
    "MessageType",
    "Property",
    "SendDeliveryNotification",
    "SendDeliveryNotificationResponse",
    "SendMessageResponse",
    "Sender",
    "ShepFault",
    "StatusInfo",
    "SyncMessageInfo",
    "SyncResponseInfo",
    "SyncSendMessage",
    "SyncSendMessageResponse",
]


class MessageType(enum.StrEnum):
    REQUEST = "REQUEST"
    NOTIFICATION = "NOTIFICATION"
    UPDATE = "UPDATE"
    RESPONSE = "RESPONSE"


class MessageState(enum.StrEnum):
    ON_DELIVERY = "ON_DELIVERY"
    DELIVERED = "DELIVERED"
    NOT_DELIVERED = "NOT_DELIVERED"
    DELIVERY_STOPPED = "DELIVERY_STOPPED"


@dataclass(frozen=True, slots=True)
class Sender:
    sender_id: str
    password: str | None = None

    def __repr__(self) -> str:  # the password never reaches a log
        return f"Sender(sender_id={self.sender_id!r}, password={'***' if self.password else None})"


@dataclass(frozen=True, slots=True)
class Property:
    key: str  # at most 30 characters (Property.xsd)
    value: str  # at most 500


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    code: str
    message: str
    date: datetime
    data: str | None = None
    sub_error: ErrorInfo | None = None
    session_id: str | None = None

    def chain(self) -> list[ErrorInfo]:
        """This error and its nested subErrors, outermost first."""
        out: list[ErrorInfo] = []
        node: ErrorInfo | None = self
        while node is not None and len(out) < 16:
            out.append(node)
            node = node.sub_error
        return out

    def answer_codes(self) -> tuple[tuple[str, str], ...]:
        """(code, message) of the whole chain, for the core's classifier."""
        return tuple((e.code, e.message) for e in self.chain())


@dataclass(frozen=True, slots=True)
class ShepFault:
    """A SOAP fault: ``error`` is its ErrorInfo detail when ШЭП gave one; ``operation`` the
    detail element's operation (``SendMessage``, ``sendMessage``, ``getMessages``...)."""

    faultcode: str
    faultstring: str
    error: ErrorInfo | None = None
    operation: str | None = None

    def answer_codes(self) -> tuple[tuple[str, str], ...]:
        if self.error is not None:
            return self.error.answer_codes()
        side = "SOAP_CLIENT" if self.faultcode.rpartition(":")[2].lower().startswith("client") else "SOAP_SERVER"
        return ((side, self.faultstring),)


# -- SyncChannel -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SyncMessageInfo:
    message_id: str
    service_id: str
    message_date: datetime
    sender: Sender
    correlation_id: str | None = None
    route_id: str | None = None
    properties: tuple[Property, ...] = ()
    session_id: str | None = None


@dataclass(frozen=True, slots=True)
class SyncSendMessage:
    info: SyncMessageInfo
    data: etree._Element | None = None  # the one child of requestData/data


@dataclass(frozen=True, slots=True)
class StatusInfo:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class SyncResponseInfo:
    message_id: str
    response_date: datetime
    status: StatusInfo
    correlation_id: str | None = None
    session_id: str | None = None


@dataclass(frozen=True, slots=True)
class SyncSendMessageResponse:
    info: SyncResponseInfo
    data: etree._Element | None = None


# -- AsyncChannel ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AsyncMessageInfo:
    service_id: str
    message_type: MessageType
    message_date: datetime
    sender: Sender
    message_id: str | None = None
    correlation_id: str | None = None
    route_id: str | None = None
    properties: tuple[Property, ...] = ()
    session_id: str | None = None

    def prop(self, key: str) -> str | None:
        return next((p.value for p in self.properties if p.key == key), None)


@dataclass(frozen=True, slots=True)
class AsyncMessage:
    """sendMessage's request, and each message of getMessagesResponse."""

    info: AsyncMessageInfo
    data: etree._Element | None = None  # the one child of messageData/data


@dataclass(frozen=True, slots=True)
class SendMessageResponse:
    message_id: str
    correlation_id: str
    response_date: datetime
    session_id: str | None = None


@dataclass(frozen=True, slots=True)
class GetMessageStatus:
    message_id: str
    request_date: datetime
    sender: Sender
    properties: tuple[Property, ...] = ()


@dataclass(frozen=True, slots=True)
class GetMessageStatusResponse:
    state: MessageState
    status_code: str
    status_message: str
    status_date: datetime
    response_date: datetime
    session_id: str | None = None


@dataclass(frozen=True, slots=True)
class GetMessages:
    service_id: str
    request_date: datetime | None = None
    sender: Sender | None = None
    message_id: str | None = None
    correlation_id: str | None = None
    amount: int | None = None
    properties: tuple[Property, ...] = ()


@dataclass(frozen=True, slots=True)
class GetMessagesResponse:
    response_date: datetime
    session_id: str
    messages: tuple[AsyncMessage, ...] = ()


@dataclass(frozen=True, slots=True)
class DeliveryNotification:
    message_id: str
    service_id: str
    notification_date: datetime
    accepted: bool  # receiveStatus MESSAGE_ACCEPTED / MESSAGE_NOT_ACCTEPTED (sic, as in the XSD)
    status_date: datetime
    resend: bool = False  # resendMessage RESEND / NOT_RESEND
    error: ErrorInfo | None = None


@dataclass(frozen=True, slots=True)
class SendDeliveryNotification:
    notification: DeliveryNotification
    request_date: datetime
    sender: Sender | None = None


@dataclass(frozen=True, slots=True)
class SendDeliveryNotificationResponse:
    notification_id: str
    response_date: datetime
    session_id: str


# -- the client callback (IAsyncChannelClient) -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChangeStatusNotify:
    notification_id: str
    message_id: str
    notification_date: datetime
    state: MessageState
    status_code: str
    status_message: str
    status_date: datetime
    request_date: datetime
    error: ErrorInfo | None = None
    session_id: str | None = None


@dataclass(frozen=True, slots=True)
class ChangeStatusNotifyResponse:
    response_date: datetime
    session_id: str
