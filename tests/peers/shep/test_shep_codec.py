"""ШЭП v10 envelopes: every message built by the codec validates against the SyncChannel /
AsyncChannel XSDs and parses back to the same values; faults with nested subErrors; bad input
gets a coded ShepFormatError."""

from __future__ import annotations

from datetime import timedelta

import pytest
from lxml import etree
from shep_kit import WHEN, assert_valid, body_payload, schema

from adapters.shep import messages as m
from adapters.shep.codec import Message, ShepCodec, ShepFormatError, format_datetime, new_session_id

SENDER = m.Sender("mis-almaty", "s3cret")
DATA = etree.fromstring(
    b'<c:Conclusion031u xmlns:c="urn:mse-gateway:kz:031u:1"><c:DocumentId>1</c:DocumentId></c:Conclusion031u>'
)
PROPS = (m.Property("region", "75"), m.Property("kind", "kz-031u"))
ERROR = m.ErrorInfo(
    "SCSE001",
    "failed to process",
    WHEN,
    data="outer",
    sub_error=m.ErrorInfo("SENDER_AUTH_FAILED", "wrong password", WHEN, session_id=new_session_id()),
)

MESSAGES: list[Message] = [
    m.SyncSendMessage(
        m.SyncMessageInfo(
            "0b8f7a52-3a0c-4d5f-9a31-54f1ea4e2f10",
            "MZ_CBDI_MSE_031U",
            WHEN,
            SENDER,
            "corr-1",
            None,
            PROPS,
            new_session_id(),
        ),
        DATA,
    ),
    m.SyncSendMessageResponse(
        m.SyncResponseInfo("resp-1", WHEN, m.StatusInfo("SCSS001", "Сообщение обработано"), "corr-1", new_session_id()),
        DATA,
    ),
    m.AsyncMessage(
        m.AsyncMessageInfo("MZ_CBDI_MSE_031U", m.MessageType.REQUEST, WHEN, SENDER, "msg-1", "msg-1", None, PROPS),
        DATA,
    ),
    m.SendMessageResponse("msg-1", "msg-1", WHEN, new_session_id()),
    m.GetMessageStatus("msg-1", WHEN, SENDER, PROPS),
    m.GetMessageStatusResponse(m.MessageState.DELIVERED, "DELIVERED", "доставлено", WHEN, WHEN, "s-1"),
    m.GetMessages("MZ_CBDI_MSE_031U", WHEN, SENDER, None, None, 20),
    m.GetMessagesResponse(
        WHEN,
        new_session_id(),
        (
            m.AsyncMessage(
                m.AsyncMessageInfo("MZ_CBDI_MSE_031U", m.MessageType.RESPONSE, WHEN, m.Sender("cbdi"), "r-1", "msg-1"),
                DATA,
            ),
        ),
    ),
    m.SendDeliveryNotification(
        m.DeliveryNotification("r-1", "MZ_CBDI_MSE_031U", WHEN, True, WHEN, False, None), WHEN, SENDER
    ),
    m.SendDeliveryNotification(
        m.DeliveryNotification("r-2", "MZ_CBDI_MSE_031U", WHEN, False, WHEN, True, ERROR), WHEN, SENDER
    ),
    m.SendDeliveryNotificationResponse("n-1", WHEN, new_session_id()),
    m.ChangeStatusNotify("n-2", "msg-1", WHEN, m.MessageState.DELIVERED, "DELIVERED", "ok", WHEN, WHEN, None, None),
    m.ChangeStatusNotify(
        "n-3", "msg-1", WHEN, m.MessageState.NOT_DELIVERED, "ERR", "no", WHEN, WHEN, ERROR, new_session_id()
    ),
    m.ChangeStatusNotifyResponse(WHEN, new_session_id()),
]


def _same(a: object, b: object) -> None:
    """Dataclass equality with the XML payloads compared as text."""

    def norm(x: object) -> object:
        if isinstance(x, etree._Element):
            return etree.tostring(x, method="c14n", exclusive=True)
        if hasattr(x, "__dataclass_fields__"):
            return (type(x).__name__, tuple(norm(getattr(x, f)) for f in x.__dataclass_fields__))  # type: ignore[attr-defined]
        if isinstance(x, tuple):
            return tuple(norm(i) for i in x)
        return x

    assert norm(a) == norm(b)


