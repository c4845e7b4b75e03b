"""The test PKI on disk: a root CA, an issuing CA, issued certificates and their CRLs.

Never real keys: everything here is generated for the sandbox and tests. Layout of a PKI directory::

    pki.json            state: algorithm, issued certificates, revocations (no keys)
    root.pem root.key   self-signed root CA (certificate, PKCS#8 key)
    ca.pem ca.key       issuing CA, signed by the root
    chain.pem           the issuing CA certificate (pass to ``sign --chain`` or ``verify --cert``)
    trust/root.pem      the trust anchor directory (``verify --trust DIR/trust``)
    crl/ca.crl          CRL of the issuing CA (DER); crl/root.crl that of the root
    issued/<serial>.pem issued certificates, with <serial>.key next to them

Keys are PKCS#8 PEM, unencrypted (GOST keys in the OpenSSL GOST engine's layout, see ``keys``).
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.signatures._asn1 import der_to_pem
from gateway.signatures.certificates import Certificate, load_certificates
from gateway.signatures.keys import KEY_ALGORITHMS, PrivateKey, generate_key, load_private_key
from gateway.signatures.pki.builder import build_certificate, build_crl, build_name
from gateway.signatures.pki.profiles import PROFILES

__all__ = ["PKI_ALGORITHMS", "IssuedCertificate", "TestPki"]

PKI_ALGORITHMS = KEY_ALGORITHMS
CRL_BASE_URL = "http://pki.mse-gateway.invalid/crl"
SIGN_TOOL = "mse-gateway test PKI (НЕ ДЛЯ ПРОДУКТИВНОГО ИСПОЛЬЗОВАНИЯ)"
# КС1 class of qualified signature tools (TK26 / FSB 795)
RU_POLICY_KC1 = "1.2.643.100.113.1"
LEAF_LIFETIME = timedelta(days=456)  # 15 months, the usual Russian qualified certificate lifetime
# The CAs start three years back so that certificates issued "in the past" (for expiry tests, or
# documents signed last year) still chain to CAs that were valid at the time.
CA_BACKDATE = timedelta(days=3 * 365)
STATE_VERSION = 1


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    serial_hex: str
    profile: str
    certificate: Certificate
    key: PrivateKey
    cert_path: Path
    key_path: Path


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    tmp.replace(path)


def normalise_serial(serial: str) -> str:
    """Hex serial as we print it: lower case, no separators or 0x, even length."""
    text = serial.strip().lower().removeprefix("0x").replace(":", "").replace(" ", "")
    int(text, 16)  # ValueError when not hex
    text = text.lstrip("0") or "0"
    return text if len(text) % 2 == 0 else "0" + text


class TestPki:
    """A test PKI directory. ``TestPki.init`` creates one; ``TestPki(directory)`` opens one."""

    __test__ = False  # not a pytest test class

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        state_path = self.directory / "pki.json"
        if not state_path.is_file():
            raise FileNotFoundError(f"{self.directory} is not a test PKI directory (no pki.json)")
        self._state: dict[str, Any] = json.loads(state_path.read_text(encoding="utf-8"))
        self.algorithm: str = self._state["algorithm"]
        self.root = load_certificates((self.directory / "root.pem").read_bytes())[0]
        self.ca = load_certificates((self.directory / "ca.pem").read_bytes())[0]

    # -- paths ---------------------------------------------------------------------------------
    @property
    def trust_dir(self) -> Path:
        return self.directory / "trust"

    @property
    def chain_path(self) -> Path:
        return self.directory / "chain.pem"

    @property
    def crl_path(self) -> Path:
        return self.directory / "crl" / "ca.crl"

    @property
    def root_crl_path(self) -> Path:
        return self.directory / "crl" / "root.crl"

    def _key(self, name: str) -> PrivateKey:
        return load_private_key((self.directory / name).read_bytes())

    @property
    def ca_key(self) -> PrivateKey:
        return self._key("ca.key")

    @property
    def root_key(self) -> PrivateKey:
        return self._key("root.key")

    def _save(self) -> None:
        _write(
            self.directory / "pki.json",
            json.dumps(self._state, ensure_ascii=False, indent=2).encode("utf-8"),
        )

    # -- creation ------------------------------------------------------------------------------
    @classmethod
    def init(
        cls,
        directory: str | os.PathLike[str],
        algorithm: str = "gost2012-256",
        *,
        now: datetime | None = None,
        name: str = "mse-gateway",
    ) -> TestPki:
        """Create root + issuing CA in ``directory`` (must not already hold a PKI)."""
        if algorithm not in PKI_ALGORITHMS:
            raise ValueError(f"unknown algorithm {algorithm!r}; one of {', '.join(PKI_ALGORITHMS)}")
        path = Path(directory)
        if (path / "pki.json").exists():
            raise FileExistsError(f"{path} already holds a test PKI")
        now = now or _now()
        country = "KZ" if algorithm == "gost2015-kz-512" else "RU"
        root_key = generate_key(algorithm)
        root_name = build_name(
            [
                ("2.5.4.6", country),
                ("2.5.4.10", f"{name} test PKI"),
                ("2.5.4.3", f"Тестовый корневой УЦ {name} (НЕ ДЛЯ ПРОДУКТИВА)"),
            ]
        )
        root = build_certificate(
            subject=root_name,
            subject_key=root_key.public,
            issuer_key=root_key,
            issuer=None,
            serial=_serial(),
            not_before=now - CA_BACKDATE,
            not_after=now + timedelta(days=3650),
            ca=True,
            key_usage=("key_cert_sign", "crl_sign", "digital_signature"),
            sign_tool=SIGN_TOOL if country == "RU" else None,
        )
        ca_key = generate_key(algorithm)
        ca_name = build_name(
            [
                ("2.5.4.6", country),
                ("2.5.4.10", f"{name} test PKI"),
                ("2.5.4.3", f"Тестовый УЦ {name} (НЕ ДЛЯ ПРОДУКТИВА)"),
            ]
        )
        ca = build_certificate(
            subject=ca_name,
            subject_key=ca_key.public,
            issuer_key=root_key,
            issuer=root,
            serial=_serial(),
            not_before=now - CA_BACKDATE,
            not_after=now + timedelta(days=1825),
            ca=True,
            path_length=0,
            key_usage=("key_cert_sign", "crl_sign", "digital_signature"),
            crl_urls=(f"{CRL_BASE_URL}/root.crl",),
            sign_tool=SIGN_TOOL if country == "RU" else None,
        )
        _write(path / "root.pem", der_to_pem(root.der, "CERTIFICATE"))
        _write(path / "root.key", root_key.to_pem(), private=True)
        _write(path / "ca.pem", der_to_pem(ca.der, "CERTIFICATE"))
        _write(path / "ca.key", ca_key.to_pem(), private=True)
        _write(path / "chain.pem", der_to_pem(ca.der, "CERTIFICATE"))
        _write(path / "trust" / "root.pem", der_to_pem(root.der, "CERTIFICATE"))
        state = {
            "version": STATE_VERSION,
            "algorithm": algorithm,
            "created": now.isoformat(),
            "root_serial": root.serial_hex,
            "ca_serial": ca.serial_hex,
            "crl_number": 0,
            "issued": [],
            "revoked": [],
        }
        _write(path / "pki.json", json.dumps(state, ensure_ascii=False, indent=2).encode("utf-8"))
        pki = cls(path)
        pki.write_crls(now=now)
        return pki

    # -- issuing -------------------------------------------------------------------------------
    def issue(
        self,
        profile: str,
        fields: dict[str, str | None] | None = None,
        *,
        algorithm: str | None = None,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> IssuedCertificate:
        """Issue a certificate of ``profile`` with a fresh key (algorithm defaults to the PKI's)."""
        try:
            prof = PROFILES[profile]
        except KeyError:
            raise ValueError(f"unknown profile {profile!r}; one of {', '.join(PROFILES)}") from None
        subject = prof.subject(fields or {})
        key = generate_key(algorithm or self.algorithm)
        start = not_before or (_now() - timedelta(days=1))
        end = not_after or (start + LEAF_LIFETIME)
        if end <= start:
            raise ValueError("not_after must be later than not_before")
        cert = build_certificate(
            subject=build_name(subject.attributes()),
            subject_key=key.public,
            issuer_key=self.ca_key,
            issuer=self.ca,
            serial=_serial(),
            not_before=start,
            not_after=end,
            key_usage=("digital_signature", "non_repudiation"),
            extended_key_usage=prof.extended_key_usage,
            crl_urls=(f"{CRL_BASE_URL}/ca.crl",),
            policies=(RU_POLICY_KC1,) if prof.country == "RU" else (),
            sign_tool=SIGN_TOOL if prof.country == "RU" else None,
        )
        cert_path = self.directory / "issued" / f"{cert.serial_hex}.pem"
        key_path = self.directory / "issued" / f"{cert.serial_hex}.key"
        _write(cert_path, der_to_pem(cert.der, "CERTIFICATE"))
        _write(key_path, key.to_pem(), private=True)
        self._state["issued"].append(
            {
                "serial_hex": cert.serial_hex,
                "profile": profile,
                "algorithm": algorithm or self.algorithm,
                "not_before": cert.not_before.isoformat(),
                "not_after": cert.not_after.isoformat(),
                "cert": str(cert_path.relative_to(self.directory)),
                "key": str(key_path.relative_to(self.directory)),
            }
        )
        self._save()
        return IssuedCertificate(cert.serial_hex, profile, cert, key, cert_path, key_path)

    # -- revocation ----------------------------------------------------------------------------
    def revoke(self, serial: str, *, reason: str | None = "key_compromise", at: datetime | None = None) -> str:
        """Revoke a certificate this PKI issued (or the issuing CA itself) and rewrite the CRLs.

        Returns the normalised serial. Raises KeyError for a serial the PKI does not know.
        """
        serial_hex = normalise_serial(serial)
        known = {item["serial_hex"] for item in self._state["issued"]} | {self._state["ca_serial"]}
        if serial_hex not in known:
            raise KeyError(f"serial {serial_hex} was not issued by this PKI")
        if any(r["serial_hex"] == serial_hex for r in self._state["revoked"]):
            return serial_hex
        when = (at or _now()).astimezone(UTC)
        self._state["revoked"].append({"serial_hex": serial_hex, "revoked_at": when.isoformat(), "reason": reason})
        self._save()
        self.write_crls()
        return serial_hex

    def write_crls(self, *, now: datetime | None = None, validity: timedelta = timedelta(days=30)) -> None:
        """(Re)write both CRLs, valid for ``validity`` (nextUpdate = now + validity)."""
        now = now or _now()
        self._state["crl_number"] += 1
        number = self._state["crl_number"]
        ca_serial = self._state["ca_serial"]
        revoked = [
            (int(r["serial_hex"], 16), datetime.fromisoformat(r["revoked_at"]), r["reason"])
            for r in self._state["revoked"]
        ]
        by_ca = [r for r in revoked if r[0] != int(ca_serial, 16)]
        by_root = [r for r in revoked if r[0] == int(ca_serial, 16)]
        next_update = now + validity
        _write(
            self.crl_path,
            build_crl(
                issuer=self.ca,
                issuer_key=self.ca_key,
                revoked=by_ca,
                this_update=now,
                next_update=next_update,
                number=number,
            ),
        )
        _write(
            self.root_crl_path,
            build_crl(
                issuer=self.root,
                issuer_key=self.root_key,
                revoked=by_root,
                this_update=now,
                next_update=next_update,
                number=number,
            ),
        )
        self._save()

    def issued(self) -> list[dict[str, Any]]:
        return list(self._state["issued"])

    def revoked(self) -> list[dict[str, Any]]:
        return list(self._state["revoked"])


def _serial() -> int:
    # 16 random bytes, positive, as public CAs do; top bit cleared so DER needs no sign byte
    return secrets.randbits(127) | (1 << 120)
