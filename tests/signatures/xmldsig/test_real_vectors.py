"""Genuine signatures made by other software: SMEV 3 (GOST 2012-256) and NCA XAdES (GOST 2015-512)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from _xmldsig_helpers import VECTORS

from gateway.signatures.codes import SignatureErrorCode as C
from gateway.signatures.xml.verify import XmlVerifier, verify_xml

SMEV = VECTORS / "xmldsig" / "smev3-response-signed-by-smev.xml"
NCA = VECTORS / "gost" / "nca"


def test_smev_response_signed_by_smev_has_valid_integrity() -> None:
    result = verify_xml(SMEV.read_bytes())
    [sig] = result.report.signatures
    assert sig.integrity == "valid", sig.errors
    assert sig.algorithm == "gost2012-256"
    assert sig.digest_algorithm == "streebog256"
    # the test CA is not trusted here, and the certificate expired in 2022: not valid overall
    assert sig.chain == "not-checked"
    assert not result.valid
    assert result.report.format == "xmldsig"
    # Russian identity fields of the (organisation) certificate
    assert sig.signer is not None
    assert sig.signer.ogrn == "1035009567450"
    assert sig.signer.inn == "005047053920"
    # what is covered: exactly the element with Id SIGNED_BY_SMEV
    [element] = result.signed_elements(0)
    assert element.get("Id") == "SIGNED_BY_SMEV"
    parent = element.getparent()
    assert parent is not None and str(parent.tag).endswith("ResponseMessage")
    assert result.signed[0][0].smev_flavour == "jdk"


def test_smev_response_with_a_changed_character_fails_with_digest_mismatch() -> None:
    data = SMEV.read_bytes().replace(b"<tns:status>VALID<", b"<tns:status>VALIE<")
    [sig] = verify_xml(data).report.signatures
    assert sig.integrity == "invalid"
    assert C.DIGEST_MISMATCH in sig.codes


def test_smev_response_signature_value_change_is_a_verification_error() -> None:
    data = SMEV.read_bytes().replace(b"<ds:SignatureValue>vS9k", b"<ds:SignatureValue>vS9j")
    [sig] = verify_xml(data).report.signatures
    assert sig.integrity == "invalid"
    assert C.SIGNATURE_VERIFICATION_ERROR in sig.codes


def test_smev_response_change_outside_the_signed_element_keeps_integrity() -> None:
    # soap:Envelope attributes and the SMEVSignature holder are outside Response Id=SIGNED_BY_SMEV
    data = SMEV.read_bytes().replace(
        b"<ns2:SMEVSignature>", b'<ns2:SMEVSignature xmlns:x="urn:x" x:note="added later">'
    )
    [sig] = verify_xml(data).report.signatures
    assert sig.integrity == "valid", sig.errors


def test_nca_xades_verifies_with_trusted_chain_and_kazakh_identity(tmp_path: Path) -> None:
    trust = tmp_path / "trust"
    trust.mkdir()
    shutil.copy(NCA / "nca_gost2015_test.cer", trust / "nca.cer")
    signed = (NCA / "xades-test-signed-b.xml").read_bytes()
    # The vector's CRL expired in January 2023 (nextUpdate) and nothing newer can be fetched:
    # whether the certificate was revoked since is unknown, so the verdict is INDETERMINATE.
    expired_crl = XmlVerifier(trust=trust, crls=[NCA / "nca_gost2022_test.crl"])
    dated = expired_crl.verify_xml(signed, check_time=datetime(2026, 9, 3, tzinfo=UTC))
    assert dated.report.signatures[0].chain == "indeterminate" and not dated.valid
    # Without revocation checking, everything else about the signature holds.
    verifier = XmlVerifier(trust=trust)
    result = verifier.verify_xml(signed, check_time=datetime(2026, 9, 3, tzinfo=UTC))
    [sig] = result.report.signatures
    assert sig.integrity == "valid", sig.errors
    assert sig.algorithm == "gost2015-512"
    assert sig.cades_bes is True  # XAdES-BES: SignedProperties signed, SigningCertificateV2 matches
    assert sig.signing_time == "2026-09-02T10:04:52Z"
    assert sig.signing_time_source == "signed-attribute"
    assert sig.signer is not None
    assert sig.signer.iin == "123456789011"
    assert list(sig.signer.kz_roles) == ["INDIVIDUAL"]
    assert sig.chain == "trusted", sig.errors
    assert result.valid, result.report.to_json()
    [element] = result.signed_elements(0)
    assert element.tag == "document"


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        (b"<name>NCANode", b"<name>NCANodf", C.DIGEST_MISMATCH),
        (b"2026-09-02T10:04:52Z", b"2026-09-02T10:04:53Z", C.DIGEST_MISMATCH),  # signed SigningTime
        (b"<ds:SignatureValue>VbFM", b"<ds:SignatureValue>VbFN", C.SIGNATURE_VERIFICATION_ERROR),
    ],
)
def test_nca_xades_tampering(old: bytes, new: bytes, code: C) -> None:
    data = (NCA / "xades-test-signed-b.xml").read_bytes()
    assert old in data
    [sig] = verify_xml(data.replace(old, new, 1)).report.signatures
    assert sig.integrity == "invalid"
    assert code in sig.codes


def test_nca_xades_unsigned_part_of_the_signature_may_change() -> None:
    data = (NCA / "xades-test-signed-b.xml").read_bytes()
    # QualifyingProperties itself is not signed (only SignedProperties is); the enveloped transform
    # removes the whole Signature from the document reference.
    changed = data.replace(b"<xades:QualifyingProperties ", b'<xades:QualifyingProperties data-x="1" ', 1)
    assert changed != data
    [sig] = verify_xml(changed).report.signatures
    assert sig.integrity == "valid", sig.errors
