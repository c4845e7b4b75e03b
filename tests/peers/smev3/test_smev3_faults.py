"""Every fault of the official faults XSD: built with its detail (valid against the XSD), parsed
back into (code, message, details), and present in the code table."""

from __future__ import annotations

import pytest
from lxml import etree
from smev3_kit import SOAP, assert_valid, fault_elements

from adapters.smev3 import messages as m
from adapters.smev3.codec import FAULT_ELEMENTS, VOID_FAULTS, Smev3Codec
from adapters.smev3.codes import smev3_code_table

CODEC = Smev3Codec()
SIGNATURE_REASONS = [
    "PoorSOAPEnvelopeFormat",
    "NoSignatureFound",
    "IncorrectSignatureTarget",
    "SignatureIsInvalid",
    "CertificateIsNotFound",
    "CertificateIsExpired",
]
DETAILS = {
    "BusinessDataTypeIsNotSupported": (("RootElementLocalName", "Referral"), ("RootElementNamespaceURI", "urn:x")),
    "AttachmentSizeLimitExceeded": (
        ("PermittedTotalAttachmentSize", "5242880"),
        ("RealTotalAttachmentSize", "9000000"),
    ),
    "QuoteLimitExceeded": (("RemainedTotalQuoteSize", "10"), ("RealTotalAttachmentSize", "900")),
    "DestinationOverflow": (("MessageBrokerAddress", "broker-1"), ("DestinationName", "queue-77")),
}


def _fault(code: str) -> m.Fault:
    if code in VOID_FAULTS:
        return m.Fault(code, f"{code} happened", "soap:Client")
    return m.Fault(
        code,
        f"{code} happened",
        "soap:Client",
        detail_code="SMEV-100",
        description=f"Описание {code}",
        subcode="SignatureIsInvalid" if code == "SignatureVerificationFault" else None,
        validation_errors=((17, "cvc-complex-type.2.4.a"), (230, "cvc-pattern-valid"))
        if code == "InvalidContent"
        else (),
        details=DETAILS.get(code, ()),
    )


def _detail(envelope: bytes) -> etree._Element:
    root = etree.fromstring(envelope)
    fault = root.find(f"{{{SOAP}}}Body/{{{SOAP}}}Fault")
    assert fault is not None
    assert fault.findtext("faultcode") and fault.findtext("faultstring")
    detail = fault.find("detail")
    assert detail is not None and len(detail) == 1
    return detail[0]


def test_codec_knows_every_fault_of_the_xsd() -> None:
    assert set(fault_elements()) == FAULT_ELEMENTS


@pytest.mark.parametrize("code", fault_elements())
def test_fault_builds_valid_and_parses_back(code: str) -> None:
    fault = _fault(code)
    envelope = CODEC.fault(fault)
    assert_valid(_detail(envelope))
    parsed = CODEC.parse(envelope)
    assert parsed == fault
    assert smev3_code_table().lookup(code) is not None, f"{code} has no row in error-codes.tsv"


@pytest.mark.parametrize("reason", SIGNATURE_REASONS)
def test_signature_verification_reasons(reason: str) -> None:
    fault = m.Fault(
        "SignatureVerificationFault", "bad signature", description="ЭП-ОВ не прошла проверку", subcode=reason
    )
    envelope = CODEC.fault(fault)
    assert_valid(_detail(envelope))
    parsed = CODEC.parse(envelope)
    assert isinstance(parsed, m.Fault) and parsed.subcode == reason
    assert [c for c, _ in parsed.answer_codes()] == [reason, "SignatureVerificationFault"]
    assert smev3_code_table().lookup(reason) is not None


def test_invalid_content_keeps_error_positions() -> None:
    parsed = CODEC.parse(CODEC.fault(_fault("InvalidContent")))
    assert isinstance(parsed, m.Fault)
    assert parsed.validation_errors == ((17, "cvc-complex-type.2.4.a"), (230, "cvc-pattern-valid"))
    assert "@17: cvc-complex-type.2.4.a" in parsed.text and "@230" in parsed.text


def test_fault_of_another_version_is_read() -> None:
    envelope = Smev3Codec("1.3").fault(_fault("DestinationOverflow"))
    parsed = CODEC.parse(envelope)
    assert isinstance(parsed, m.Fault) and parsed.code == "DestinationOverflow"
    assert dict(parsed.details)["DestinationName"] == "queue-77"


@pytest.mark.parametrize(("faultcode", "code"), [("soap:Server", "SOAP_SERVER"), ("soap:Client", "SOAP_CLIENT")])
def test_fault_without_smev_detail(faultcode: str, code: str) -> None:
    envelope = (
        f'<s:Envelope xmlns:s="{SOAP}"><s:Body><s:Fault><faultcode>{faultcode}</faultcode>'
        "<faultstring>Internal Error</faultstring><detail><x xmlns='urn:other'/></detail>"
        "</s:Fault></s:Body></s:Envelope>"
    ).encode()
    parsed = CODEC.parse(envelope)
    assert isinstance(parsed, m.Fault)
    assert parsed.code == code and parsed.message == "Internal Error"
    assert smev3_code_table().lookup(code) is not None


def test_vendored_xsds_are_the_official_ones() -> None:
    from smev3_kit import REFERENCE_XSD, VENDORED_XSD

    if not REFERENCE_XSD.is_dir():
        pytest.skip("the reference set is not beside this worktree")
    for path in sorted(REFERENCE_XSD.glob("*.xsd")):
        assert (VENDORED_XSD / path.name).read_bytes() == path.read_bytes(), path.name
