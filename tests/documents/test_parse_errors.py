"""Parser errors are coded (code, Russian message, field), and hostile XML never reaches a parser."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway.documents import DocumentError, DocumentErrorCode, DocumentKind, build_document, parse_document
from gateway.documents.samples import sample_document
from gateway.wire.safexml import parse_xml

H = "{urn:hl7-org:v3}"


def _referral_root() -> etree._Element:
    return parse_xml(build_document(sample_document(DocumentKind.REFERRAL)))


def _error(data: bytes, **kwargs: str) -> DocumentError:
    with pytest.raises(DocumentError) as caught:
        parse_document(data, **kwargs)
    return caught.value


@pytest.mark.parametrize(
    "payload",
    [
        b'<?xml version="1.0"?><!DOCTYPE ClinicalDocument [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b'<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&xxe;</title></ClinicalDocument>',
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b'<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&lol2;</title></ClinicalDocument>',
        b'<?xml version="1.0"?><!DOCTYPE ClinicalDocument SYSTEM "http://127.0.0.1:9/cda.dtd">'
        b'<ClinicalDocument xmlns="urn:hl7-org:v3"/>',
    ],
    ids=["xxe", "entity-expansion", "external-dtd"],
)
def test_hostile_xml_is_refused_before_parsing(payload: bytes) -> None:
    error = _error(payload)
    assert error.code is DocumentErrorCode.XML_FORBIDDEN
    assert "безопасности" in error.message_ru
    assert "root:" not in str(error)  # nothing of /etc/passwd leaked into the message


def test_oversize_document_is_refused() -> None:
    data = build_document(sample_document(DocumentKind.REFERRAL))
    with pytest.raises(DocumentError) as caught:
        parse_document(data, max_bytes=1000)
    assert caught.value.code is DocumentErrorCode.XML_FORBIDDEN


def test_malformed_xml() -> None:
    assert _error(b"<ClinicalDocument xmlns='urn:hl7-org:v3'><title>").code is DocumentErrorCode.XML_MALFORMED


def test_unknown_root_and_unknown_template() -> None:
    error = _error(b"<Invoice/>")
    assert (error.code, error.field) == (DocumentErrorCode.UNKNOWN_KIND, "kind")
    root = _referral_root()
    root.find(f"{H}templateId").set("root", "1.2.643.5.1.13.13.14.99.1")
    error = _error(etree.tostring(root))
    assert error.code is DocumentErrorCode.UNKNOWN_KIND and "1.2.643.5.1.13.13.14.99.1" in error.message_ru


def test_declared_kind_mismatch() -> None:
    data = build_document(sample_document(DocumentKind.MSE_RESULT))
    error = _error(data, kind="121")
    assert error.code is DocumentErrorCode.KIND_MISMATCH
    assert _error(data, kind="no-such-kind").code is DocumentErrorCode.UNKNOWN_KIND


@pytest.mark.parametrize(
    ("xpath", "field"),
    [
        (f"{H}recordTarget/{H}patientRole/{H}patient/{H}name/{H}family", "patient.family"),
        (f"{H}recordTarget/{H}patientRole/{H}patient/{H}birthTime", "patient.birth_date"),
        (f"{H}setId", "set_id"),
        (f"{H}legalAuthenticator", "legal_authenticator"),
        (f"{H}recordTarget/{H}patientRole/{H}addr", "patient.address"),
    ],
)
def test_missing_field_is_named(xpath: str, field: str) -> None:
    root = _referral_root()
    element = root.find(xpath)
    assert element is not None
    element.getparent().remove(element)
    error = _error(etree.tostring(root))
    assert error.code is DocumentErrorCode.MISSING_FIELD
    assert error.field == field
    assert "отсутствует обязательное поле" in error.message_ru
    assert error.to_dict() == {"code": "DOC_MISSING_FIELD", "message": error.message_ru, "field": field}


def test_invalid_values_are_coded() -> None:
    root = _referral_root()
    root.find(f"{H}recordTarget/{H}patientRole/{H}patient/{H}birthTime").set("value", "19681340")
    error = _error(etree.tostring(root))
    assert (error.code, error.field) == (DocumentErrorCode.INVALID_VALUE, "patient.birth_date")
    root = _referral_root()
    root.find(f"{H}versionNumber").set("value", "first")
    assert _error(etree.tostring(root)).field == "version"
    root = _referral_root()
    root.find(f"{H}recordTarget/{H}patientRole/{H}patient/{H}administrativeGenderCode").set("code", "9")
    assert _error(etree.tostring(root)).field == "patient.sex"


def test_kz_missing_iin_is_named() -> None:
    root = parse_xml(build_document(sample_document(DocumentKind.KZ_031U)))
    ns = "{urn:mse-gateway:kz:031u:1}"
    patient = root.find(f"{ns}Patient")
    patient.remove(patient.find(f"{ns}IIN"))
    error = _error(etree.tostring(root))
    assert (error.code, error.field) == (DocumentErrorCode.MISSING_FIELD, "patient.iin")


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400))
def test_fuzz_arbitrary_bytes_only_ever_raise_document_error(data: bytes) -> None:
    try:
        parse_document(data)
    except DocumentError as error:
        assert isinstance(error.code, DocumentErrorCode)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=59_000), st.binary(min_size=1, max_size=8))
def test_fuzz_corrupted_referral_only_ever_raises_document_error(position: int, junk: bytes) -> None:
    data = build_document(sample_document(DocumentKind.REFERRAL))
    position %= len(data)
    corrupted = data[:position] + junk + data[position + len(junk) :]
    try:
        parse_document(corrupted)
    except DocumentError as error:
        assert isinstance(error.code, DocumentErrorCode)
