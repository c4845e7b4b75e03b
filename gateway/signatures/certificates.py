"""X.509 certificates: parsing once, the fields the gateway needs, and the signer's identity.

``Certificate`` wraps an asn1crypto certificate and pre-computes what verification reads again and
again (names as DER, validity, key usage, key identifiers); the public key is parsed on first use
through ``keys.parse_public_key`` (GOST included, which asn1crypto cannot parse).

Thread safety: one ``Certificate`` is shared by every verification thread (``certificate_from_der``
caches them, trust stores hold them). asn1crypto parses a SEQUENCE's children on first access and
publishes the list *before* filling it, so two threads walking the same not-yet-parsed node race:
one gets ``KeyError: No field numbered N is present`` or, silently, a shortened list. So nothing
here walks the shared tree after ``__init__``: what is derived later (names, identity, CRL URLs)
is read from a private parse of the DER made by the calling thread, and stored only once complete.

``SignerIdentity`` extracts the Russian qualified-certificate attributes (SNILS, OGRN, OGRNIP, INN,
INNLE, position) and the Kazakh NCA ones (IIN in serialNumber, BIN in OU, holder roles in EKU).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from asn1crypto import cms, x509

from gateway.signatures import oids
from gateway.signatures._asn1 import algorithm_parameters_der, pem_blocks
from gateway.signatures.keys import PublicKey, parse_public_key

__all__ = [
    "Certificate",
    "SignerIdentity",
    "certificate_from_der",
    "format_name",
    "load_certificates",
]

# Extensions we either process or know to be safe to ignore; any other critical extension makes a
# certificate unusable for path validation (RFC 5280 §4.2).
KNOWN_EXTENSIONS = frozenset(
    {
        "2.5.29.14",  # subjectKeyIdentifier
        "2.5.29.15",  # keyUsage
        "2.5.29.16",  # privateKeyUsagePeriod
        "2.5.29.17",  # subjectAltName
        "2.5.29.18",  # issuerAltName
        "2.5.29.19",  # basicConstraints
        "2.5.29.31",  # cRLDistributionPoints
        "2.5.29.32",  # certificatePolicies (any policy accepted)
        "2.5.29.35",  # authorityKeyIdentifier
        "2.5.29.37",  # extKeyUsage
        "2.5.29.46",  # freshestCRL
        "1.3.6.1.5.5.7.1.1",  # authorityInfoAccess
        oids.RU_SUBJECT_SIGN_TOOL,
        oids.RU_ISSUER_SIGN_TOOLS,
    }
)


def _value_text(value: Any) -> str:
    try:
        native = value.native
    except (ValueError, TypeError):
        return "#" + binascii.hexlify(value.dump()).decode("ascii")
    if isinstance(native, str):
        return native
    if isinstance(native, bytes):
        return "#" + binascii.hexlify(native).decode("ascii")
    return str(native)


def _name_attributes(name: x509.Name) -> list[list[tuple[str, str]]]:
    """RDNs in encoded order, each a list of (OID, text value)."""
    rdns: list[list[tuple[str, str]]] = []
    for rdn in name.chosen:
        rdns.append([(ntv["type"].dotted, _value_text(ntv["value"])) for ntv in rdn])
    return rdns


def _escape(value: str) -> str:
    out = value.replace("\\", "\\\\")
    for ch in ',+"<>;=':
        out = out.replace(ch, "\\" + ch)
    if out.startswith((" ", "#")):
        out = "\\" + out
    if out.endswith(" "):
        out = out[:-1] + "\\ "
    return out


def format_name(name: x509.Name) -> str:
    """RFC 4514-style string (last RDN first), with the Russian attributes named (SNILS=, OGRN=…)."""
    parts = []
    for rdn in reversed(_name_attributes(name)):
        parts.append("+".join(f"{oids.NAME_ATTRIBUTES.get(oid, oid)}={_escape(v)}" for oid, v in rdn))
    return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class SignerIdentity:
    """Who a certificate names. Contains personal data: never log it."""

    subject: str
    common_name: str | None = None
    surname: str | None = None
    given_name: str | None = None
    title: str | None = None
    organization: str | None = None
    organizational_unit: str | None = None
    country: str | None = None
    locality: str | None = None
    email: str | None = None
    snils: str | None = None
    ogrn: str | None = None
    ogrnip: str | None = None
    inn: str | None = None
    inn_le: str | None = None
    iin: str | None = None
    bin: str | None = None
    kz_roles: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kz_roles"] = list(self.kz_roles)
        return data


def _strip_prefix(value: str | None, prefix: str) -> str | None:
    if value is None or not value.upper().startswith(prefix):
        return None
    rest = value[len(prefix) :]
    return rest if rest.isdigit() else None


class Certificate:
    """One parsed X.509 certificate. Immutable after construction; share freely between threads."""

    __slots__ = (
        "_attrs",
        "_hashes",
        "_identity",
        "_issuer",
        "_subject",
        "aki",
        "asn1",
        "der",
        "extended_key_usage",
        "fingerprint",
        "is_ca",
        "issuer_der",
        "key_usage",
        "not_after",
        "not_before",
        "path_length",
        "serial",
        "signature_algorithm_oid",
        "signature_parameters",
        "signature_value",
        "ski",
        "spki_der",
        "subject_der",
        "tbs_der",
        "unknown_critical_extensions",
        "version",
    )

    def __init__(self, der: bytes) -> None:
        """Parse DER; raises ValueError when it is not a certificate."""
        try:
            cert = x509.Certificate.load(der)
            tbs = cert["tbs_certificate"]
            self.serial: int = tbs["serial_number"].native
            self.version: str = tbs["version"].native  # "v1" | "v2" | "v3"
            self.subject_der: bytes = tbs["subject"].dump()
            self.issuer_der: bytes = tbs["issuer"].dump()
            self.not_before: datetime = tbs["validity"]["not_before"].native
            self.not_after: datetime = tbs["validity"]["not_after"].native
            self.tbs_der: bytes = tbs.dump()
            self.spki_der: bytes = tbs["subject_public_key_info"].dump()
            sig_alg = cert["signature_algorithm"]
            self.signature_algorithm_oid: str = sig_alg["algorithm"].dotted
            self.signature_parameters: bytes | None = algorithm_parameters_der(sig_alg)
            self.signature_value: bytes = cert["signature_value"].native
            ku = cert.key_usage_value
            self.key_usage: frozenset[str] | None = None if ku is None else frozenset(ku.native)
            eku = cert.extended_key_usage_value
            self.extended_key_usage: tuple[str, ...] = () if eku is None else tuple(p.dotted for p in eku)
            bc = cert.basic_constraints_value
            self.is_ca: bool = bool(bc is not None and bc["ca"].native)
            self.path_length: int | None = None if bc is None else bc["path_len_constraint"].native
            ski = cert.key_identifier_value
            self.ski: bytes | None = None if ski is None else ski.native
            aki = cert.authority_key_identifier_value
            self.aki: bytes | None = None if aki is None else aki["key_identifier"].native
            self.unknown_critical_extensions: tuple[str, ...] = tuple(
                ext["extn_id"].dotted
                for ext in tbs["extensions"]
                if ext["critical"].native and ext["extn_id"].dotted not in KNOWN_EXTENSIONS
            )
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"not an X.509 certificate: {exc}") from exc
        self.der = der
        # The parsed tree, for building new structures (signing, the test PKI). Verification code
        # must not walk it from worker threads: see the module docstring; use _private_tree().
        self.asn1 = cert
        self.fingerprint = hashlib.sha256(der).digest()
        self._attrs: list[list[tuple[str, str]]] | None = None
        # Derived strings are cached: the report asks for them on every verification.
        self._subject: str | None = None
        self._issuer: str | None = None
        self._identity: SignerIdentity | None = None
        self._hashes: dict[str, bytes] = {}

    def __repr__(self) -> str:  # no names: they are personal data
        return f"<Certificate serial={self.serial_hex} sha256={self.fingerprint.hex()[:16]}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Certificate) and other.der == self.der

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    @property
    def serial_hex(self) -> str:
        text = format(self.serial, "x")
        return text if len(text) % 2 == 0 else "0" + text

    @property
    def public_key(self) -> PublicKey:
        """The subject's key (parsed once per process). Raises UnsupportedAlgorithm or ValueError."""
        return parse_public_key(self.spki_der)

    def _private_tree(self) -> x509.Certificate:
        """A parse of this certificate that only the calling thread sees (see the module docstring).
        Loading is lazy and cheap: only the parts read afterwards get parsed."""
        return x509.Certificate.load(self.der)

    @property
    def subject(self) -> str:
        if self._subject is None:
            self._subject = format_name(x509.Name.load(self.subject_der))
        return self._subject

    @property
    def issuer(self) -> str:
        if self._issuer is None:
            self._issuer = format_name(x509.Name.load(self.issuer_der))
        return self._issuer

    def digest(self, name: str, function: Callable[[bytes], bytes]) -> bytes:
        """Hash of the DER certificate with ``function`` (memoised under ``name``), for ESSCertID."""
        value = self._hashes.get(name)
        if value is None:
            value = self._hashes[name] = function(self.der)
        return value

    @property
    def self_issued(self) -> bool:
        return self.subject_der == self.issuer_der

    def valid_at(self, moment: datetime) -> bool:
        return self.not_before <= moment <= self.not_after

    def crl_urls(self) -> list[str]:
        """HTTP(S) URLs from cRLDistributionPoints (fullName URIs only)."""
        points = self._private_tree().crl_distribution_points_value
        urls: list[str] = []
        for point in points or []:
            dp = point["distribution_point"]
            if dp.name != "full_name":
                continue
            for general in dp.chosen:
                if general.name == "uniform_resource_identifier" and general.native.startswith("http"):
                    urls.append(general.native)
        return urls

    def _subject_attrs(self) -> list[list[tuple[str, str]]]:
        if self._attrs is None:
            self._attrs = _name_attributes(x509.Name.load(self.subject_der))
        return self._attrs

    def subject_values(self, oid: str) -> list[str]:
        return [v for rdn in self._subject_attrs() for t, v in rdn if t == oid]

    def _first(self, oid: str) -> str | None:
        values = self.subject_values(oid)
        return values[0] if values else None

    def identity(self) -> SignerIdentity:
        """The holder's identity: Russian qualified-certificate and Kazakh NCA attributes."""
        if self._identity is None:
            self._identity = self._extract_identity()
        return self._identity

    def _extract_identity(self) -> SignerIdentity:
        email = self._first("1.2.840.113549.1.9.1")
        if email is None:
            san = self._private_tree().subject_alt_name_value
            for general in san or []:
                if general.name == "rfc822_name":
                    email = general.native
                    break
        serial_number = self._first("2.5.4.5")
        units = self.subject_values("2.5.4.11")
        bin_value = next((b for b in (_strip_prefix(u, "BIN") for u in units) if b), None)
        if bin_value is None:
            bin_value = _strip_prefix(serial_number, "BIN")
        return SignerIdentity(
            subject=self.subject,
            common_name=self._first("2.5.4.3"),
            surname=self._first("2.5.4.4"),
            given_name=self._first("2.5.4.42"),
            title=self._first("2.5.4.12"),
            organization=self._first("2.5.4.10"),
            organizational_unit=", ".join(units) or None,
            country=self._first("2.5.4.6"),
            locality=self._first("2.5.4.7"),
            email=email,
            snils=self._first(oids.RU_SNILS),
            ogrn=self._first(oids.RU_OGRN),
            ogrnip=self._first(oids.RU_OGRNIP),
            inn=self._first(oids.RU_INN),
            inn_le=self._first(oids.RU_INNLE),
            iin=_strip_prefix(serial_number, "IIN"),
            bin=bin_value,
            kz_roles=tuple(oids.KZ_ROLE_NAMES[o] for o in self.extended_key_usage if o in oids.KZ_ROLE_NAMES),
        )


