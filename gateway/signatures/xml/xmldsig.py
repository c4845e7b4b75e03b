"""Reading ds:Signature elements and checking their integrity, wrapping-safe.

``find_signatures`` lists the Signature elements of a parsed document; ``parse_signature`` decodes
one (SignedInfo, References, SignatureValue, KeyInfo certificates) and resolves every Reference to
the *one* element it names; ``check_references`` digests them and ``check_signature_value`` checks
SignedInfo. These raise (``ReferenceDigestMismatch``, ``InvalidSignature``, ``UnsupportedAlgorithm``,
``XmlSignatureFormatError``/``SignatureWrappingError``) and never build a report.

Wrapping rules (docs/xmldsig.md): a Reference is ``URI=""`` (the whole document) or ``URI="#id"``
(bare name); an Id that occurs on more than one element (``Id``, ``ID``, ``id``, ``wsu:Id`` all
count) is refused; a target inside another Signature element is refused, and inside its own unless
it is the xades:SignedProperties in its ds:Object; XPath/XPointer/external URIs are refused. What the
signature covers is returned as ``SignedReference.element`` — the node in *this* tree — and callers
must use those nodes (or their ``signed_xml``/``signed_tree``), never look the data up again by
path or Id.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from lxml import etree

from gateway.signatures import algorithms
from gateway.signatures.certificates import Certificate, certificate_from_der
from gateway.signatures.codes import SignatureErrorCode
from gateway.signatures.errors import InvalidSignature, SignatureLayerError, UnsupportedAlgorithm
from gateway.signatures.keys import KeyKind
from gateway.signatures.xml import uris
from gateway.signatures.xml.smev_transform import Flavour, SmevTransformError
from gateway.signatures.xml.transforms import Transform, apply_transforms, canonicalize
from gateway.wire.safexml import parse_xml

__all__ = [
    "XADES_NAMESPACES",
    "IdIndex",
    "ParsedSignature",
    "ReferenceDigestMismatch",
    "SignatureWrappingError",
    "SignedReference",
    "XmlSignatureFormatError",
    "check_references",
    "check_signature_value",
    "find_signatures",
    "index_ids",
    "key_info_certificates",
    "parse_signature",
    "signer_candidates",
]

DS = uris.DS_NS
_WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
_ID_ATTRIBUTES = ("Id", "ID", "id", f"{{{_WSU}}}Id")
_ID_CARRIERS = etree.XPath("descendant-or-self::*[@Id or @ID or @id or @wsu:Id]", namespaces={"wsu": _WSU})
XADES_NAMESPACES = ("http://uri.etsi.org/01903/v1.3.2#", "http://uri.etsi.org/01903/v1.4.1#")
_TRANSFORMS = frozenset(
    {
        uris.ENVELOPED,
        uris.C14N,
        uris.C14N_WITH_COMMENTS,
        uris.EXC_C14N,
        uris.EXC_C14N_WITH_COMMENTS,
        uris.SMEV_TRANSFORM,
    }
)
_SMEV_FLAVOURS: tuple[Flavour, ...] = ("jdk", "woodstox")


class XmlSignatureFormatError(SignatureLayerError):
    """The ds:Signature is malformed or uses a construct we refuse."""

    code = SignatureErrorCode.WRONG_SIGNATURE_FORMAT


class SignatureWrappingError(XmlSignatureFormatError):
    """A reference is ambiguous or points where a signed element must not be (signature wrapping)."""


class ReferenceDigestMismatch(SignatureLayerError):
    """A Reference's DigestValue does not match the digest of what it points to."""

    code = SignatureErrorCode.DIGEST_MISMATCH


def _ds(name: str) -> str:
    return f"{{{DS}}}{name}"


def _b64(text: str | None, what: str) -> bytes:
    try:
        return base64.b64decode("".join((text or "").split()), validate=True)
    except (binascii.Error, ValueError):
        raise XmlSignatureFormatError(f"{what} is not base64") from None


def _one(parent: etree._Element, name: str, *, required: bool = True) -> etree._Element | None:
    found = [c for c in parent if c.tag == _ds(name)]
    if len(found) > 1:
        raise XmlSignatureFormatError(f"more than one ds:{name}")
    if not found and required:
        raise XmlSignatureFormatError(f"ds:{name} missing")
    return found[0] if found else None


