"""ШЭП v10 envelopes built and parsed: SyncChannel SendMessage, AsyncChannel sendMessage,
getMessageStatus, getMessages, sendDeliveryNotification, the client callback
changeMassageStatusNotification (sic, as ШЭП spells it), their responses and ErrorInfo faults.

SOAP 1.1. Wrapper elements are qualified in the channel's Types namespace; everything below them
is unqualified (the XSDs have no elementFormDefault). Built envelopes validate against
``wsdl/shep/all.xsd`` (tests). ``signer`` (WS-Security, :mod:`gateway.signatures.xml.wssecurity`)
is applied to every envelope built; parsing never checks signatures — the adapter verifies the
raw bytes before it trusts anything parsed from them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

from lxml import etree

from adapters.shep import messages as m
from gateway.wire.safexml import DEFAULT_MAX_BYTES
from gateway.wire.soap11 import Soap11Error, build_envelope, build_fault, parse_envelope, serialize

__all__ = [
    "ASYNC_CLIENT_NS",
    "ASYNC_NS",
    "COMMON_NS",
    "KZ_TZ",
    "SYNC_NS",
    "Message",
    "ShepCodec",
    "ShepFormatError",
    "format_datetime",
    "new_session_id",
]

SYNC_NS: Final = "http://bip.bee.kz/SyncChannel/v10/Types"
ASYNC_NS: Final = "http://bip.bee.kz/AsyncChannel/v10/Types"
ASYNC_CLIENT_NS: Final = "http://bip.bee.kz/AsyncChannel/v10/Types/Client"
COMMON_NS: Final = "http://bip.bee.kz/common/v10/Types"
# Kazakhstan has one time zone, UTC+5, since 1 March 2024 (docs/shep.md, "Time").
KZ_TZ: Final = timezone(timedelta(hours=5), "KZ")

Message = (
    m.SyncSendMessage
    | m.SyncSendMessageResponse
    | m.AsyncMessage
    | m.SendMessageResponse
    | m.GetMessageStatus
    | m.GetMessageStatusResponse
    | m.GetMessages
    | m.GetMessagesResponse
    | m.SendDeliveryNotification
    | m.SendDeliveryNotificationResponse
    | m.ChangeStatusNotify
    | m.ChangeStatusNotifyResponse
    | m.ShepFault
)

_FAULT_ELEMENTS: Final = {
    f"{{{SYNC_NS}}}SendMessageFault1_SendMessageFault": "SendMessage",
    f"{{{ASYNC_NS}}}sendMessageFault1_sendMessageFault": "sendMessage",
    f"{{{ASYNC_NS}}}getMessageStatusFault1_getMessageStatusFault": "getMessageStatus",
    f"{{{ASYNC_NS}}}getMessagesFault1_getMessagesFault": "getMessages",
    f"{{{ASYNC_NS}}}sendDeliveryNotificationFault1_sendDeliveryNotificationFault": "sendDeliveryNotification",
    f"{{{ASYNC_CLIENT_NS}}}changeMassageStatusNotificationFault1_changeMassageStatusNotificationFault": (
        "changeMassageStatusNotification"
    ),
}
FAULT_ELEMENT_OF: Final = {op: tag for tag, op in _FAULT_ELEMENTS.items()}


class ShepFormatError(ValueError):
    """The bytes are not a ШЭП v10 message we can read. ``code`` is stable (SOAP layer codes, or
    SHEP_UNKNOWN_MESSAGE / SHEP_MALFORMED)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def format_datetime(moment: datetime) -> str:
    """xsd:dateTime with Kazakhstan's offset and milliseconds: 2025-07-01T15:59:00.000+05:00."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(KZ_TZ).isoformat(timespec="milliseconds")


def new_session_id() -> str:
    """A ШЭП guid: braces around a UUID (Guid.xsd's pattern)."""
    return "{" + str(uuid.uuid4()) + "}"


def _parse_datetime(text: str | None, where: str) -> datetime:
    raw = (text or "").strip()
    if raw.endswith("Z"):
        raw = raw[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ShepFormatError("SHEP_MALFORMED", f"{where}: {text!r} is not a dateTime") from None
    if value.tzinfo is None:  # ШЭП's own stamps without offset are Kazakhstan time
        value = value.replace(tzinfo=KZ_TZ)
    return value.astimezone(UTC)


# -- building --------------------------------------------------------------------------------------


def _sub(parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, name)
    if text is not None:
        element.text = text
    return element


def _opt(parent: etree._Element, name: str, text: str | None) -> None:
    if text is not None:
        _sub(parent, name, text)


def _sender(parent: etree._Element, sender: m.Sender, name: str = "sender") -> None:
    holder = _sub(parent, name)
    _sub(holder, "senderId", sender.sender_id)
    _opt(holder, "password", sender.password)


def _properties(parent: etree._Element, properties: Iterable[m.Property]) -> None:
    for prop in properties:
        holder = _sub(parent, "properties")
        _sub(holder, "key", prop.key[:30])
        _sub(holder, "value", prop.value[:500])


def _data(parent: etree._Element, name: str, data: etree._Element | None, *, required: bool) -> None:
    holder = _sub(parent, name)
    if data is None and not required:
        return
    slot = _sub(holder, "data")
    if data is not None:
        slot.append(_copy(data))


def _copy(element: etree._Element) -> etree._Element:
    return etree.fromstring(etree.tostring(element))


def _error(parent: etree._Element, error: m.ErrorInfo, name: str) -> None:
    holder = _sub(parent, name)
    _sub(holder, "errorCode", error.code)
    _sub(holder, "errorMessage", error.message)
    _opt(holder, "errorData", error.data)
    _sub(holder, "errorDate", format_datetime(error.date))
    if error.sub_error is not None:
        _error(holder, error.sub_error, "subError")
    _opt(holder, "sessionId", error.session_id)


def _wrapper(ns: str, name: str, inner: str) -> tuple[etree._Element, etree._Element]:
    root = etree.Element(f"{{{ns}}}{name}", nsmap={"ns": ns})
    return root, _sub(root, inner)


def _async_info(parent: etree._Element, info: m.AsyncMessageInfo) -> None:
    holder = _sub(parent, "messageInfo")
    _opt(holder, "messageId", info.message_id)
    _opt(holder, "correlationId", info.correlation_id)
    _sub(holder, "serviceId", info.service_id)
    _sub(holder, "messageType", str(info.message_type))
    _opt(holder, "routeId", info.route_id)
    _sub(holder, "messageDate", format_datetime(info.message_date))
    _sender(holder, info.sender)
    _properties(holder, info.properties)
    _opt(holder, "sessionId", info.session_id)


def payload(msg: Message) -> etree._Element:
    """The Body's one element for ``msg`` (a fault is built by :meth:`ShepCodec.fault`)."""
    if isinstance(msg, m.SyncSendMessage):
        root, req = _wrapper(SYNC_NS, "SendMessage", "request")
        info = _sub(req, "requestInfo")
        i = msg.info
        _sub(info, "messageId", i.message_id)
        _opt(info, "correlationId", i.correlation_id)
        _sub(info, "serviceId", i.service_id)
        _sub(info, "messageDate", format_datetime(i.message_date))
        _opt(info, "routeId", i.route_id)
        _sender(info, i.sender)
        _properties(info, i.properties)
        _opt(info, "sessionId", i.session_id)
        _data(req, "requestData", msg.data, required=False)
        return root
    if isinstance(msg, m.SyncSendMessageResponse):
        root, resp = _wrapper(SYNC_NS, "SendMessageResponse", "response")
        info = _sub(resp, "responseInfo")
        r = msg.info
        _sub(info, "messageId", r.message_id)
        _opt(info, "correlationId", r.correlation_id)
        _sub(info, "responseDate", format_datetime(r.response_date))
        status = _sub(info, "status")
        _sub(status, "code", r.status.code)
        _sub(status, "message", r.status.message[:250])
        _opt(info, "sessionId", r.session_id)
        _data(resp, "responseData", msg.data, required=False)
        return root
    if isinstance(msg, m.AsyncMessage):
        root, req = _wrapper(ASYNC_NS, "sendMessage", "request")
        _async_info(req, msg.info)
        _data(req, "messageData", msg.data, required=True)
        return root
    if isinstance(msg, m.SendMessageResponse):
        root, resp = _wrapper(ASYNC_NS, "sendMessageResponse", "response")
        _sub(resp, "messageId", msg.message_id)
        _sub(resp, "correlationId", msg.correlation_id)
        _sub(resp, "responseDate", format_datetime(msg.response_date))
        _opt(resp, "sessionId", msg.session_id)
        return root
    if isinstance(msg, m.GetMessageStatus):
        root, req = _wrapper(ASYNC_NS, "getMessageStatus", "request")
        _sub(req, "messageId", msg.message_id)
        _sub(req, "requestDate", format_datetime(msg.request_date))
        _sender(req, msg.sender)
        _properties(req, msg.properties)
        return root
    if isinstance(msg, m.GetMessageStatusResponse):
        root, resp = _wrapper(ASYNC_NS, "getMessageStatusResponse", "response")
        _sub(resp, "messageState", str(msg.state))
        status = _sub(resp, "status")
        _sub(status, "statusCode", msg.status_code)
        _sub(status, "statusMessage", msg.status_message)
        _sub(status, "statusDate", format_datetime(msg.status_date))
        _sub(resp, "responseDate", format_datetime(msg.response_date))
        _opt(resp, "sessionId", msg.session_id)
        return root
    if isinstance(msg, m.GetMessages):
        root, req = _wrapper(ASYNC_NS, "getMessages", "request")
        _opt(req, "messageId", msg.message_id)
        _opt(req, "correlationId", msg.correlation_id)
        _opt(req, "requestDate", format_datetime(msg.request_date) if msg.request_date else None)
        _sub(req, "serviceId", msg.service_id)
        if msg.sender is not None:
            _sender(req, msg.sender)
        _opt(req, "amount", str(msg.amount) if msg.amount is not None else None)
        _properties(req, msg.properties)
        return root
    if isinstance(msg, m.GetMessagesResponse):
        root, resp = _wrapper(ASYNC_NS, "getMessagesResponse", "response")
        _sub(resp, "responseDate", format_datetime(msg.response_date))
        _sub(resp, "sessionId", msg.session_id)
        for item in msg.messages:
            holder = _sub(resp, "messages")
            _async_info(holder, item.info)
            _data(holder, "messageData", item.data, required=True)
        return root
    if isinstance(msg, m.SendDeliveryNotification):
        root, req = _wrapper(ASYNC_NS, "sendDeliveryNotification", "request")
        n = msg.notification
        holder = _sub(req, "notification")
        _sub(holder, "messageId", n.message_id)
        _sub(holder, "serviceId", n.service_id)
        _sub(holder, "notificationDate", format_datetime(n.notification_date))
        status = _sub(holder, "deliveryStatus")
        _sub(status, "receiveStatus", "MESSAGE_ACCEPTED" if n.accepted else "MESSAGE_NOT_ACCTEPTED")
        _sub(status, "statusDate", format_datetime(n.status_date))
        _sub(status, "resendMessage", "RESEND" if n.resend else "NOT_RESEND")
        if n.error is not None:
            _error(status, n.error, "error")
        _sub(req, "requestDate", format_datetime(msg.request_date))
        if msg.sender is not None:
            _sender(req, msg.sender)
        return root
    if isinstance(msg, m.SendDeliveryNotificationResponse):
        root, resp = _wrapper(ASYNC_NS, "sendDeliveryNotificationResponse", "response")
        _sub(resp, "notificationId", msg.notification_id)
        _sub(resp, "responseDate", format_datetime(msg.response_date))
        _sub(resp, "sessionId", msg.session_id)
        return root
    if isinstance(msg, m.ChangeStatusNotify):
        root, req = _wrapper(ASYNC_CLIENT_NS, "changeMassageStatusNotification", "request")
        holder = _sub(req, "notification")
        _sub(holder, "notificationId", msg.notification_id)
        _sub(holder, "messageId", msg.message_id)
        _sub(holder, "notificationDate", format_datetime(msg.notification_date))
        _sub(holder, "messageState", str(msg.state))
        status = _sub(holder, "status")
        _sub(status, "statusCode", msg.status_code)
        _sub(status, "statusMessage", msg.status_message)
        _sub(status, "statusDate", format_datetime(msg.status_date))
        if msg.error is not None:
            _error(holder, msg.error, "error")
        _sub(req, "requestDate", format_datetime(msg.request_date))
        _opt(req, "sessionId", msg.session_id)
        return root
    if isinstance(msg, m.ChangeStatusNotifyResponse):
        root, resp = _wrapper(ASYNC_CLIENT_NS, "changeMassageStatusNotificationResponse", "response")
        _sub(resp, "responseDate", format_datetime(msg.response_date))
        _sub(resp, "sessionId", msg.session_id)
        return root
    raise TypeError(f"not a buildable ШЭП message: {type(msg).__name__}")


# -- parsing ---------------------------------------------------------------------------------------


def _kids(parent: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in parent if isinstance(c.tag, str) and etree.QName(c).localname == name]


def _kid(parent: etree._Element, name: str, *, required: bool = True) -> etree._Element | None:
    found = _kids(parent, name)
    if len(found) > 1:
        raise ShepFormatError("SHEP_MALFORMED", f"{etree.QName(parent).localname}: more than one {name}")
    if not found and required:
        raise ShepFormatError("SHEP_MALFORMED", f"{etree.QName(parent).localname}: {name} missing")
    return found[0] if found else None


def _text(parent: etree._Element, name: str) -> str:
    element = _kid(parent, name)
    assert element is not None
    return (element.text or "").strip()


def _opt_text(parent: etree._Element, name: str) -> str | None:
    element = _kid(parent, name, required=False)
    return None if element is None else (element.text or "").strip()


def _date(parent: etree._Element, name: str) -> datetime:
    return _parse_datetime(_text(parent, name), name)


def _read_sender(parent: etree._Element, name: str = "sender", *, required: bool = True) -> m.Sender | None:
    holder = _kid(parent, name, required=required)
    if holder is None:
        return None
    return m.Sender(_text(holder, "senderId"), _opt_text(holder, "password"))


def _read_properties(parent: etree._Element) -> tuple[m.Property, ...]:
    return tuple(m.Property(_text(p, "key"), _text(p, "value")) for p in _kids(parent, "properties"))


def _read_data(parent: etree._Element, name: str, *, required: bool) -> etree._Element | None:
    holder = _kid(parent, name, required=required)
    if holder is None:
        return None
    slot = _kid(holder, "data", required=False)
    if slot is None:
        return None
    children = [c for c in slot if isinstance(c.tag, str)]
    if len(children) > 1:
        raise ShepFormatError("SHEP_MALFORMED", f"{name}/data holds {len(children)} elements, not one")
    return children[0] if children else None


def read_error(holder: etree._Element, depth: int = 0) -> m.ErrorInfo:
    if depth > 15:
        raise ShepFormatError("SHEP_MALFORMED", "ErrorInfo nested more than 16 deep")
    sub = _kid(holder, "subError", required=False)
    return m.ErrorInfo(
        code=_text(holder, "errorCode"),
        message=_text(holder, "errorMessage"),
        date=_date(holder, "errorDate"),
        data=_opt_text(holder, "errorData"),
        sub_error=read_error(sub, depth + 1) if sub is not None else None,
        session_id=_opt_text(holder, "sessionId"),
    )


def _read_async_info(holder: etree._Element) -> m.AsyncMessageInfo:
    kind = _text(holder, "messageType")
    try:
        message_type = m.MessageType(kind)
    except ValueError:
        raise ShepFormatError(
            "SHEP_MALFORMED", f"messageType {kind!r} is not REQUEST/NOTIFICATION/UPDATE/RESPONSE"
        ) from None
    sender = _read_sender(holder)
    assert sender is not None
    return m.AsyncMessageInfo(
        service_id=_text(holder, "serviceId"),
        message_type=message_type,
        message_date=_date(holder, "messageDate"),
        sender=sender,
        message_id=_opt_text(holder, "messageId"),
        correlation_id=_opt_text(holder, "correlationId"),
        route_id=_opt_text(holder, "routeId"),
        properties=_read_properties(holder),
        session_id=_opt_text(holder, "sessionId"),
    )


def _state(text: str) -> m.MessageState:
    try:
        return m.MessageState(text)
    except ValueError:
        raise ShepFormatError("SHEP_MALFORMED", f"messageState {text!r} is not a ШЭП state") from None


def _inner(root: etree._Element, name: str) -> etree._Element:
    element = _kid(root, name)
    assert element is not None
    return element


def _parse_payload(root: etree._Element) -> Message:
    tag = etree.QName(root)
    ns, name = tag.namespace, tag.localname
    if ns == SYNC_NS and name == "SendMessage":
        req = _inner(root, "request")
        info = _inner(req, "requestInfo")
        sender = _read_sender(info)
        assert sender is not None
        return m.SyncSendMessage(
            m.SyncMessageInfo(
                message_id=_text(info, "messageId"),
                service_id=_text(info, "serviceId"),
                message_date=_date(info, "messageDate"),
                sender=sender,
                correlation_id=_opt_text(info, "correlationId"),
                route_id=_opt_text(info, "routeId"),
                properties=_read_properties(info),
                session_id=_opt_text(info, "sessionId"),
            ),
            _read_data(req, "requestData", required=True),
        )
    if ns == SYNC_NS and name == "SendMessageResponse":
        resp = _inner(root, "response")
        info = _inner(resp, "responseInfo")
        status = _inner(info, "status")
        return m.SyncSendMessageResponse(
            m.SyncResponseInfo(
                message_id=_text(info, "messageId"),
                response_date=_date(info, "responseDate"),
                status=m.StatusInfo(_text(status, "code"), _text(status, "message")),
                correlation_id=_opt_text(info, "correlationId"),
                session_id=_opt_text(info, "sessionId"),
            ),
            _read_data(resp, "responseData", required=False),
        )
    if ns in (ASYNC_NS, ASYNC_CLIENT_NS) and name == "sendMessage":
        req = _inner(root, "request")
        return m.AsyncMessage(
            _read_async_info(_inner(req, "messageInfo")), _read_data(req, "messageData", required=True)
        )
    if ns in (ASYNC_NS, ASYNC_CLIENT_NS) and name == "sendMessageResponse":
        resp = _inner(root, "response")
        return m.SendMessageResponse(
            _text(resp, "messageId"),
            _text(resp, "correlationId"),
            _date(resp, "responseDate"),
            _opt_text(resp, "sessionId"),
        )
    if ns == ASYNC_NS and name == "getMessageStatus":
        req = _inner(root, "request")
        sender = _read_sender(req)
        assert sender is not None
        return m.GetMessageStatus(_text(req, "messageId"), _date(req, "requestDate"), sender, _read_properties(req))
    if ns == ASYNC_NS and name == "getMessageStatusResponse":
        resp = _inner(root, "response")
        status = _inner(resp, "status")
        return m.GetMessageStatusResponse(
            state=_state(_text(resp, "messageState")),
            status_code=_text(status, "statusCode"),
            status_message=_text(status, "statusMessage"),
            status_date=_date(status, "statusDate"),
            response_date=_date(resp, "responseDate"),
            session_id=_opt_text(resp, "sessionId"),
        )
    if ns == ASYNC_NS and name == "getMessages":
        req = _inner(root, "request")
        amount = _opt_text(req, "amount")
        stamp = _opt_text(req, "requestDate")
        try:
            count = int(amount) if amount is not None else None
        except ValueError:
            raise ShepFormatError("SHEP_MALFORMED", f"amount {amount!r} is not an integer") from None
        return m.GetMessages(
            service_id=_text(req, "serviceId"),
            request_date=_parse_datetime(stamp, "requestDate") if stamp is not None else None,
            sender=_read_sender(req, required=False),
            message_id=_opt_text(req, "messageId"),
            correlation_id=_opt_text(req, "correlationId"),
            amount=count,
            properties=_read_properties(req),
        )
    if ns == ASYNC_NS and name == "getMessagesResponse":
        resp = _inner(root, "response")
        items = tuple(
            m.AsyncMessage(_read_async_info(_inner(h, "messageInfo")), _read_data(h, "messageData", required=True))
            for h in _kids(resp, "messages")
        )
        return m.GetMessagesResponse(_date(resp, "responseDate"), _text(resp, "sessionId"), items)
    if ns == ASYNC_NS and name == "sendDeliveryNotification":
        req = _inner(root, "request")
        n = _inner(req, "notification")
        status = _inner(n, "deliveryStatus")
        error = _kid(status, "error", required=False)
        return m.SendDeliveryNotification(
            m.DeliveryNotification(
                message_id=_text(n, "messageId"),
                service_id=_text(n, "serviceId"),
                notification_date=_date(n, "notificationDate"),
                accepted=_text(status, "receiveStatus") == "MESSAGE_ACCEPTED",
                status_date=_date(status, "statusDate"),
                resend=_text(status, "resendMessage") == "RESEND",
                error=read_error(error) if error is not None else None,
            ),
            _date(req, "requestDate"),
            _read_sender(req, required=False),
        )
    if ns == ASYNC_NS and name == "sendDeliveryNotificationResponse":
        resp = _inner(root, "response")
        return m.SendDeliveryNotificationResponse(
            _text(resp, "notificationId"), _date(resp, "responseDate"), _text(resp, "sessionId")
        )
    if ns == ASYNC_CLIENT_NS and name == "changeMassageStatusNotification":
        req = _inner(root, "request")
        n = _inner(req, "notification")
        status = _inner(n, "status")
        error = _kid(n, "error", required=False)
        return m.ChangeStatusNotify(
            notification_id=_text(n, "notificationId"),
            message_id=_text(n, "messageId"),
            notification_date=_date(n, "notificationDate"),
            state=_state(_text(n, "messageState")),
            status_code=_text(status, "statusCode"),
            status_message=_text(status, "statusMessage"),
            status_date=_date(status, "statusDate"),
            request_date=_date(req, "requestDate"),
            error=read_error(error) if error is not None else None,
            session_id=_opt_text(req, "sessionId"),
        )
    if ns == ASYNC_CLIENT_NS and name == "changeMassageStatusNotificationResponse":
        resp = _inner(root, "response")
        return m.ChangeStatusNotifyResponse(_date(resp, "responseDate"), _text(resp, "sessionId"))
    raise ShepFormatError("SHEP_UNKNOWN_MESSAGE", f"{{{ns}}}{name} is not a ШЭП v10 message")


class ShepCodec:
    """Builds (and signs, when given a signer) and parses ШЭП envelopes."""

    def __init__(self, signer: Callable[[bytes], bytes] | None = None) -> None:
        self.signer = signer

    def _finish(self, envelope: etree._Element) -> bytes:
        data = serialize(envelope)
        return self.signer(data) if self.signer is not None else data

    def build(self, msg: Message) -> bytes:
        if isinstance(msg, m.ShepFault):
            return self.fault(msg)
        return self._finish(build_envelope(payload(msg)))

    def fault(self, fault: m.ShepFault) -> bytes:
        detail: list[etree._Element] = []
        if fault.error is not None:
            tag = FAULT_ELEMENT_OF.get(fault.operation or "SendMessage", FAULT_ELEMENT_OF["SendMessage"])
            holder = etree.Element(tag, nsmap={"ns": etree.QName(tag).namespace})
            # ErrorInfo's children straight under the fault element (its type is ErrorInfo)
            scratch = etree.Element("scratch")
            _error(scratch, fault.error, "x")
            for child in scratch[0]:
                holder.append(child)
            detail.append(holder)
        return self._finish(build_fault(fault.faultcode, fault.faultstring, detail=detail))

    @staticmethod
    def parse(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Message:
        """The message in ``data``; ShepFormatError for anything else (never an lxml error)."""
        try:
            env = parse_envelope(data, max_bytes=max_bytes)
        except Soap11Error as exc:
            raise ShepFormatError(exc.code, str(exc)) from None
        if env.fault is not None:
            error: m.ErrorInfo | None = None
            operation: str | None = None
            for item in env.fault.detail:
                if item.tag in _FAULT_ELEMENTS:
                    operation = _FAULT_ELEMENTS[item.tag]
                    error = read_error(item)
                    break
            return m.ShepFault(env.fault.faultcode, env.fault.faultstring, error, operation)
        assert env.payload is not None
        return _parse_payload(env.payload)
