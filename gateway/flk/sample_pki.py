"""The signers of generated submissions: one test PKI with a certificate per role, issued once.

``SampleSigners.open_or_create(DIR)`` makes (first time) or opens a test PKI in ``DIR`` with the
certificates every sample needs — the MO's VK chair, a doctor (a non-chair, for role tests), the MO's
organisation certificate and a foreign MO's, the bureau head, an MSE official, the bureau's
organisation certificate, and three Kazakh certificates (a VKK chair's individual certificate with
EKU 1.2.398.3.3.4.1.1, a legal-entity employee's, which may not sign 031/у, and ЦБДИ's expert's
individual certificate, which signs the twin's conclusions). Keys are reused for
every document: issuing is slow, signing with a :class:`~gateway.flk.fastsign.CmsTemplate` is fast.
"""

from __future__ import annotations

import json
import os
import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from gateway.documents import identifiers as ids
from gateway.flk.fastsign import CmsTemplate
from gateway.signatures import Certificate, PrivateKey, SignerIdentity, load_certificates, load_private_key
from gateway.signatures.pki import IssuedCertificate, TestPki

__all__ = ["ROLES", "SampleSigners"]

_STATE = "sample-roles.json"
# Certificates start this long before "now": documents created up to a few weeks ago still fall
# inside their validity (the dates rule checks the creation date, not only the signing time).
CERT_BACKDATE: Final = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class _RoleSpec:
    profile: str
    org: str  # "mo" | "bureau" | "foreign-mo" | "kz"
    algorithm: str | None = None
    fields: tuple[tuple[str, str], ...] = ()


ROLES: Final[dict[str, _RoleSpec]] = {
    "vk-chair": _RoleSpec("vk-chair", "mo"),
    "doctor": _RoleSpec("doctor", "mo"),
    "mo-org": _RoleSpec("mo-org", "mo"),
    "foreign-mo-org": _RoleSpec(
        "mo-org", "foreign-mo", fields=(("organization", "ГБУЗ «Тестовая больница № 9» (ТЕСТ)"),)
    ),
    "mse-head": _RoleSpec("mse-head", "bureau"),
    "mse-official": _RoleSpec("mse-official", "bureau"),
    "mse-org": _RoleSpec("mse-org", "bureau"),
    "kz-vkk-chair": _RoleSpec(
        "kz-individual",
        "kz",
        algorithm="gost2015-kz-512",
        fields=(("cn", "ЖУМАБЕКОВ АСХАТ"), ("surname", "ЖУМАБЕКОВ"), ("given_name", "АСХАТ КАЙРАТОВИЧ")),
    ),
    "kz-employee": _RoleSpec("kz-vkk-chair", "kz", algorithm="gost2015-kz-512"),
    # ЦБДИ's extraterritorial expert: an individual's certificate (EKU 1.2.398.3.3.4.1.1) with an
    # IIN, with which the ЦБДИ twin signs its conclusions (issue 17).
    "kz-expert": _RoleSpec(
        "kz-individual",
        "kz",
        algorithm="gost2015-kz-512",
        fields=(("cn", "СЕЙТЖАНОВА ГУЛЬНАР"), ("surname", "СЕЙТЖАНОВА"), ("given_name", "ГУЛЬНАР МАРАТОВНА")),
    ),
}

_OPEN: dict[Path, SampleSigners] = {}
_OPEN_LOCK = threading.Lock()