@dataclass(slots=True)
class SignedReference:
    """One Reference and the node it covers (in the verified tree).

    ``element`` is what the signature covers: the root for ``URI=""``, else the element whose Id
    the URI names. ``digested`` are the exact octets that were hashed (after all transforms)."""

    uri: str
    type: str | None
    element: etree._Element
    whole_document: bool
    transforms: tuple[Transform, ...]
    digest_uri: str
    digest_value: bytes
    signature: etree._Element
    digested: bytes = b""
    smev_flavour: Flavour | None = None

    @property
    def signed_xml(self) -> bytes:
        """Exclusive c14n of the covered node set, comments (and an enveloped Signature) removed.

        This is the safe thing to read: comment tricks that change what a naive ``.text`` returns
        are gone, and it is what the digest covered (before the SMEV transform's prefix renaming
        and whitespace normalisation, when that transform is used)."""
        enveloped = any(t.algorithm == uris.ENVELOPED for t in self.transforms)
        return apply_transforms(
            self.element,
            whole_document=self.whole_document,
            signature=self.signature,
            transforms=(*((Transform(uris.ENVELOPED),) if enveloped else ()), Transform(uris.EXC_C14N)),
        )

    def signed_tree(self) -> etree._Element:
        """A fresh parse of ``signed_xml``: an independent copy of exactly the signed content."""
        return parse_xml(self.signed_xml)


@dataclass(slots=True)
class ParsedSignature:
    """One ds:Signature, decoded and with every Reference resolved."""

    index: int
    element: etree._Element
    id: str | None
    signed_info: etree._Element
    c14n_method: str
    c14n_prefixes: tuple[str, ...] | None
    signature_method: str
    signature_value: bytes
    references: list[SignedReference]
    certificates: list[Certificate]
    issuer_serials: list[tuple[str, int]] = field(default_factory=list)
    _signed_info_octets: bytes | None = None

    @property
    def signed_info_octets(self) -> bytes:
        """Canonical SignedInfo: what SignatureValue signs (computed once)."""
        if self._signed_info_octets is None:
            self._signed_info_octets = canonicalize(
                self.signed_info, self.c14n_method, inclusive_prefixes=self.c14n_prefixes, node_set=False
            )
        return self._signed_info_octets


def find_signatures(root: etree._Element) -> list[etree._Element]:
    """Every ds:Signature element of the document, in document order."""
    return list(root.iter(_ds("Signature")))


def _prefixes(transform: etree._Element) -> tuple[str, ...] | None:
    for child in transform:
        if isinstance(child.tag, str) and etree.QName(child).localname == "InclusiveNamespaces":
            return tuple((child.get("PrefixList") or "").split())
    return None


def _transforms(reference: etree._Element) -> tuple[Transform, ...]:
    holder = _one(reference, "Transforms", required=False)
    if holder is None:
        return ()
    out: list[Transform] = []
    for child in holder:
        if not isinstance(child.tag, str):
            continue
        if child.tag != _ds("Transform"):
            raise XmlSignatureFormatError("unexpected element in ds:Transforms")
        algorithm = child.get("Algorithm") or ""
        if algorithm not in _TRANSFORMS:
            # refused while reading, before anything is computed (XPath/XSLT/base64 included)
            raise UnsupportedAlgorithm(algorithm, "unsupported reference transform")
        out.append(Transform(algorithm, _prefixes(child)))
    return tuple(out)


class IdIndex:
    """Every Id-like attribute value of the document -> the elements carrying it."""

    def __init__(self, root: etree._Element) -> None:
        self.by_id: dict[str, list[etree._Element]] = {}
        # the scan over every element runs in libxml2; Python sees only elements with an Id
        found = _ID_CARRIERS(root)
        for element in found if isinstance(found, list) else ():
            if not isinstance(element, etree._Element):
                continue
            for name in _ID_ATTRIBUTES:
                value = element.get(name)
                if value is not None:
                    self.by_id.setdefault(value, []).append(element)

    def resolve(self, ident: str) -> etree._Element:
        found = self.by_id.get(ident, [])
        if not found:
            raise XmlSignatureFormatError(f"reference to an unknown Id {ident!r}")
        if len(found) > 1:
            raise SignatureWrappingError(f"Id {ident!r} occurs on {len(found)} elements")
        return found[0]


