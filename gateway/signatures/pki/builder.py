"""Building and signing certificates and CRLs with asn1crypto (any algorithm, GOST included).

``cryptography`` cannot sign GOST, so one builder serves every algorithm: the to-be-signed structure
is assembled with asn1crypto and signed through ``algorithms.sign_digest``, the same layer the
verifier uses.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import core, crl, keys, x509

from gateway.signatures import algorithms, oids
from gateway.signatures._asn1 import RawPublicKeyInfo, der_to_pem
from gateway.signatures.certificates import Certificate
from gateway.signatures.keys import PrivateKey, PublicKey, generate_key

__all__ = ["build_certificate", "build_crl", "build_name", "key_identifier", "write_self_signed_identity"]

_NUMERIC = frozenset({oids.RU_SNILS, oids.RU_INN, oids.RU_INNLE, oids.RU_OGRN, oids.RU_OGRNIP})
_PRINTABLE = frozenset({"2.5.4.6", "2.5.4.5"})
_EMAIL = "1.2.840.113549.1.9.1"


def _value(oid: str, value: str) -> core.Asn1Value:
    if oid in _NUMERIC:
        return core.NumericString(value)
    if oid == _EMAIL:
        return x509.EmailAddress(value)
    if oid in _PRINTABLE:
        return x509.DirectoryString(name="printable_string", value=value)
    return x509.DirectoryString(name="utf8_string", value=value)


def build_name(attributes: Sequence[tuple[str, str]]) -> x509.Name:
    """A Name with one attribute per RDN, in the given order, with the encodings CAs use
    (NumericString for SNILS/INN/OGRN, PrintableString for C and serialNumber, UTF8String else)."""
    rdns = [
        x509.RelativeDistinguishedName([x509.NameTypeAndValue({"type": oid, "value": _value(oid, value)})])
        for oid, value in attributes
    ]
    return x509.Name(name="", value=x509.RDNSequence(rdns))


def key_identifier(key: PublicKey) -> bytes:
    """RFC 5280 method 1: SHA-1 of the subjectPublicKey BIT STRING contents."""
    bits: bytes = RawPublicKeyInfo.load(key.spki)["public_key"].native
    return hashlib.sha1(bits, usedforsecurity=False).digest()


def _time(moment: datetime) -> x509.Time:
    if 1950 <= moment.year < 2050:
        return x509.Time(name="utc_time", value=moment.replace(microsecond=0))
    return x509.Time(name="general_time", value=moment.replace(microsecond=0))


def _signature_identifier(scheme: algorithms.SignatureAlgorithm) -> dict[str, object]:
    ident: dict[str, object] = {"algorithm": scheme.x509_oid}
    if scheme.family == "rsa" or scheme.kazakh:
        ident["parameters"] = core.Null()  # RSA requires NULL; NCA writes NULL too
    return ident


def _sign(issuer_key: PrivateKey, tbs_der: bytes) -> tuple[dict[str, object], bytes]:
    scheme = algorithms.default_signature_algorithm(issuer_key.public)
    signature = algorithms.sign_digest(issuer_key, scheme, scheme.digest.hash(tbs_der))
    return _signature_identifier(scheme), signature


def build_certificate(
    *,
    subject: x509.Name,
    subject_key: PublicKey,
    issuer_key: PrivateKey,
    issuer: Certificate | None,
    serial: int,
    not_before: datetime,
    not_after: datetime,
    ca: bool = False,
    path_length: int | None = None,
    key_usage: Sequence[str] = ("digital_signature", "non_repudiation"),
    extended_key_usage: Sequence[str] = (),
    crl_urls: Sequence[str] = (),
    policies: Sequence[str] = (),
    sign_tool: str | None = None,
) -> Certificate:
    """Issue a v3 certificate. ``issuer`` None means self-signed (``issuer_key`` is the subject's)."""
    ski = key_identifier(subject_key)
    issuer_name = subject if issuer is None else issuer.asn1.subject
    aki = ski if issuer is None else (issuer.ski or key_identifier(issuer.public_key))
    scheme_ident = _signature_identifier(algorithms.default_signature_algorithm(issuer_key.public))

    extensions: list[dict[str, object]] = [
        {
            "extn_id": "basic_constraints",
            "critical": True,
            "extn_value": {"ca": ca, "path_len_constraint": path_length} if ca else {"ca": False},
        },
        {"extn_id": "key_usage", "critical": True, "extn_value": set(key_usage)},
        {"extn_id": "key_identifier", "critical": False, "extn_value": ski},
        {"extn_id": "authority_key_identifier", "critical": False, "extn_value": {"key_identifier": aki}},
    ]
    if extended_key_usage:
        extensions.append({"extn_id": "extended_key_usage", "critical": False, "extn_value": list(extended_key_usage)})
    if crl_urls:
        extensions.append(
            {
                "extn_id": "crl_distribution_points",
                "critical": False,
                "extn_value": [
                    {
                        "distribution_point": x509.DistributionPointName(
                            name="full_name",
                            value=[x509.GeneralName(name="uniform_resource_identifier", value=u) for u in crl_urls],
                        )
                    }
                ],
            }
        )
    if policies:
        extensions.append(
            {
                "extn_id": "certificate_policies",
                "critical": False,
                "extn_value": [{"policy_identifier": p} for p in policies],
            }
        )
    if sign_tool:
        # subjectSignTool (1.2.643.100.111), mandatory in Russian qualified certificates
        extensions.append(
            {
                "extn_id": oids.RU_SUBJECT_SIGN_TOOL,
                "critical": False,
                "extn_value": core.UTF8String(sign_tool).dump(),
            }
        )
    tbs = x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": serial,
            "signature": scheme_ident,
            "issuer": issuer_name,
            "validity": {"not_before": _time(not_before), "not_after": _time(not_after)},
            "subject": subject,
            "subject_public_key_info": keys.PublicKeyInfo.load(subject_key.spki),
            "extensions": extensions,
        }
    )
    tbs_der = tbs.dump()
    ident, signature = _sign(issuer_key, tbs_der)
    cert = x509.Certificate({"tbs_certificate": tbs, "signature_algorithm": ident, "signature_value": signature})
    return Certificate(cert.dump())