@pytest.mark.parametrize("msg", MESSAGES, ids=lambda msg: type(msg).__name__)
def test_built_envelopes_validate_and_parse_back(msg: Message) -> None:
    codec = ShepCodec()
    data = codec.build(msg)
    assert_valid(data)
    _same(codec.parse(data), msg)


@pytest.mark.parametrize(
    "operation", ["SendMessage", "sendMessage", "getMessages", "getMessageStatus", "sendDeliveryNotification"]
)
def test_fault_with_nested_suberror(operation: str) -> None:
    codec = ShepCodec()
    data = codec.fault(m.ShepFault("soap:Server", "ошибка ШЭП", ERROR, operation))
    assert_valid(data)
    parsed = codec.parse(data)
    assert isinstance(parsed, m.ShepFault) and parsed.operation == operation
    assert parsed.answer_codes() == (("SCSE001", "failed to process"), ("SENDER_AUTH_FAILED", "wrong password"))


def test_fault_without_errorinfo_is_classified_by_side() -> None:
    codec = ShepCodec()
    server = codec.parse(codec.fault(m.ShepFault("soap:Server", "boom")))
    client = codec.parse(codec.fault(m.ShepFault("soap:Client", "bad")))
    assert isinstance(server, m.ShepFault) and server.answer_codes() == (("SOAP_SERVER", "boom"),)
    assert isinstance(client, m.ShepFault) and client.answer_codes() == (("SOAP_CLIENT", "bad"),)


def test_message_date_carries_kazakhstan_offset() -> None:
    assert format_datetime(WHEN) == "2025-07-01T15:59:00.000+05:00"
    built = ShepCodec().build(MESSAGES[2])
    assert b"<messageDate>2025-07-01T15:59:00.000+05:00</messageDate>" in built


def test_offsetless_dates_read_as_kazakhstan_time() -> None:
    data = ShepCodec().build(MESSAGES[3]).replace(b"+05:00</responseDate>", b"</responseDate>")
    parsed = ShepCodec.parse(data)
    assert isinstance(parsed, m.SendMessageResponse) and parsed.response_date == WHEN


def test_the_schema_refuses_what_the_xsd_forbids() -> None:
    """The validation test can fail: a requestInfo without serviceId is invalid."""
    data = ShepCodec().build(MESSAGES[0])
    element = body_payload(data)
    info = element.find("request/requestInfo")
    assert info is not None
    info.remove(info.find("serviceId"))  # type: ignore[arg-type]
    assert not schema().validate(etree.ElementTree(etree.fromstring(etree.tostring(element))))


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"not xml", "XML_MALFORMED"),
        (b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', "XML_FORBIDDEN_CONSTRUCT"),
        (
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><x/></s:Body></s:Envelope>',
            "SHEP_UNKNOWN_MESSAGE",
        ),
    ],
)
def test_unreadable_input_gets_a_coded_error(data: bytes, code: str) -> None:
    with pytest.raises(ShepFormatError) as err:
        ShepCodec.parse(data)
    assert err.value.code == code


def test_malformed_body_is_coded() -> None:
    data = ShepCodec().build(MESSAGES[3]).replace(b"<correlationId>msg-1</correlationId>", b"")
    with pytest.raises(ShepFormatError) as err:
        ShepCodec.parse(data)
    assert err.value.code == "SHEP_MALFORMED" and "correlationId" in str(err.value)
    bad_date = (
        ShepCodec()
        .build(MESSAGES[3])
        .replace(b"2025-07-01T15:59:00.000+05:00</responseDate>", b"yesterday</responseDate>")
    )
    with pytest.raises(ShepFormatError):
        ShepCodec.parse(bad_date)


def test_sender_password_never_in_repr() -> None:
    assert "s3cret" not in repr(SENDER)


def test_deep_suberror_chain_is_bounded() -> None:
    deep = m.ErrorInfo("A", "a", WHEN)
    for i in range(20):
        deep = m.ErrorInfo(f"E{i}", "x", WHEN + timedelta(seconds=i), sub_error=deep)
    data = ShepCodec().fault(m.ShepFault("soap:Server", "deep", deep, "sendMessage"))
    with pytest.raises(ShepFormatError):
        ShepCodec.parse(data)