@functools.lru_cache(maxsize=2048)
def certificate_from_der(der: bytes) -> Certificate:
    """Parse (cached by content): the same CA and signer certificates arrive again and again."""
    return Certificate(der)


def _from_cms_certificates(certs: Iterable[Any]) -> list[Certificate]:
    out = []
    for choice in certs:
        if choice.name == "certificate":
            out.append(certificate_from_der(choice.chosen.dump()))
    return out


def load_certificates(data: bytes) -> list[Certificate]:
    """Every certificate in ``data``: PEM (one or many), DER, or a PKCS#7 certs-only bundle.

    Raises ValueError when nothing in ``data`` is a certificate.
    """
    blocks = pem_blocks(data)
    if blocks:
        ders = [der for _label, der in blocks]
    elif data[:1] == b"\x30":
        ders = [data]
    else:  # bare base64, as certificates travel in SOAP envelopes
        try:
            ders = [base64.b64decode(b"".join(data.split()), validate=True)]
        except (binascii.Error, ValueError):
            raise ValueError("no certificate found") from None
    out: list[Certificate] = []
    for der in ders:
        try:
            out.append(certificate_from_der(der))
            continue
        except ValueError:
            pass
        try:
            info = cms.ContentInfo.load(der)
            if info["content_type"].native == "signed_data":
                out.extend(_from_cms_certificates(info["content"]["certificates"] or []))
        except (ValueError, TypeError, KeyError):
            continue
    if not out:
        raise ValueError("no certificate found")
    return out
