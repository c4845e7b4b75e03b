"""Making CMS SignedData / CAdES-BES signatures (detached or attached).

Signed attributes are contentType, signingTime, messageDigest and signingCertificateV2 (the
CAdES-BES set; REMD expects detached CAdES-BES). The ESSCertIDv2 hash is Streebog-256 for GOST
certificates (as CryptoPro writes it) and SHA-256 otherwise. GOST SignerInfos name the public-key OID
as signatureAlgorithm, as OpenSSL and CryptoPro do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asn1crypto.tsp  # noqa: F401 - registers signingCertificateV2 in asn1crypto
from asn1crypto import algos, cms, core, tsp, x509

from gateway.signatures import algorithms
from gateway.signatures._asn1 import der_to_pem
from gateway.signatures.certificates import Certificate
from gateway.signatures.keys import KeyKind, PrivateKey

__all__ = ["SignerSpec", "sign_cms", "sign_cms_multi"]


@dataclass(frozen=True, slots=True)
class SignerSpec:
    """One signer: key, its certificate, CA certificates to embed, and an optional fixed signing time."""

    key: PrivateKey
    certificate: Certificate
    chain: Sequence[Certificate] = field(default_factory=tuple)
    signing_time: datetime | None = None


def _digest_identifier(digest: algorithms.DigestAlgorithm) -> algos.DigestAlgorithm:
    return algos.DigestAlgorithm({"algorithm": digest.oid})


def _signing_certificate_v2(cert: Certificate, key: PrivateKey) -> cms.CMSAttribute:
    ess: dict[str, object] = {
        "issuer_serial": {
            "issuer": [x509.GeneralName(name="directory_name", value=cert.asn1.issuer)],
            "serial_number": cert.serial,
        }
    }
    if key.kind is KeyKind.GOST:
        h = algorithms.digest_by_name("streebog256")
        ess["hash_algorithm"] = {"algorithm": h.oid}
    else:
        h = algorithms.digest_by_name("sha256")  # the DEFAULT, so it is omitted from the encoding
    ess["cert_hash"] = h.hash(cert.der)
    value = tsp.SigningCertificateV2({"certs": [tsp.ESSCertIDv2(ess)]})
    return cms.CMSAttribute({"type": "signing_certificate_v2", "values": [value]})


def _signing_time_value(moment: datetime) -> core.Choice:
    moment = moment.astimezone(UTC).replace(microsecond=0)
    # RFC 5652: UTCTime for 1950-2049, GeneralizedTime otherwise
    if 1950 <= moment.year < 2050:
        return cms.Time(name="utc_time", value=moment)
    return cms.Time(name="general_time", value=moment)


def _signer_info(
    spec: SignerSpec,
    content: bytes,
    econtent_type: str,
    *,
    signed_attributes: bool,
    signing_certificate_v2: bool,
    content_digests: dict[str, bytes],
) -> tuple[cms.SignerInfo, algorithms.DigestAlgorithm]:
    if spec.key.public.spki != spec.certificate.spki_der:
        raise ValueError("the private key does not belong to the certificate")
    scheme = algorithms.default_signature_algorithm(spec.key.public)
    digest = scheme.digest
    if digest.name not in content_digests:
        content_digests[digest.name] = digest.hash(content)
    content_hash = content_digests[digest.name]

    sid = cms.SignerIdentifier(
        name="issuer_and_serial_number",
        value={"issuer": spec.certificate.asn1.issuer, "serial_number": spec.certificate.serial},
    )
    sig_alg: dict[str, object] = {"algorithm": scheme.cms_oid}
    if scheme.family == "rsa":
        sig_alg["parameters"] = core.Null()
    info: dict[str, object] = {
        "version": "v1",
        "sid": sid,
        "digest_algorithm": _digest_identifier(digest),
        "signature_algorithm": algos.SignedDigestAlgorithm(sig_alg),
    }
    if signed_attributes:
        attrs = [
            cms.CMSAttribute({"type": "content_type", "values": [econtent_type]}),
            cms.CMSAttribute(
                {"type": "signing_time", "values": [_signing_time_value(spec.signing_time or datetime.now(UTC))]}
            ),
            cms.CMSAttribute({"type": "message_digest", "values": [content_hash]}),
        ]
        if signing_certificate_v2:
            attrs.append(_signing_certificate_v2(spec.certificate, spec.key))
        # DER: a SET OF is sorted by the encodings of its elements
        attrs.sort(key=lambda a: a.dump())
        signed = cms.CMSAttributes(attrs)
        to_sign = digest.hash(signed.dump())
        info["signed_attrs"] = signed
    else:
        if econtent_type != "data":
            raise ValueError("signing without signed attributes needs id-data content")
        to_sign = content_hash
    info["signature"] = algorithms.sign_digest(spec.key, scheme, to_sign)
    return cms.SignerInfo(info), digest


def sign_cms_multi(
    content: bytes,
    signers: Sequence[SignerSpec],
    *,
    attached: bool = False,
    signed_attributes: bool = True,
    signing_certificate_v2: bool = True,
    embed_certificates: bool = True,
    pem: bool = False,
) -> bytes:
    """A SignedData with one SignerInfo per signer over the same content (hashed once per digest).

    ``embed_certificates=False`` leaves the certificates out (the verifier must then be given them).
    Returns DER (or PEM ``CMS`` when ``pem``). Raises ValueError if a key does not match its
    certificate.
    """
    if not signers:
        raise ValueError("at least one signer is required")
    content_digests: dict[str, bytes] = {}
    signer_infos = []
    digest_algs: dict[str, algorithms.DigestAlgorithm] = {}
    certs: dict[bytes, Certificate] = {}
    for spec in signers:
        info, digest = _signer_info(
            spec,
            content,
            "data",
            signed_attributes=signed_attributes,
            signing_certificate_v2=signing_certificate_v2,
            content_digests=content_digests,
        )
        signer_infos.append(info)
        digest_algs[digest.oid] = digest
        for cert in (spec.certificate, *spec.chain):
            certs.setdefault(cert.fingerprint, cert)
    encap: dict[str, object] = {"content_type": "data"}
    if attached:
        encap["content"] = content
    body: dict[str, object] = {
        "version": "v1",
        "digest_algorithms": [_digest_identifier(d) for d in digest_algs.values()],
        "encap_content_info": encap,
        "signer_infos": signer_infos,
    }
    if embed_certificates:
        body["certificates"] = [cms.CertificateChoices(name="certificate", value=c.asn1) for c in certs.values()]
    signed_data = cms.SignedData(body)
    der: bytes = cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()
    return der_to_pem(der, "CMS") if pem else der


def sign_cms(
    content: bytes,
    key: PrivateKey,
    certificate: Certificate,
    *,
    chain: Sequence[Certificate] = (),
    attached: bool = False,
    signing_time: datetime | None = None,
    signed_attributes: bool = True,
    signing_certificate_v2: bool = True,
    embed_certificates: bool = True,
    pem: bool = False,
) -> bytes:
    """Sign ``content`` with one key: detached CAdES-BES by default (what REMD takes)."""
    return sign_cms_multi(
        content,
        [SignerSpec(key, certificate, tuple(chain), signing_time)],
        attached=attached,
        signed_attributes=signed_attributes,
        signing_certificate_v2=signing_certificate_v2,
        embed_certificates=embed_certificates,
        pem=pem,
    )
