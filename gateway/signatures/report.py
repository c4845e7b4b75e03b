"""The verification report: the one place where outcomes become coded entries.

The verifier collects raw outcomes (exceptions from the low-level checks, the chain result, times);
``build_signature_report`` and ``build_report`` turn them into the structure documented in
docs/verify-report.md (modelled on NCANode's CMS verification response): per signature integrity,
chain status, algorithm, signing time, signer identity, certificate and coded errors with REMD codes
and Russian messages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.signatures.certificates import Certificate, SignerIdentity
from gateway.signatures.chain import ChainResult, ChainStatus, Finding
from gateway.signatures.cms import SignerView
from gateway.signatures.codes import SignatureErrorCode
from gateway.signatures.errors import InvalidSignature, SignatureLayerError

__all__ = [
    "CertificateSummary",
    "ReportEntry",
    "SignatureReport",
    "SignerOutcome",
    "VerificationReport",
    "build_report",
    "build_signature_report",
    "entry_for_exception",
]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class ReportEntry:
    """A coded problem: REMD code, a message for people (Russian, and English in ``message_en``),
    an English technical detail."""

    code: SignatureErrorCode
    detail: str = ""

    @property
    def message(self) -> str:
        return self.code.message

    @property
    def message_en(self) -> str:
        return self.code.message_en

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code.value,
            "remd_code": self.code.remd_code,
            "message": self.code.message,
            "message_en": self.code.message_en,
            "detail": self.detail,
        }


def entry_for_exception(exc: BaseException) -> ReportEntry:
    """Map a low-level exception to its code (unknown exceptions are INTERNAL_ERROR)."""
    if isinstance(exc, InvalidSignature):
        return ReportEntry(SignatureErrorCode.SIGNATURE_VERIFICATION_ERROR, str(exc) or "signature does not verify")
    if isinstance(exc, SignatureLayerError):
        return ReportEntry(exc.code, str(exc))
    return ReportEntry(SignatureErrorCode.INTERNAL_ERROR, type(exc).__name__)


def _entry(finding: Finding) -> ReportEntry:
    return ReportEntry(finding.code, finding.detail)


@dataclass(frozen=True, slots=True)
class CertificateSummary:
    serial_hex: str
    subject: str
    issuer: str
    not_before: str
    not_after: str
    sha256: str
    key_usage: list[str]
    valid_at_signing_time: bool
    valid_at_check_time: bool

    @classmethod
    def of(cls, cert: Certificate, *, at_signing: bool, at_check: bool) -> CertificateSummary:
        return cls(
            serial_hex=cert.serial_hex,
            subject=cert.subject,
            issuer=cert.issuer,
            not_before=_iso(cert.not_before) or "",
            not_after=_iso(cert.not_after) or "",
            sha256=cert.fingerprint.hex(),
            key_usage=sorted(cert.key_usage or ()),
            valid_at_signing_time=at_signing,
            valid_at_check_time=at_check,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "serial_hex": self.serial_hex,
            "subject": self.subject,
            "issuer": self.issuer,
            "not_before": self.not_before,
            "not_after": self.not_after,
            "sha256": self.sha256,
            "key_usage": self.key_usage,
            "valid_at_signing_time": self.valid_at_signing_time,
            "valid_at_check_time": self.valid_at_check_time,
        }


@dataclass(slots=True)
class SignerOutcome:
    """Raw results of checking one SignerInfo, before they are judged."""

    view: SignerView
    certificate: Certificate | None
    algorithm: str | None
    digest_algorithm: str | None
    integrity_error: BaseException | None
    chain: ChainResult | None
    key_usage_ok: bool
    signing_time: datetime | None
    signing_time_source: str  # "signed-attribute" | "caller" | "none"
    reference_time: datetime
    check_time: datetime
    extra_errors: list[ReportEntry] = field(default_factory=list)


@dataclass(slots=True)
class SignatureReport:
    index: int
    integrity: str  # "valid" | "invalid"
    chain: str  # ChainStatus value
    algorithm: str | None
    digest_algorithm: str | None
    signing_time: str | None
    signing_time_source: str
    reference_time: str
    cades_bes: bool
    revocation: str  # "good" | "revoked" | "unknown" | "unavailable" | "not-checked"
    revoked_at: str | None
    signer: SignerIdentity | None
    certificate: CertificateSummary | None
    chain_certificates: list[dict[str, str]]
    errors: list[ReportEntry]
    warnings: list[ReportEntry]

    @property
    def valid(self) -> bool:
        return self.integrity == "valid" and self.chain == ChainStatus.TRUSTED.value and not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "valid": self.valid,
            "integrity": self.integrity,
            "chain": self.chain,
            "algorithm": self.algorithm,
            "digest_algorithm": self.digest_algorithm,
            "signing_time": self.signing_time,
            "signing_time_source": self.signing_time_source,
            "reference_time": self.reference_time,
            "cades_bes": self.cades_bes,
            "revocation": self.revocation,
            "revoked_at": self.revoked_at,
            "signer": None if self.signer is None else self.signer.to_dict(),
            "certificate": None if self.certificate is None else self.certificate.to_dict(),
            "chain_certificates": self.chain_certificates,
            "errors": [e.to_dict() for e in self.errors],
            "warnings": [e.to_dict() for e in self.warnings],
        }

    @property
    def codes(self) -> list[SignatureErrorCode]:
        return [e.code for e in self.errors]


@dataclass(slots=True)
class VerificationReport:
    valid: bool
    format: str
    detached: bool | None
    content_type: str | None
    checked_at: str
    signatures: list[SignatureReport]
    errors: list[ReportEntry]
    warnings: list[ReportEntry] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "format": self.format,
            "detached": self.detached,
            "content_type": self.content_type,
            "checked_at": self.checked_at,
            "signatures": [s.to_dict() for s in self.signatures],
            "errors": [e.to_dict() for e in self.errors],
            "warnings": [e.to_dict() for e in self.warnings],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    @property
    def codes(self) -> list[SignatureErrorCode]:
        """Every error code: container-level first, then each signature's."""
        return [e.code for e in self.errors] + [c for s in self.signatures for c in s.codes]