def build_crl(
    *,
    issuer: Certificate,
    issuer_key: PrivateKey,
    revoked: Sequence[tuple[int, datetime, str | None]],
    this_update: datetime,
    next_update: datetime,
    number: int,
) -> bytes:
    """A v2 CRL (DER) listing ``revoked`` (serial, date, reason name or None)."""
    entries = []
    for serial, when, reason in revoked:
        entry: dict[str, object] = {"user_certificate": serial, "revocation_date": _time(when)}
        if reason:
            entry["crl_entry_extensions"] = [{"extn_id": "crl_reason", "extn_value": reason}]
        entries.append(entry)
    aki = issuer.ski or key_identifier(issuer.public_key)
    scheme_ident = _signature_identifier(algorithms.default_signature_algorithm(issuer_key.public))
    tbs_dict: dict[str, object] = {
        "version": "v2",
        "signature": scheme_ident,
        "issuer": issuer.asn1.subject,
        "this_update": _time(this_update),
        "next_update": _time(next_update),
        "crl_extensions": [
            {"extn_id": "crl_number", "extn_value": number},
            {"extn_id": "authority_key_identifier", "extn_value": {"key_identifier": aki}},
        ],
    }
    if entries:
        tbs_dict["revoked_certificates"] = entries
    tbs = crl.TbsCertList(tbs_dict)
    ident, signature = _sign(issuer_key, tbs.dump())
    der: bytes = crl.CertificateList(
        {"tbs_cert_list": tbs, "signature_algorithm": ident, "signature": signature}
    ).dump()
    return der


def write_self_signed_identity(
    directory: Path, stem: str, *, algorithm: str, common_name: str, years: int = 10
) -> tuple[Path, Path]:
    """A fresh self-signed key and certificate for a sandbox information system: the key as PKCS#8
    PEM ``<stem>-key.pem`` (mode 0600, never readable by others even for a moment) and the
    certificate as ``<stem>.pem`` under ``directory``. Returns (key path, certificate path)."""
    key = generate_key(algorithm)
    now = datetime.now(UTC)
    cert = build_certificate(
        subject=build_name([("2.5.4.3", common_name), ("2.5.4.10", "mse-gateway sandbox")]),
        subject_key=key.public,
        issuer_key=key,
        issuer=None,
        serial=secrets.randbits(63),
        not_before=now - timedelta(days=1),
        not_after=now + timedelta(days=365 * years),
    )
    directory.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = directory / f"{stem}-key.pem", directory / f"{stem}.pem"
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.to_pem())
    cert_path.write_bytes(der_to_pem(cert.der, "CERTIFICATE"))
    return key_path, cert_path