def _check_position(target: etree._Element, signature: etree._Element) -> None:
    for ancestor in (target, *target.iterancestors()):
        if ancestor.tag == _ds("Signature"):
            if ancestor is not signature:
                raise SignatureWrappingError("reference to an element inside another Signature")
            # Inside its own Signature a reference may only name XAdES SignedProperties in a
            # ds:Object: enveloping signatures are not used by any peer, and allowing arbitrary
            # Object content would let a signed copy hide there.
            in_object = any(a.tag == _ds("Object") for a in target.iterancestors() if _inside(a, signature))
            qname = etree.QName(target)
            if not (in_object and qname.localname == "SignedProperties" and qname.namespace in XADES_NAMESPACES):
                raise SignatureWrappingError("reference to a part of the Signature other than xades:SignedProperties")
            return


def _inside(node: etree._Element, container: etree._Element) -> bool:
    return any(a is container for a in node.iterancestors())


def _resolve(uri: str | None, root: etree._Element, ids: IdIndex) -> tuple[etree._Element, bool]:
    if uri is None:
        raise XmlSignatureFormatError("a Reference without URI (external detached data) is not supported")
    if uri == "":
        return root, True
    if uri.startswith("#") and len(uri) > 1 and "(" not in uri:
        return ids.resolve(uri[1:]), False
    raise XmlSignatureFormatError('only URI="" and URI="#id" references are supported')


def _certificates(signature: etree._Element) -> tuple[list[Certificate], list[tuple[str, int]]]:
    key_info = _one(signature, "KeyInfo", required=False)
    certs: list[Certificate] = []
    issuer_serials: list[tuple[str, int]] = []
    if key_info is None:
        return certs, issuer_serials
    for x509_data in key_info.iter(_ds("X509Data")):
        for item in x509_data:
            if item.tag == _ds("X509Certificate"):
                der = _b64(item.text, "X509Certificate")
                try:
                    certs.append(certificate_from_der(der))
                except ValueError as exc:
                    raise XmlSignatureFormatError(f"X509Certificate: {exc}") from None
            elif item.tag == _ds("X509IssuerSerial"):
                name = item.findtext(_ds("X509IssuerName")) or ""
                serial = item.findtext(_ds("X509SerialNumber")) or ""
                if serial.strip().isdigit():
                    issuer_serials.append((name.strip(), int(serial)))
    for token in _wsse_tokens(key_info):
        try:
            certs.append(certificate_from_der(token))
        except ValueError as exc:
            raise XmlSignatureFormatError(f"WS-Security token: {exc}") from None
    return certs, issuer_serials


def _wsse_tokens(key_info: etree._Element) -> list[bytes]:
    """Certificates a WS-Security SecurityTokenReference names: a KeyIdentifier holding the X509v3
    certificate itself, or a Reference to a BinarySecurityToken of the same document (by wsu:Id)."""
    out: list[bytes] = []
    for ref in key_info.iter(f"{{{_WSSE}}}SecurityTokenReference"):
        for item in ref:
            if item.tag == f"{{{_WSSE}}}KeyIdentifier" and (item.get("ValueType") or "").endswith("#X509v3"):
                out.append(_b64(item.text, "wsse:KeyIdentifier"))
            elif item.tag == f"{{{_WSSE}}}Reference":
                uri = item.get("URI") or ""
                if not uri.startswith("#") or len(uri) < 2:
                    raise XmlSignatureFormatError("wsse:Reference must name a token of this document (#id)")
                root = key_info.getroottree().getroot()
                tokens = [
                    t
                    for t in root.iter(f"{{{_WSSE}}}BinarySecurityToken")
                    if uri[1:] in (t.get(f"{{{_WSU}}}Id"), t.get("Id"))
                ]
                if len(tokens) != 1:
                    raise XmlSignatureFormatError(f"wsse:Reference {uri!r} names {len(tokens)} BinarySecurityTokens")
                if not (tokens[0].get("ValueType") or "").endswith("#X509v3"):
                    raise XmlSignatureFormatError("the BinarySecurityToken is not an X509v3 certificate")
                out.append(_b64(tokens[0].text, "wsse:BinarySecurityToken"))
    return out


def key_info_certificates(signature: etree._Element) -> list[Certificate]:
    """The X509Certificates of a Signature's KeyInfo, best effort (for reports of broken signatures)."""
    try:
        return _certificates(signature)[0]
    except XmlSignatureFormatError:
        return []


