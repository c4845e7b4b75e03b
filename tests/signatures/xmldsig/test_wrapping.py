"""Signature-wrapping attacks on an SMEV-style signature: refused, or at least never able to make
the verifier hand out an element the signature does not cover."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
from _xmldsig_helpers import NS, SMEV_EXPECT, SMEV_EXPECT_NS, SMEV_REQUEST, chain_of, verifier_for
from lxml import etree

from gateway.signatures.codes import SignatureErrorCode as C
from gateway.signatures.pki import IssuedCertificate, TestPki
from gateway.signatures.verify import VerifyPolicy
from gateway.signatures.xml.sign import sign_xml
from gateway.signatures.xml.verify import XmlVerification, XmlVerifier

SPRD = ".//ns:SenderProvidedRequestData"


@pytest.fixture(scope="module")
def pki(pki_factory: Callable[[str], TestPki]) -> TestPki:
    return pki_factory("gost2012-256")


@pytest.fixture(scope="module")
def signer(issued_factory: Callable[[str, str], IssuedCertificate]) -> IssuedCertificate:
    return issued_factory("gost2012-256", "vk-chair")


@pytest.fixture(scope="module")
def signed(pki: TestPki, signer: IssuedCertificate) -> bytes:
    return sign_xml(
        SMEV_REQUEST,
        signer.key,
        signer.certificate,
        style="smev",
        reference_id="SIGNED_BY_CONSUMER",
        chain=chain_of(pki),
    )


@pytest.fixture(scope="module")
def verifier(pki: TestPki) -> XmlVerifier:
    return verifier_for(pki)


def _verify(verifier: XmlVerifier, data: bytes, *, positional: bool = True) -> XmlVerification:
    if positional:
        return verifier.verify_xml(data, expected=SMEV_EXPECT, namespaces=SMEV_EXPECT_NS)
    return verifier.verify_xml(data)


def _tree(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def _first(root: etree._Element, path: str) -> etree._Element:
    found = root.find(path, NS)
    assert found is not None
    return found


def _amount(element: etree._Element) -> str | None:
    return element.findtext(".//{urn:test:mse}Amount")


def test_untouched_signature_is_valid(verifier: XmlVerifier, signed: bytes) -> None:
    result = _verify(verifier, signed)
    assert result.valid, result.report.to_json()


def test_moved_signed_element_with_injected_unsigned_one(verifier: XmlVerifier, signed: bytes) -> None:
    root = _tree(signed)
    original = _first(root, SPRD)
    evil = copy.deepcopy(original)
    del evil.attrib["Id"]  # a fresh, unsigned element at the expected position
    _first(evil, ".//{urn:test:mse}Amount").text = "999999"
    # the signed original goes into the SOAP header, where nobody reads it
    _first(root, "s:Header").append(original)
    body_request = _first(root, ".//ns:SendRequestRequest")
    body_request.insert(0, evil)
    data = etree.tostring(root)

    # The signature still verifies over the moved original, so the expected-position rule refuses it.
    result = _verify(verifier, data)
    assert not result.valid
    assert C.WRONG_SIGNATURE_FORMAT in result.report.codes

    # Without the rule, what the verifier hands out is still the signed original, never the injection.
    loose = _verify(verifier, data, positional=False)
    [element] = loose.signed_elements()
    assert _amount(element) == "100"
    assert element is not _first(loose.root, ".//ns:SendRequestRequest/ns:SenderProvidedRequestData")  # type: ignore[arg-type]


def test_duplicate_id_is_refused(verifier: XmlVerifier, signed: bytes) -> None:
    root = _tree(signed)
    original = _first(root, SPRD)
    evil = copy.deepcopy(original)
    _first(evil, ".//{urn:test:mse}Amount").text = "999999"
    _first(root, "s:Header").append(original)  # signed one moved away, Id kept
    _first(root, ".//ns:SendRequestRequest").insert(0, evil)  # modified one, same Id, where expected
    for positional in (True, False):
        result = _verify(verifier, etree.tostring(root), positional=positional)
        assert not result.valid
        [sig] = result.report.signatures
        assert sig.integrity == "invalid"
        assert C.WRONG_SIGNATURE_FORMAT in sig.codes
        assert "Id" in sig.errors[0].detail


def test_duplicate_id_with_other_attribute_spelling_is_refused(verifier: XmlVerifier, signed: bytes) -> None:
    root = _tree(signed)
    etree.SubElement(_first(root, "s:Header"), "{urn:x}Other", {"ID": "SIGNED_BY_CONSUMER"})
    result = _verify(verifier, etree.tostring(root), positional=False)
    assert not result.valid
    assert C.WRONG_SIGNATURE_FORMAT in result.report.codes


def test_reference_to_a_copy_hidden_in_the_signature_object(verifier: XmlVerifier, signed: bytes) -> None:
    root = _tree(signed)
    original = _first(root, SPRD)
    evil = copy.deepcopy(original)
    del evil.attrib["Id"]
    _first(evil, ".//{urn:test:mse}Amount").text = "999999"
    original.addprevious(evil)
    signature = _first(root, ".//ds:Signature")
    obj = etree.SubElement(signature, "{http://www.w3.org/2000/09/xmldsig#}Object")
    obj.append(original)  # the signed copy, detached from the message
    for positional in (True, False):
        result = _verify(verifier, etree.tostring(root), positional=positional)
        assert not result.valid
        assert C.WRONG_SIGNATURE_FORMAT in result.report.codes


def test_reference_to_a_copy_inside_another_signature(
    verifier: XmlVerifier, signed: bytes, signer: IssuedCertificate
) -> None:
    root = _tree(signed)
    original = _first(root, SPRD)
    evil = copy.deepcopy(original)
    del evil.attrib["Id"]
    original.addprevious(evil)
    other = etree.SubElement(_first(root, "s:Header"), "{http://www.w3.org/2000/09/xmldsig#}Signature")
    other.append(original)
    result = _verify(verifier, etree.tostring(root), positional=False)
    assert not result.valid
    assert C.WRONG_SIGNATURE_FORMAT in result.report.codes


def test_signature_over_a_different_subtree(verifier: XmlVerifier, pki: TestPki, signer: IssuedCertificate) -> None:
    # a genuine signature, but over the SOAP header element rather than the request data
    document = SMEV_REQUEST.replace(b"<h:Trace ", b'<h:Trace Id="HEADER" ')
    data = sign_xml(
        document,
        signer.key,
        signer.certificate,
        style="smev",
        reference_id="HEADER",
        chain=chain_of(pki),
        container="//ns:CallerInformationSystemSignature",
        namespaces=SMEV_EXPECT_NS,
    )
    loose = _verify(verifier, data, positional=False)
    assert loose.valid  # it is a valid signature of *something*
    assert loose.signed_elements()[0].get("Id") == "HEADER"
    result = _verify(verifier, data)
    assert not result.valid
    assert C.WRONG_SIGNATURE_FORMAT in result.report.codes


def test_comment_inside_signed_text_does_not_fool_callers(verifier: XmlVerifier, signed: bytes) -> None:
    # Comments are not part of a same-document reference: this still verifies, but a naive reader
    # of .text would see "12" instead of the signed "12345678901".
    data = signed.replace(b"<m:Snils>12345678901</m:Snils>", b"<m:Snils>12<!-- -->345678901</m:Snils>")
    assert data != signed
    result = _verify(verifier, data)
    assert result.valid
    element = result.signed_elements()[0]
    assert element.findtext(".//{urn:test:mse}Snils") == "12"  # the trap
    safe = result.signed[0][0].signed_tree()
    assert safe.findtext(".//{urn:test:mse}Snils") == "12345678901"
    assert b"<!--" not in result.signed[0][0].signed_xml


def test_whitespace_inside_signed_text_is_a_change(verifier: XmlVerifier, signed: bytes) -> None:
    data = signed.replace(b"<m:Amount>100</m:Amount>", b"<m:Amount> 100</m:Amount>")
    [sig] = _verify(verifier, data).report.signatures
    assert sig.integrity == "invalid"
    assert C.DIGEST_MISMATCH in sig.codes


def test_whitespace_between_signed_elements_is_normalised_by_the_smev_transform(
    verifier: XmlVerifier, signed: bytes
) -> None:
    data = signed.replace(b"<m:Snils>", b"\n   <m:Snils>")
    assert _verify(verifier, data).valid


def test_several_signatures_where_one_is_expected(pki: TestPki, signer: IssuedCertificate, signed: bytes) -> None:
    root = _tree(signed)
    signature = _first(root, ".//ds:Signature")
    _first(root, "s:Header").append(copy.deepcopy(signature))
    data = etree.tostring(root)
    both = verifier_for(pki).verify_xml(data)
    assert len(both.report.signatures) == 2  # every signature is reported
    strict = XmlVerifier(trust=pki.trust_dir, policy=VerifyPolicy(single_signer=True)).verify_xml(data)
    assert not strict.valid
    assert C.MULTIPLE_SIGNERS in strict.report.codes


@pytest.mark.parametrize("uri", ["#xpointer(/)", "#xpointer(id('SIGNED_BY_CONSUMER'))", "http://example.invalid/x"])
def test_unsupported_reference_uris_are_refused(verifier: XmlVerifier, signed: bytes, uri: str) -> None:
    data = signed.replace(b'URI="#SIGNED_BY_CONSUMER"', f'URI="{uri}"'.encode())
    result = _verify(verifier, data, positional=False)
    assert not result.valid
    assert C.WRONG_SIGNATURE_FORMAT in result.report.codes


def test_xslt_transform_is_refused(verifier: XmlVerifier, signed: bytes) -> None:
    data = signed.replace(
        b'Algorithm="urn://smev-gov-ru/xmldsig/transform"', b'Algorithm="http://www.w3.org/TR/1999/REC-xslt-19991116"'
    )
    result = _verify(verifier, data, positional=False)
    assert not result.valid
    assert C.UNKNOWN_ALGORITHM in result.report.codes
