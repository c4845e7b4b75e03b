"""Helpers of the SMEV 3 tests (a plain module: this directory is not a package)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Final

from lxml import etree

from adapters.smev3 import messages as m
from adapters.smev3.identity import new_message_id

ROOT: Final = Path(__file__).resolve().parents[3]
# The official schemas as the reference set holds them; the product's own copy is wsdl/smev3/1.1.
REFERENCE_XSD: Final = ROOT.parent / "shared" / "reference" / "smev3" / "xsd-1.1"
VENDORED_XSD: Final = ROOT / "wsdl" / "smev3" / "1.1"
SOAP: Final = "http://schemas.xmlsoap.org/soap/envelope/"
DS: Final = "http://www.w3.org/2000/09/xmldsig#"
NS11: Final = m.Namespaces.for_version("1.1")

BUSINESS: Final = b'<m:Referral xmlns:m="urn:test:mse" kind="121"><m:Snils>12345678901</m:Snils></m:Referral>'
ANSWER: Final = (
    b'<r:Decision xmlns:r="urn:test:mse:answer"><r:Code>1</r:Code><r:Text>\xd0\xb4\xd0\xb0</r:Text></r:Decision>'
)
FAKE_PERSONAL: Final = (
    f'<ds:Signature xmlns:ds="{DS}"><ds:SignatureValue>AA==</ds:SignatureValue></ds:Signature>'.encode()
)
T0: Final = datetime(2026, 12, 3, 10, 15, 30, 123000, tzinfo=UTC)


def xsd_dir() -> Path:
    return REFERENCE_XSD if REFERENCE_XSD.is_dir() else VENDORED_XSD


@cache
def schema() -> etree.XMLSchema:
    """One schema with the types (and through them basic) and the faults of 1.1."""
    base = xsd_dir()
    wrapper = f"""<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:import namespace="{NS11.types}" schemaLocation="{(base / "smev-message-exchange-types-1.1.xsd").as_uri()}"/>
  <xs:import namespace="{NS11.faults}" schemaLocation="{(base / "smev-message-exchange-faults-1.1.xsd").as_uri()}"/>
</xs:schema>"""
    return etree.XMLSchema(etree.fromstring(wrapper.encode()))


def fault_elements() -> list[str]:
    """The names of every top-level element of the official faults XSD."""
    tree = etree.parse(str(xsd_dir() / "smev-message-exchange-faults-1.1.xsd"))
    return [e.get("name") or "" for e in tree.getroot().findall("{http://www.w3.org/2001/XMLSchema}element")]


def body_child(envelope: bytes) -> etree._Element:
    root = etree.fromstring(envelope)
    assert root.tag == f"{{{SOAP}}}Envelope"
    assert root.find(f"{{{SOAP}}}Header") is not None
    body = root.find(f"{{{SOAP}}}Body")
    assert body is not None and len(body) == 1
    return body[0]


def assert_valid(element: etree._Element) -> None:
    xsd = schema()
    ok = xsd.validate(etree.ElementTree(element))
    assert ok, "\n".join(str(e) for e in xsd.error_log)


def metadata(message_type: str = "RESPONSE", *, ident: str | None = None) -> m.MessageMetadata:
    return m.MessageMetadata(
        message_type=message_type,
        sender=m.Party("MSE01", "ФКУ ГБ МСЭ (тест)"),
        sending_timestamp=T0,
        destination_name="unknown",
        interaction_type="OIV2OIV",
        message_id=new_message_id(),
        message_broker="smev-broker-1",
        recipient=m.Party("MIS77", "ГБУЗ Тестовая больница"),
        detected_content_type_name="Направление на МСЭ",
        delivery_timestamp=T0,
        status="requestIsQueued",
        id=ident,
    )


def request_data(**extra: object) -> m.SenderProvidedRequestData:
    fields: dict[str, object] = {
        "message_id": new_message_id(),
        "content": BUSINESS,
        "reference_message_id": new_message_id(),
        "transaction_code": "tx-1",
        "node_id": "node-7",
        "eol": T0,
        "personal_signature": FAKE_PERSONAL,
        "attachment_headers": (m.AttachmentHeader("doc-1", "application/xml", b"\x30\x03\x02\x01\x01"),),
        "ref_attachment_headers": (
            m.RefAttachmentHeader("0f8fad5b-d9cb-469f-a165-70867728950e", "aGFzaA==", "application/pdf"),
        ),
        "test_message": True,
    }
    fields.update(extra)
    return m.SenderProvidedRequestData(**fields)  # type: ignore[arg-type]


def response_data(kind: m.ResponseKind) -> m.SenderProvidedResponseData:
    base = m.SenderProvidedResponseData(message_id=new_message_id(), to="eyJzbWV2IjoicmVwbHkifQ==")
    if kind is m.ResponseKind.BUSINESS:
        return m.SenderProvidedResponseData(
            base.message_id, base.to, content=ANSWER, attachment_headers=(m.AttachmentHeader("a1", "text/plain"),)
        )
    if kind is m.ResponseKind.REJECTED:
        return m.SenderProvidedResponseData(
            base.message_id,
            base.to,
            rejections=(m.RequestRejected("NO_DATA", "Нет данных"), m.RequestRejected("FAILURE", "Сбой")),
        )
    if kind is m.ResponseKind.STATUS:
        return m.SenderProvidedResponseData(
            base.message_id,
            base.to,
            status=m.RequestStatus(3, "Зарегистрировано в бюро", (("bureau", "77-1"), ("date", "2026-12-03"))),
        )
    return m.SenderProvidedResponseData(
        base.message_id,
        base.to,
        async_status=m.AsyncProcessingStatus(
            new_message_id(), "requestIsRejectedBySmev", "Отклонено", "SMEV-400", "Нет маршрута", has_fault=True
        ),
    )