def build_signature_report(outcome: SignerOutcome) -> SignatureReport:
    """Judge one signer's outcome."""
    errors: list[ReportEntry] = []
    warnings: list[ReportEntry] = []
    cert = outcome.certificate
    if cert is None:
        errors.append(ReportEntry(SignatureErrorCode.NO_END_ENTITY_CERTIFICATE, "signer certificate not found"))
    if outcome.integrity_error is not None:
        errors.append(entry_for_exception(outcome.integrity_error))
    integrity = "valid" if cert is not None and outcome.integrity_error is None else "invalid"
    if not outcome.key_usage_ok:
        errors.append(
            ReportEntry(SignatureErrorCode.INVALID_CERT_KEY_USAGE, "neither digitalSignature nor nonRepudiation")
        )
    errors.extend(outcome.extra_errors)

    chain = outcome.chain
    chain_status = ChainStatus.NOT_CHECKED.value
    revocation, revoked_at = "not-checked", None
    at_signing = at_check = False
    path: list[dict[str, str]] = []
    if chain is not None:
        chain_status = chain.status.value
        errors.extend(_entry(f) for f in chain.errors)
        warnings.extend(_entry(f) for f in chain.warnings)
        at_signing, at_check = chain.valid_at_reference, chain.valid_at_check
        if chain.revocation is not None:
            revocation = chain.revocation.state.value
            revoked_at = _iso(chain.revocation.revoked_at)
        path = [
            {"serial_hex": c.serial_hex, "subject": c.subject, "not_after": _iso(c.not_after) or ""}
            for c in chain.path[1:]
        ]
    if chain is None and cert is not None:
        at_signing = cert.valid_at(outcome.reference_time)
        at_check = cert.valid_at(outcome.check_time)

    view = outcome.view
    return SignatureReport(
        index=view.index,
        integrity=integrity,
        chain=chain_status,
        algorithm=outcome.algorithm,
        digest_algorithm=outcome.digest_algorithm,
        signing_time=_iso(outcome.signing_time),
        signing_time_source=outcome.signing_time_source,
        reference_time=_iso(outcome.reference_time) or "",
        cades_bes=view.signed_attrs_der is not None
        and view.message_digest is not None
        and view.content_type is not None
        and view.has_signing_certificate,
        revocation=revocation,
        revoked_at=revoked_at,
        signer=None if cert is None else cert.identity(),
        certificate=None if cert is None else CertificateSummary.of(cert, at_signing=at_signing, at_check=at_check),
        chain_certificates=path,
        errors=_dedupe(errors),
        warnings=_dedupe(warnings),
    )


def _dedupe(entries: list[ReportEntry]) -> list[ReportEntry]:
    return list(dict.fromkeys(entries))


def build_report(
    signatures: list[SignatureReport],
    *,
    errors: list[ReportEntry],
    warnings: list[ReportEntry] | None = None,
    detached: bool | None,
    content_type: str | None,
    checked_at: datetime,
) -> VerificationReport:
    """The container verdict: valid only when there is at least one signature and all are valid."""
    valid = bool(signatures) and not errors and all(s.valid for s in signatures)
    return VerificationReport(
        valid=valid,
        format="cms",
        detached=detached,
        content_type=content_type,
        checked_at=_iso(checked_at) or "",
        signatures=signatures,
        errors=_dedupe(errors),
        warnings=_dedupe(warnings or []),
    )
