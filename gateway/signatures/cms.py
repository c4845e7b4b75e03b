"""Reading CMS SignedData (RFC 5652) and checking one SignerInfo's integrity.

``parse_cms`` accepts what peers send: DER, PEM (``CMS``/``PKCS7``/``SIGNED DATA``) or bare base64
(REMD puts base64 into SOAP). ``SignerView`` exposes one SignerInfo's parts with the signed
attributes decoded (contentType, messageDigest, signingTime, signingCertificate(V2)).

``check_integrity`` is the low-level check: it raises (``DigestMismatch``, ``InvalidSignature``,
``UnsupportedAlgorithm``, ``CmsFormatError``) and never builds a report.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asn1crypto.tsp  # noqa: F401 - registers the signingCertificate(V2) attribute types in asn1crypto
from asn1crypto import cms, core

from gateway.signatures import _der, algorithms
from gateway.signatures._asn1 import algorithm_parameters_der, pem_blocks
from gateway.signatures.certificates import Certificate, certificate_from_der
from gateway.signatures.codes import SignatureErrorCode
from gateway.signatures.errors import CmsFormatError, SignatureLayerError

__all__ = [
    "DigestMismatch",
    "ParsedCms",
    "SignerView",
    "check_integrity",
    "find_signer_certificate",
    "parse_cms",
]

DATA_OID = "1.2.840.113549.1.7.1"
SIGNED_DATA_OID = "1.2.840.113549.1.7.2"


class DigestMismatch(SignatureLayerError):
    """messageDigest (or contentType) in the signed attributes does not match the content."""

    code = SignatureErrorCode.DIGEST_MISMATCH


class SignerCertificateMismatch(SignatureLayerError):
    """signingCertificate(V2) names another certificate than the one that verifies the signature."""

    code = SignatureErrorCode.SIGNATURE_VERIFICATION_ERROR


@dataclass(frozen=True, slots=True)
class EssCertId:
    hash_oid: str
    cert_hash: bytes
    serial: int | None


@dataclass(slots=True)
class SignerView:
    """One SignerInfo, decoded. ``signed_attrs_der`` is the exact SET OF bytes that were signed."""

    index: int
    sid_kind: str  # "issuer_and_serial_number" | "subject_key_identifier"
    sid_issuer_der: bytes | None
    sid_serial: int | None
    sid_ski: bytes | None
    digest_oid: str
    signature_oid: str
    signature_params: bytes | None
    signature: bytes
    signed_attrs_der: bytes | None
    content_type: str | None = None
    message_digest: bytes | None = None
    signing_time: datetime | None = None
    ess_cert_ids: list[EssCertId] = field(default_factory=list)
    has_signing_certificate: bool = False


@dataclass(slots=True)
class ParsedCms:
    """A decoded SignedData. ``content`` is the attached content (None when detached).

    ``crls`` are the DER CRLs the sender embedded (kept raw: they are not used for revocation,
    which relies on the configured CRLs only).
    """

    der: bytes
    econtent_type: str
    content: bytes | None
    certificates: list[Certificate]
    crls: list[bytes]
    signers: list[SignerView]


def _to_der(data: bytes) -> bytes:
    stripped = data.lstrip()
    if stripped[:1] == b"<":
        raise CmsFormatError(
            "input is XML: XMLDSig signatures are not supported here", SignatureErrorCode.WRONG_SIGNATURE_FORMAT
        )
    if data[:1] == b"\x30":
        return data
    blocks = pem_blocks(data)
    if blocks:
        return blocks[0][1]
    try:
        return base64.b64decode(b"".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        raise CmsFormatError("input is neither DER, PEM nor base64 CMS") from None


def parse_cms(data: bytes, *, fast: bool = True) -> ParsedCms:
    """Decode a CMS ContentInfo holding SignedData. Raises CmsFormatError when it is not one.

    Plain DER goes through a small reader of the few fields verification needs; anything else
    (BER from CryptoPro, unusual structure, errors) through asn1crypto. ``fast=False`` forces the
    latter (tests compare both).
    """
    der = _to_der(data)
    if fast:
        try:
            return _parse_fast(der)
        except _der.Unsupported:
            pass
    return _parse_asn1crypto(der)


# -- the fast reader ---------------------------------------------------------------------------

_CONTENT_TYPE = "1.2.840.113549.1.9.3"
_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_SIGNING_TIME = "1.2.840.113549.1.9.5"
_SIGNING_CERTIFICATE = "1.2.840.113549.1.9.16.2.12"
_SIGNING_CERTIFICATE_V2 = "1.2.840.113549.1.9.16.2.47"
_SHA1 = "1.3.14.3.2.26"
_SHA256 = "2.16.840.1.101.3.4.2.1"


def _parse_fast(der: bytes) -> ParsedCms:
    d = _der
    top = d.children(der, d.expect(d.read_all(der), 0x30))
    if len(top) != 2 or d.oid(der, top[0]) != SIGNED_DATA_OID:
        raise d.Unsupported("not SignedData")
    wrapped = d.children(der, d.expect(top[1], 0xA0))
    if len(wrapped) != 1:
        raise d.Unsupported("explicit tag")
    parts = d.children(der, d.expect(wrapped[0], 0x30))
    if len(parts) < 4:
        raise d.Unsupported("short SignedData")
    d.integer(der, parts[0])
    d.expect(parts[1], 0x31)
    encap = d.children(der, d.expect(parts[2], 0x30))
    econtent_type = d.oid(der, encap[0])
    content: bytes | None = None
    if len(encap) == 2:
        inner = d.children(der, d.expect(encap[1], 0xA0))
        if len(inner) != 1:
            raise d.Unsupported("eContent")
        content = d.contents(der, d.expect(inner[0], 0x04))
    elif len(encap) != 1:
        raise d.Unsupported("encapContentInfo")
    certs: list[Certificate] = []
    crls: list[bytes] = []
    rest = parts[3:]
    if rest and rest[0][0] == 0xA0:
        for choice in d.children(der, rest[0]):
            if choice[0] == 0x30:
                certs.append(certificate_from_der(d.whole(der, choice)))
        rest = rest[1:]
    if rest and rest[0][0] == 0xA1:
        crls = [d.whole(der, c) for c in d.children(der, rest[0]) if c[0] == 0x30]
        rest = rest[1:]
    if len(rest) != 1:
        raise d.Unsupported("signerInfos")
    signers = [_fast_signer(der, tlv, i) for i, tlv in enumerate(d.children(der, d.expect(rest[0], 0x31)))]
    return ParsedCms(der, econtent_type, content, certs, crls, signers)


def _algorithm(der: bytes, tlv: _der.Tlv) -> tuple[str, bytes | None]:
    kids = _der.children(der, _der.expect(tlv, 0x30))
    if not 1 <= len(kids) <= 2:
        raise _der.Unsupported("AlgorithmIdentifier")
    params = None
    if len(kids) == 2 and _der.whole(der, kids[1]) != b"\x05\x00":
        params = _der.whole(der, kids[1])
    return _der.oid(der, kids[0]), params


def _fast_signer(der: bytes, tlv: _der.Tlv, index: int) -> SignerView:
    d = _der
    kids = d.children(der, d.expect(tlv, 0x30))
    if len(kids) < 5:
        raise d.Unsupported("short SignerInfo")
    d.integer(der, kids[0])
    sid = kids[1]
    issuer_der = serial = ski = None
    if sid[0] == 0x30:
        kind = "issuer_and_serial_number"
        name, number = d.children(der, sid)
        issuer_der = d.whole(der, d.expect(name, 0x30))
        serial = d.integer(der, number)
    elif sid[0] == 0x80:
        kind = "subject_key_identifier"
        ski = d.contents(der, sid)
    else:
        raise d.Unsupported("sid")
    digest_oid, _ = _algorithm(der, kids[2])
    pos = 3
    attrs_tlv = None
    if kids[pos][0] == 0xA0:
        attrs_tlv = kids[pos]
        pos += 1
    if len(kids) < pos + 2:
        raise d.Unsupported("SignerInfo")
    sig_oid, sig_params = _algorithm(der, kids[pos])
    signature = d.contents(der, d.expect(kids[pos + 1], 0x04))
    if len(kids) > pos + 3 or (len(kids) == pos + 3 and kids[pos + 2][0] != 0xA1):
        raise d.Unsupported("SignerInfo tail")
    view = SignerView(
        index=index,
        sid_kind=kind,
        sid_issuer_der=issuer_der,
        sid_serial=serial,
        sid_ski=ski,
        digest_oid=digest_oid,
        signature_oid=sig_oid,
        signature_params=sig_params,
        signature=signature,
        signed_attrs_der=None,
    )
    if attrs_tlv is not None:
        view.signed_attrs_der = b"\x31" + d.whole(der, attrs_tlv)[1:]
        _fast_attributes(der, attrs_tlv, view)
    return view


def _fast_attributes(der: bytes, attrs_tlv: _der.Tlv, view: SignerView) -> None:
    d = _der
    seen: set[str] = set()
    for attr in d.children(der, attrs_tlv):
        pair = d.children(der, d.expect(attr, 0x30))
        if len(pair) != 2:
            raise d.Unsupported("Attribute")
        oid = d.oid(der, pair[0])
        if oid in seen:
            raise d.Unsupported("repeated attribute")
        seen.add(oid)
        values = d.children(der, d.expect(pair[1], 0x31))
        if oid not in (_CONTENT_TYPE, _MESSAGE_DIGEST, _SIGNING_TIME, _SIGNING_CERTIFICATE, _SIGNING_CERTIFICATE_V2):
            continue
        if len(values) != 1:
            raise d.Unsupported("attribute with several values")
        value = values[0]
        if oid == _CONTENT_TYPE:
            view.content_type = d.oid(der, value)
        elif oid == _MESSAGE_DIGEST:
            view.message_digest = d.contents(der, d.expect(value, 0x04))
        elif oid == _SIGNING_TIME:
            if value[0] == 0x17:
                view.signing_time = _utc_time(d.contents(der, value)) or core.UTCTime.load(d.whole(der, value)).native
            elif value[0] == 0x18:
                view.signing_time = core.GeneralizedTime.load(d.whole(der, value)).native
            else:
                raise d.Unsupported("signingTime")
        else:
            view.has_signing_certificate = True
            certs = d.children(der, d.expect(value, 0x30))
            for ess in d.children(der, d.expect(certs[0], 0x30)):
                view.ess_cert_ids.append(_fast_ess(der, ess, v2=oid == _SIGNING_CERTIFICATE_V2))


def _utc_time(raw: bytes) -> datetime | None:
    """The DER form YYMMDDHHMMSSZ (RFC 5280 §4.1.2.5.1) read directly; None for any other form."""
    if len(raw) != 13 or raw[12:] != b"Z" or not raw[:12].isdigit():
        return None
    yy, mo, dd, hh, mi, ss = (int(raw[i : i + 2]) for i in range(0, 12, 2))
    try:
        return datetime(1900 + yy if yy >= 50 else 2000 + yy, mo, dd, hh, mi, ss, tzinfo=UTC)
    except ValueError:
        return None


def _fast_ess(der: bytes, tlv: _der.Tlv, *, v2: bool) -> EssCertId:
    d = _der
    kids = d.children(der, d.expect(tlv, 0x30))
    hash_oid = _SHA256 if v2 else _SHA1
    pos = 0
    if v2 and kids and kids[0][0] == 0x30:
        hash_oid, _ = _algorithm(der, kids[0])
        pos = 1
    if pos >= len(kids):
        raise d.Unsupported("ESSCertID")
    cert_hash = d.contents(der, d.expect(kids[pos], 0x04))
    serial = None
    if pos + 1 < len(kids):
        issuer_serial = d.children(der, d.expect(kids[pos + 1], 0x30))
        if len(issuer_serial) != 2:
            raise d.Unsupported("IssuerSerial")
        serial = d.integer(der, issuer_serial[1])
    return EssCertId(hash_oid, cert_hash, serial)


# -- the asn1crypto path -----------------------------------------------------------------------


def _parse_asn1crypto(der: bytes) -> ParsedCms:
    try:
        info = cms.ContentInfo.load(der, strict=True)
        ctype = info["content_type"].dotted
    except (ValueError, TypeError, KeyError) as exc:
        raise CmsFormatError(f"not a CMS structure: {exc}") from exc
    if ctype != SIGNED_DATA_OID:
        raise CmsFormatError(f"CMS content type {ctype} is not SignedData", SignatureErrorCode.WRONG_SIGNATURE_FORMAT)
    try:
        sd = info["content"]
        encap = sd["encap_content_info"]
        econtent_type: str = encap["content_type"].dotted
        econtent = encap["content"]
        content = None if isinstance(econtent, core.Void) else _octets(econtent)
        certs: list[Certificate] = []
        for choice in sd["certificates"] or []:
            if choice.name == "certificate":
                certs.append(certificate_from_der(choice.chosen.dump()))
        crls = [c.chosen.dump() for c in sd["crls"] or [] if c.name == "certificate_list"]
        signers = [_signer_view(i, si) for i, si in enumerate(sd["signer_infos"])]
    except CmsFormatError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise CmsFormatError(f"malformed SignedData: {exc}") from exc
    return ParsedCms(der, econtent_type, content, certs, crls, signers)


def _octets(econtent: Any) -> bytes:
    """The eContent octets, joined if the sender used constructed (BER) encoding."""
    value = econtent.native
    if isinstance(value, bytes):
        return value
    contents: bytes = econtent.contents
    return contents


def _single(attr: Any) -> Any:
    values = attr["values"]
    if len(values) != 1:
        raise CmsFormatError(f"signed attribute {attr['type'].dotted} must have exactly one value")
    return values[0]


def _signer_view(index: int, si: Any) -> SignerView:
    sid = si["sid"]
    issuer_der = serial = ski = None
    if sid.name == "issuer_and_serial_number":
        issuer_der = sid.chosen["issuer"].dump()
        serial = sid.chosen["serial_number"].native
    else:
        ski = sid.chosen.native
    sig_alg = si["signature_algorithm"]
    signed_attrs = si["signed_attrs"]
    view = SignerView(
        index=index,
        sid_kind=sid.name,
        sid_issuer_der=issuer_der,
        sid_serial=serial,
        sid_ski=ski,
        digest_oid=si["digest_algorithm"]["algorithm"].dotted,
        signature_oid=sig_alg["algorithm"].dotted,
        signature_params=algorithm_parameters_der(sig_alg),
        signature=si["signature"].native,
        signed_attrs_der=None,
    )
    if isinstance(signed_attrs, core.Void):
        return view
    raw = signed_attrs.dump()
    # The signature covers the attributes with their universal SET tag, not the [0] implicit tag.
    view.signed_attrs_der = b"\x31" + raw[1:]
    seen: set[str] = set()
    for attr in signed_attrs:
        oid = attr["type"].dotted
        if oid in seen:
            raise CmsFormatError(f"signed attribute {oid} appears twice")
        seen.add(oid)
        name = attr["type"].native
        if name == "content_type":
            view.content_type = _single(attr).dotted
        elif name == "message_digest":
            view.message_digest = _single(attr).native
        elif name == "signing_time":
            view.signing_time = _single(attr).native
        elif name == "signing_certificate_v2":
            view.has_signing_certificate = True
            for ess in _single(attr)["certs"]:
                view.ess_cert_ids.append(_ess(ess, ess["hash_algorithm"]["algorithm"].dotted))
        elif name == "signing_certificate":
            view.has_signing_certificate = True
            for ess in _single(attr)["certs"]:
                view.ess_cert_ids.append(_ess(ess, "1.3.14.3.2.26"))
    return view


def _ess(ess: Any, hash_oid: str) -> EssCertId:
    issuer_serial = ess["issuer_serial"]
    serial = None if isinstance(issuer_serial, core.Void) else issuer_serial["serial_number"].native
    return EssCertId(hash_oid, ess["cert_hash"].native, serial)


def find_signer_certificate(view: SignerView, candidates: Sequence[Certificate]) -> Certificate | None:
    """The certificate the SignerInfo's sid names, among ``candidates`` (CMS's own first)."""
    for cert in candidates:
        if view.sid_kind == "issuer_and_serial_number":
            if cert.serial == view.sid_serial and cert.issuer_der == view.sid_issuer_der:
                return cert
        elif cert.ski is not None and cert.ski == view.sid_ski:
            return cert
    return None


def check_integrity(
    view: SignerView,
    cert: Certificate,
    econtent_type: str,
    content_digest: Callable[[algorithms.DigestAlgorithm], bytes],
) -> algorithms.SignatureAlgorithm:
    """Check that ``view`` signs the content with ``cert``'s key. Returns the scheme it used.

    ``content_digest`` returns the content's digest for an algorithm (the caller memoises it, so
    the content is hashed once however many signers there are). Raises UnsupportedAlgorithm,
    DigestMismatch, SignerCertificateMismatch, CmsFormatError or InvalidSignature.
    """
    key = cert.public_key
    scheme = algorithms.resolve_signature_algorithm(view.signature_oid, view.signature_params, key, view.digest_oid)
    digest_alg = algorithms.digest_by_oid(view.digest_oid)
    content_hash = content_digest(digest_alg)
    if view.signed_attrs_der is None:
        if econtent_type != DATA_OID:
            raise CmsFormatError("signed attributes are required when the content type is not id-data")
        algorithms.verify_digest(key, scheme, content_hash, view.signature)
        return scheme
    if view.content_type is None or view.message_digest is None:
        raise CmsFormatError("signed attributes lack contentType or messageDigest")
    if view.content_type != econtent_type:
        raise DigestMismatch("contentType attribute differs from the encapsulated content type")
    if not hmac.compare_digest(view.message_digest, content_hash):
        raise DigestMismatch("messageDigest does not match the content")
    for ess in view.ess_cert_ids[:1]:  # the first ESSCertID identifies the signer's certificate
        ess_digest = algorithms.digest_by_oid(ess.hash_oid)
        if cert.digest(ess_digest.name, ess_digest.hash) != ess.cert_hash:
            raise SignerCertificateMismatch("signingCertificate attribute names another certificate")
    attrs_hash = digest_alg.hash(view.signed_attrs_der)
    algorithms.verify_digest(key, scheme, attrs_hash, view.signature)
    return scheme
