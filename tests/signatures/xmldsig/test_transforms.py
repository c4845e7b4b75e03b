"""Canonicalisation variants and the SMEV-transform shortcut, checked against independent outputs."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from _xmldsig_helpers import KZ_DOCUMENT, SMEV_REQUEST, VECTORS, chain_of, verifier_for
from cryptography import x509 as crypto_x509
from cryptography.hazmat.primitives import serialization
from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureConstructionMethod, SignatureMethod
from signxml.signer import XMLSigner

from gateway.bench.verify_xml import smev_envelope
from gateway.signatures.codes import SignatureErrorCode as C
from gateway.signatures.pki import IssuedCertificate, TestPki
from gateway.signatures.xml import smev_transform, uris
from gateway.signatures.xml.transforms import Transform, apply_transforms, canonicalize
from gateway.signatures.xml.xmldsig import find_signatures
from gateway.wire.safexml import parse_xml

SMEV_NS = "urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.1"


@pytest.mark.parametrize(
    ("data", "tag"),
    [
        (SMEV_REQUEST, f"{{{SMEV_NS}}}SenderProvidedRequestData"),
        (smev_envelope(), f"{{{SMEV_NS}}}SenderProvidedRequestData"),
        (
            (VECTORS / "xmldsig" / "smev3-response-signed-by-smev.xml").read_bytes(),
            "{urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.3}Response",
        ),
    ],
)
def test_exc_c14n_then_smev_shortcut_equals_the_two_steps(data: bytes, tag: str) -> None:
    """apply_transforms skips serialising exc-c14n before the SMEV transform (smev_transform takes
    the element); the result must be what the two steps give."""
    root = parse_xml(data)
    element = root.find(f".//{tag}")
    assert element is not None
    signature = find_signatures(root)[0] if find_signatures(root) else etree.Element("x")
    shortcut = apply_transforms(
        element,
        whole_document=False,
        signature=signature,
        transforms=[Transform(uris.EXC_C14N), Transform(uris.SMEV_TRANSFORM)],
    )
    two_steps = smev_transform(canonicalize(element, uris.EXC_C14N))
    assert shortcut == two_steps


def test_enveloped_transform_restores_the_document(issued_factory: Callable[[str, str], IssuedCertificate]) -> None:
    from gateway.signatures.xml.sign import sign_xml

    signer = issued_factory("rsa", "kz-org")
    signed = sign_xml(KZ_DOCUMENT, signer.key, signer.certificate)
    root = parse_xml(signed)
    before = etree.tostring(root)
    signature = find_signatures(root)[0]
    out = apply_transforms(
        root,
        whole_document=True,
        signature=signature,
        transforms=[Transform(uris.ENVELOPED), Transform(uris.EXC_C14N)],
    )
    assert b"Signature" not in out
    assert etree.tostring(root) == before  # the Signature and the text around it are back in place


def _signxml_signed(
    signer: IssuedCertificate, c14n: CanonicalizationMethod, prefixes: list[str] | None = None
) -> bytes:
    cert_pem = crypto_x509.load_der_x509_certificate(signer.certificate.der).public_bytes(serialization.Encoding.PEM)
    document = KZ_DOCUMENT.replace(
        b'<document xmlns="urn:test:kz031">',
        b'<document xmlns="urn:test:kz031" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><!-- c -->',
    )
    xml_signer = XMLSigner(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=SignatureMethod.RSA_SHA256,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=c14n,
    )
    signed_root = xml_signer.sign(
        etree.fromstring(document),
        key=signer.key.to_pem(),
        cert=cert_pem.decode("ascii"),
        inclusive_ns_prefixes=prefixes,
    )
    return etree.tostring(signed_root)


@pytest.mark.parametrize(
    "c14n", [CanonicalizationMethod.CANONICAL_XML_1_0, CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0]
)
def test_signxml_canonicalization_variants_verify(
    c14n: CanonicalizationMethod,
    pki_factory: Callable[[str], TestPki],
    issued_factory: Callable[[str, str], IssuedCertificate],
) -> None:
    pki, signer = pki_factory("rsa"), issued_factory("rsa", "kz-org")
    data = _signxml_signed(signer, c14n)
    verifier = verifier_for(pki)
    result = verifier.verify_xml(data, certificates=chain_of(pki))
    assert result.valid, result.report.to_json()
    tampered = data.replace(b"031-77", b"031-78")
    assert not verifier.verify_xml(tampered, certificates=chain_of(pki)).valid


@pytest.mark.parametrize(
    ("c14n", "prefixes"),
    [
        # URI="" is a node set without comments (XMLDSig 4.4.3.3) whatever the c14n variant;
        # signxml digests the comments anyway.
        (CanonicalizationMethod.CANONICAL_XML_1_0_WITH_COMMENTS, None),
        (CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0_WITH_COMMENTS, None),
        # signxml writes the PrefixList only on SignedInfo's CanonicalizationMethod but applies it to
        # the reference too, whose Transform says plain exc-c14n.
        (CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0, ["xsi"]),
    ],
)
def test_signxml_deviations_from_the_specification_are_digest_mismatches(
    c14n: CanonicalizationMethod,
    prefixes: list[str] | None,
    pki_factory: Callable[[str], TestPki],
    issued_factory: Callable[[str, str], IssuedCertificate],
) -> None:
    pki, signer = pki_factory("rsa"), issued_factory("rsa", "kz-org")
    data = _signxml_signed(signer, c14n, prefixes)
    if prefixes:
        assert b"InclusiveNamespaces" in data
    [sig] = verifier_for(pki).verify_xml(data, certificates=chain_of(pki)).report.signatures
    # SignedInfo itself (canonicalised with its PrefixList / variant) verifies: only the reference differs
    assert sig.codes == [C.DIGEST_MISMATCH]


def test_inclusive_namespaces_prefix_list_is_applied() -> None:
    root = parse_xml(b'<a xmlns:x="urn:x" xmlns:y="urn:y"><b Id="b1">t</b></a>')
    element = root[0]
    plain = apply_transforms(element, whole_document=False, signature=root, transforms=[Transform(uris.EXC_C14N)])
    listed = apply_transforms(
        element, whole_document=False, signature=root, transforms=[Transform(uris.EXC_C14N, ("x",))]
    )
    inclusive = apply_transforms(element, whole_document=False, signature=root, transforms=[Transform(uris.C14N)])
    assert plain == b'<b Id="b1">t</b>'
    assert listed == b'<b xmlns:x="urn:x" Id="b1">t</b>'
    assert inclusive == b'<b xmlns:x="urn:x" xmlns:y="urn:y" Id="b1">t</b>'


def test_invalid_expected_xpath_is_a_caller_error(pki_factory: Callable[[str], TestPki]) -> None:
    with pytest.raises(ValueError, match="XPath"):
        verifier_for(pki_factory("rsa")).verify_xml(KZ_DOCUMENT, expected=["//["])
