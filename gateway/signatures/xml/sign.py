"""Making XMLDSig signatures: SMEV 3 style and Kazakh (NCA) style, optionally XAdES-BES.

* ``style="smev"``: one Reference ``URI="#id"`` to the element with that Id, transforms exc-c14n then
  ``urn://smev-gov-ru/xmldsig/transform``, SignedInfo exc-c14n, GOST 2012 (or whatever the key is).
  The Signature goes into the target's sibling ``CallerInformationSystemSignature`` when there is
  one (SMEV's layout), else right after the target.
* ``style="enveloped"``: ``URI=""`` (or ``URI="#id"``), transforms enveloped-signature then exc-c14n,
  Signature appended to the signed element — what NCALayer/NCANode produce for RSA-SHA256 and
  GOST 34.10-2015.
* ``xades=True`` adds QualifyingProperties/SignedProperties with SigningTime and
  SigningCertificateV2 (digest of the certificate with the signature's digest algorithm, and
  IssuerSerialV2), covered by a second Reference of Type ``...#SignedProperties``.

The scheme comes from the key (``algorithms.default_signature_algorithm``): GOST 2012-256/512 for
Russian keys, GOST 2015 (``pkigovkz`` URIs, NCA byte order) for Kazakh keys, RSA-SHA256,
ECDSA-SHA256. Signatures are computed through the same algorithm layer CMS signing uses.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Literal

from asn1crypto import cms, x509
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from lxml import etree

from gateway.signatures import algorithms
from gateway.signatures.certificates import Certificate
from gateway.signatures.keys import KeyKind, PrivateKey
from gateway.signatures.xml import uris
from gateway.signatures.xml.transforms import Transform, apply_transforms, canonicalize
from gateway.signatures.xml.xades import SIGNED_PROPERTIES_TYPE
from gateway.wire.safexml import parse_xml

__all__ = ["SignStyle", "XmlSignError", "sign_xml"]

SignStyle = Literal["smev", "enveloped"]
_DS = uris.DS_NS
_XADES = uris.XADES_NS
_NSMAP = {"ds": _DS}


class XmlSignError(ValueError):
    """The document cannot be signed as asked (no element with that Id, Id not unique, ...)."""


def _ds(parent: etree._Element, name: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, f"{{{_DS}}}{name}", attrs)
    if text is not None:
        element.text = text
    return element


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


_WSU_ID = "{http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd}Id"


def _find_id(root: etree._Element, ident: str) -> etree._Element:
    # wsu:Id too: SOAP bodies are signed by it (WS-Security), plain Id is not allowed there.
    found = [
        e
        for e in root.iter()
        if isinstance(e.tag, str) and ident in (e.get("Id"), e.get("ID"), e.get("id"), e.get(_WSU_ID))
    ]
    if len(found) != 1:
        raise XmlSignError(f"{len(found)} elements carry the Id {ident!r}: exactly one is needed")
    return found[0]


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _raw_ecdsa(der: bytes, bits: int) -> bytes:
    r, s = decode_dss_signature(der)
    size = (bits + 7) // 8
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def _issuer_serial_v2(cert: Certificate) -> bytes:
    value = cms.IssuerSerial(
        {"issuer": [x509.GeneralName(name="directory_name", value=cert.asn1.issuer)], "serial": cert.serial}
    )
    der: bytes = value.dump()
    return der


def _reference(
    signed_info: etree._Element,
    uri: str,
    transforms: Sequence[str],
    digest_uri: str,
    *,
    ref_type: str | None = None,
) -> etree._Element:
    attrs = {"URI": uri} if ref_type is None else {"Type": ref_type, "URI": uri}
    ref = _ds(signed_info, "Reference", **attrs)
    holder = _ds(ref, "Transforms")
    for algorithm in transforms:
        _ds(holder, "Transform", Algorithm=algorithm)
    _ds(ref, "DigestMethod", Algorithm=digest_uri)
    _ds(ref, "DigestValue", "")
    return ref


def _fill_digest(
    ref: etree._Element,
    target: etree._Element,
    whole: bool,
    signature: etree._Element,
    transforms: Sequence[str],
    digest: algorithms.DigestAlgorithm,
) -> None:
    octets = apply_transforms(
        target, whole_document=whole, signature=signature, transforms=[Transform(t) for t in transforms]
    )
    value = ref.find(f"{{{_DS}}}DigestValue")
    assert value is not None
    value.text = _b64(digest.hash(octets))


def _xades_object(
    signature: etree._Element,
    sig_id: str,
    cert: Certificate,
    digest: algorithms.DigestAlgorithm,
    digest_uri: str,
    signing_time: datetime,
) -> tuple[etree._Element, str]:
    obj = _ds(signature, "Object")
    qp = etree.SubElement(obj, f"{{{_XADES}}}QualifyingProperties", {"Target": f"#{sig_id}"}, nsmap={"xades": _XADES})
    props_id = f"{sig_id}-signedprops"
    sp = etree.SubElement(qp, f"{{{_XADES}}}SignedProperties", {"Id": props_id})
    ssp = etree.SubElement(sp, f"{{{_XADES}}}SignedSignatureProperties")
    moment = signing_time.astimezone(UTC).replace(microsecond=0)
    etree.SubElement(ssp, f"{{{_XADES}}}SigningTime").text = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    sc = etree.SubElement(ssp, f"{{{_XADES}}}SigningCertificateV2")
    cert_el = etree.SubElement(sc, f"{{{_XADES}}}Cert")
    cd = etree.SubElement(cert_el, f"{{{_XADES}}}CertDigest")
    _ds(cd, "DigestMethod", Algorithm=digest_uri)
    _ds(cd, "DigestValue", _b64(digest.hash(cert.der)))
    etree.SubElement(cert_el, f"{{{_XADES}}}IssuerSerialV2").text = _b64(_issuer_serial_v2(cert))
    return sp, props_id


def sign_xml(
    data: bytes,
    key: PrivateKey,
    cert: Certificate,
    *,
    style: SignStyle = "enveloped",
    reference_id: str | None = None,
    chain: Sequence[Certificate] = (),
    xades: bool = False,
    signing_time: datetime | None = None,
    container: str | None = None,
    namespaces: Mapping[str, str] | None = None,
    transforms: Sequence[str] | None = None,
) -> bytes:
    """Sign ``data`` and return the signed document (UTF-8, with an XML declaration).

    ``reference_id`` names the element to sign (required for ``style="smev"``; without it an
    enveloped signature covers the whole document). ``container`` is an XPath (with
    ``namespaces``) of the element to put the Signature into, overriding the style's default.
    ``transforms`` replaces the style's Reference transforms (WS-Security: exc-c14n alone).
    Raises XmlSignError for a document that cannot be signed as asked, UnsupportedAlgorithm for a
    key without an XMLDSig scheme."""
    root = parse_xml(data)
    if style not in ("smev", "enveloped"):
        raise XmlSignError(f"unknown style {style!r}")
    if style == "smev" and not reference_id:
        raise XmlSignError("an SMEV signature signs an element by Id: give reference_id")
    scheme = algorithms.default_signature_algorithm(key.public)
    digest = scheme.digest
    sig_uri, digest_uri = uris.uri_for_signature(scheme), uris.uri_for_digest(digest)
    target = _find_id(root, reference_id) if reference_id else root
    whole = reference_id is None

    if container is not None:
        found = root.xpath(container, namespaces=dict(namespaces or {}))
        places = [n for n in found if isinstance(n, etree._Element)] if isinstance(found, list) else []
        if len(places) != 1:
            raise XmlSignError(f"container {container!r} selects {len(places)} elements")
        place: etree._Element = places[0]
    elif style == "smev":
        parent = target.getparent()
        holders = [] if parent is None else [c for c in parent if _local(c) == "CallerInformationSystemSignature"]
        place = holders[0] if holders else target
    else:
        place = target

    sig_id = f"sig-{uuid.uuid4()}"
    signature = etree.Element(f"{{{_DS}}}Signature", {"Id": sig_id} if xades else {}, nsmap=_NSMAP)
    if style == "smev" and container is None and place is target:
        target.addnext(signature)
        # addnext moves target's tail onto the signature; keep the document text where it was
        signature.tail, target.tail = target.tail, None
    else:
        place.append(signature)

    signed_info = _ds(signature, "SignedInfo")
    _ds(signed_info, "CanonicalizationMethod", Algorithm=uris.EXC_C14N)
    _ds(signed_info, "SignatureMethod", Algorithm=sig_uri)
    if transforms is None:
        transforms = [uris.EXC_C14N, uris.SMEV_TRANSFORM] if style == "smev" else [uris.ENVELOPED, uris.EXC_C14N]
    ref = _reference(signed_info, "" if whole else f"#{reference_id}", transforms, digest_uri)
    _ds(signature, "SignatureValue", "")
    key_info = _ds(signature, "KeyInfo")
    x509_data = _ds(key_info, "X509Data")
    for item in (cert, *chain):
        _ds(x509_data, "X509Certificate", _b64(item.der))
    props_ref: etree._Element | None = None
    if xades:
        moment = signing_time or datetime.now(UTC)
        sp, props_id = _xades_object(signature, sig_id, cert, digest, digest_uri, moment)
        props_ref = _reference(
            signed_info, f"#{props_id}", [uris.EXC_C14N], digest_uri, ref_type=SIGNED_PROPERTIES_TYPE
        )
        _fill_digest(props_ref, sp, False, signature, [uris.EXC_C14N], digest)

    _fill_digest(ref, target, whole, signature, transforms, digest)
    octets = canonicalize(signed_info, uris.EXC_C14N, node_set=False)
    value = algorithms.sign_digest(key, scheme, digest.hash(octets))
    if key.kind is KeyKind.EC:
        value = _raw_ecdsa(value, key.public.bits)
    sig_value = signature.find(f"{{{_DS}}}SignatureValue")
    assert sig_value is not None
    sig_value.text = _b64(value)
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")