class SampleSigners:
    """Certificates, keys and signing templates of every sample role (see :data:`ROLES`)."""

    def __init__(self, pki: TestPki, issued: dict[str, tuple[Certificate, PrivateKey]], state: dict[str, Any]) -> None:
        self.pki = pki
        self._issued = issued
        self.mo_ogrn: str = state["mo_ogrn"]
        self.bureau_ogrn: str = state["bureau_ogrn"]
        self._templates: dict[str, CmsTemplate] = {}
        self._lock = threading.Lock()

    @property
    def directory(self) -> Path:
        return self.pki.directory

    @classmethod
    def create(cls, directory: Path, *, now: datetime | None = None, seed: int = 0) -> SampleSigners:
        """A new test PKI in ``directory`` (which must not hold one) with every role's certificate."""
        now = now or datetime.now(UTC).replace(microsecond=0)
        pki = TestPki.init(directory, "gost2012-256", now=now)
        rng = random.Random(f"sample-pki:{seed}")
        state: dict[str, Any] = {
            "version": 1,
            "mo_ogrn": ids.random_ogrn(rng),
            "bureau_ogrn": ids.random_ogrn(rng),
            "foreign_mo_ogrn": ids.random_ogrn(rng),
            "roles": {},
        }
        ogrn = {"mo": state["mo_ogrn"], "bureau": state["bureau_ogrn"], "foreign-mo": state["foreign_mo_ogrn"]}
        issued: dict[str, tuple[Certificate, PrivateKey]] = {}
        for role, spec in ROLES.items():
            fields: dict[str, str | None] = dict(spec.fields)
            if spec.org in ogrn:
                fields["ogrn"] = ogrn[spec.org]
            cert: IssuedCertificate = pki.issue(
                spec.profile, fields, algorithm=spec.algorithm, not_before=now - CERT_BACKDATE
            )
            state["roles"][role] = cert.serial_hex
            issued[role] = (cert.certificate, cert.key)
        path = Path(directory) / _STATE
        path.write_text(json.dumps(state, indent=2), encoding="utf-8")
        return cls(pki, issued, state)

    @classmethod
    def open(cls, directory: Path) -> SampleSigners:
        """Open a directory made by :meth:`create` (FileNotFoundError / ValueError otherwise)."""
        pki = TestPki(directory)
        state = json.loads((Path(directory) / _STATE).read_text(encoding="utf-8"))
        missing = sorted(set(ROLES) - set(state.get("roles", {})))
        if missing and "mo_ogrn" in state:
            # A PKI made before a role was added (a sandbox data directory kept across versions):
            # issue the new roles' certificates from its CA rather than refuse it.
            now = datetime.now(UTC).replace(microsecond=0)
            for role in missing:
                spec = ROLES[role]
                issued_cert = pki.issue(
                    spec.profile, dict(spec.fields), algorithm=spec.algorithm, not_before=now - CERT_BACKDATE
                )
                state["roles"][role] = issued_cert.serial_hex
            (Path(directory) / _STATE).write_text(json.dumps(state, indent=2), encoding="utf-8")
        elif missing:
            raise ValueError(f"{directory}: sample roles missing: {', '.join(missing)}")
        issued: dict[str, tuple[Certificate, PrivateKey]] = {}
        for role, serial in state["roles"].items():
            base = Path(directory) / "issued" / serial
            cert = load_certificates(base.with_suffix(".pem").read_bytes())[0]
            key = load_private_key(base.with_suffix(".key").read_bytes())
            issued[role] = (cert, key)
        return cls(pki, issued, state)

    @classmethod
    def open_or_create(cls, directory: str | os.PathLike[str], *, seed: int = 0) -> SampleSigners:
        """The signers in ``directory`` (created on first use); cached per process."""
        path = Path(directory).resolve()
        with _OPEN_LOCK:
            signers = _OPEN.get(path)
            if signers is None:
                signers = cls.open(path) if (path / _STATE).is_file() else cls.create(path, seed=seed)
                _OPEN[path] = signers
            return signers

    def certificate(self, role: str) -> Certificate:
        return self._issued[role][0]

    def key(self, role: str) -> PrivateKey:
        return self._issued[role][1]

    def identity(self, role: str) -> SignerIdentity:
        return self.certificate(role).identity()

    def template(self, role: str) -> CmsTemplate:
        """The signing template of ``role`` (built on first use, then shared; thread-safe)."""
        with self._lock:
            template = self._templates.get(role)
            if template is None:
                cert, key = self._issued[role]
                template = self._templates[role] = CmsTemplate(key, cert, [self.pki.ca])
            return template

    def sign(self, role: str, content: bytes, signing_time: datetime) -> bytes:
        return self.template(role).sign(content, signing_time)