def parse_signature(
    signature: etree._Element, index: int, root: etree._Element, ids: IdIndex | None = None
) -> ParsedSignature:
    """Decode ``signature`` and resolve its References inside ``root`` (wrapping rules applied)."""
    ids = ids or IdIndex(root)
    signed_info = _one(signature, "SignedInfo")
    assert signed_info is not None
    c14n = _one(signed_info, "CanonicalizationMethod")
    method = _one(signed_info, "SignatureMethod")
    assert c14n is not None and method is not None
    value = _one(signature, "SignatureValue")
    references: list[SignedReference] = []
    for ref in signed_info:
        if ref.tag != _ds("Reference"):
            continue
        uri = ref.get("URI")
        target, whole = _resolve(uri, root, ids)
        if not whole:
            _check_position(target, signature)
        digest_method = _one(ref, "DigestMethod")
        assert digest_method is not None
        digest_value = _one(ref, "DigestValue")
        references.append(
            SignedReference(
                uri=uri or "",
                type=ref.get("Type"),
                element=target,
                whole_document=whole,
                transforms=_transforms(ref),
                digest_uri=digest_method.get("Algorithm") or "",
                digest_value=_b64(digest_value.text if digest_value is not None else None, "DigestValue"),
                signature=signature,
            )
        )
    if not references:
        raise XmlSignatureFormatError("SignedInfo has no Reference")
    certs, issuer_serials = _certificates(signature)
    return ParsedSignature(
        index=index,
        element=signature,
        id=signature.get("Id"),
        signed_info=signed_info,
        c14n_method=c14n.get("Algorithm") or "",
        c14n_prefixes=_prefixes(c14n),
        signature_method=method.get("Algorithm") or "",
        signature_value=_b64(value.text if value is not None else None, "SignatureValue"),
        references=references,
        certificates=certs,
        issuer_serials=issuer_serials,
    )


def index_ids(root: etree._Element) -> IdIndex:
    """The Id index of a document (build once, share between its signatures)."""
    return IdIndex(root)


def check_references(parsed: ParsedSignature) -> None:
    """Digest every Reference; raise ReferenceDigestMismatch on the first that differs.

    With the SMEV transform both StAX flavours of the reference implementation are tried (SMEV's
    own is not documented; see smev_transform)."""
    for ref in parsed.references:
        digest = uris.digest_for_uri(ref.digest_uri)
        uses_smev = any(t.algorithm == uris.SMEV_TRANSFORM for t in ref.transforms)
        flavours: tuple[Flavour | None, ...] = _SMEV_FLAVOURS if uses_smev else (None,)
        for flavour in flavours:
            try:
                octets = apply_transforms(
                    ref.element,
                    whole_document=ref.whole_document,
                    signature=parsed.element,
                    transforms=ref.transforms,
                    smev_flavour=flavour or "jdk",
                )
            except SmevTransformError:
                continue
            if hmac.compare_digest(digest.hash(octets), ref.digest_value):
                ref.digested, ref.smev_flavour = octets, flavour
                break
        else:
            raise ReferenceDigestMismatch(f"digest of reference {ref.uri!r} does not match")


def _raw_ecdsa_to_der(value: bytes) -> bytes:
    if not value or len(value) % 2:
        raise InvalidSignature("ECDSA SignatureValue must be r||s of equal halves")
    half = len(value) // 2
    return encode_dss_signature(int.from_bytes(value[:half], "big"), int.from_bytes(value[half:], "big"))


def check_signature_value(parsed: ParsedSignature, cert: Certificate) -> algorithms.SignatureAlgorithm:
    """Check SignatureValue over the canonical SignedInfo with ``cert``'s key; return the scheme.

    Raises UnsupportedAlgorithm (unknown URI, or one that does not fit the key) or InvalidSignature."""
    key = cert.public_key
    scheme = uris.signature_for_uri(parsed.signature_method, key)
    value = parsed.signature_value
    if key.kind is KeyKind.EC:
        value = _raw_ecdsa_to_der(value)
    digest = scheme.digest.hash(parsed.signed_info_octets)
    algorithms.verify_digest(key, scheme, digest, value)
    return scheme


def signer_candidates(parsed: ParsedSignature, supplied: Sequence[Certificate]) -> list[Certificate]:
    """Certificates that may hold the signing key: KeyInfo's end-entity ones first, then supplied.

    A CA certificate in KeyInfo is chain material, not a signer (it is tried last)."""
    pool = [*parsed.certificates, *supplied]
    if parsed.issuer_serials:
        named = [c for c in pool if any(c.serial == s for _, s in parsed.issuer_serials)]
        pool = named + [c for c in pool if c not in named]
    ordered = [c for c in pool if not c.is_ca] + [c for c in pool if c.is_ca]
    return list(dict.fromkeys(ordered))
