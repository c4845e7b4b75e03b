"""Certification path building and validation, as far as qualified signatures need it.

Why our own and not ``certvalidator``/``pyhanko-certvalidator``: they check certificate signatures
with ``cryptography``/``oscrypto``, which know no GOST, so a Russian or Kazakh chain could never
validate. Here every certificate signature goes through ``algorithms`` (the same layer that checks
documents). What is implemented is what REMD checks:

* a path from the signer's certificate to a configured trust anchor (issuer name, key identifiers,
  signature of every link);
* CA certificates must be CAs (basicConstraints, keyCertSign, pathLenConstraint);
* every certificate valid at the reference time (the signing time) — and the signer's at check time,
  reported separately;
* revocation of every non-anchor certificate from the configured CRLs;
* an unknown critical extension makes the path unusable.

Not implemented (not used by the Russian/Kazakh qualified PKIs we verify): policy processing
(policies are accepted as they are), name constraints (a critical one fails the path), OCSP.
"""

from __future__ import annotations

import enum
import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from gateway.signatures import algorithms
from gateway.signatures.certificates import Certificate
from gateway.signatures.codes import SignatureErrorCode
from gateway.signatures.errors import InvalidSignature, UnsupportedAlgorithm
from gateway.signatures.revocation import CrlStore, RevocationState, RevocationStatus
from gateway.signatures.trust import TrustStore

__all__ = ["ChainResult", "ChainStatus", "Finding", "PathValidator"]

MAX_DEPTH = 8


class ChainStatus(enum.StrEnum):
    TRUSTED = "trusted"
    UNTRUSTED = "untrusted"
    REVOKED = "revoked"
    EXPIRED = "expired"  # some certificate of the path is outside its validity at the signing time
    NOT_CHECKED = "not-checked"  # no trust anchors configured
    # A path exists but whether a certificate of it is revoked cannot be established: its CRL is
    # past nextUpdate and could not be refreshed, or its configured source cannot be read.
    INDETERMINATE = "indeterminate"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem, coded; ``detail`` is a technical note (no personal data)."""

    code: SignatureErrorCode
    detail: str = ""


@dataclass(slots=True)
class ChainResult:
    status: ChainStatus
    path: list[Certificate] = field(default_factory=list)
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    revocation: RevocationStatus | None = None  # of the signer's certificate
    revocation_checked: bool = False
    valid_at_reference: bool = True
    valid_at_check: bool = True


class _NoPath(Exception):
    def __init__(self, finding: Finding) -> None:
        self.finding = finding


class PathValidator:
    """Builds and validates paths against one TrustStore and CrlStore; caches link signatures.

    The cache maps (certificate, issuer) fingerprints to the outcome of the signature check, so a
    CA certificate's signature is verified once per process, not once per document.
    """

    def __init__(
        self,
        trust: TrustStore,
        crls: CrlStore | None = None,
        *,
        require_revocation: bool = False,
        require_valid_at_check_time: bool = False,
    ) -> None:
        self.trust = trust
        self.crls = crls
        self.require_revocation = require_revocation
        self.require_valid_at_check_time = require_valid_at_check_time
        self._links: dict[tuple[bytes, bytes], bool] = {}
        self._lock = threading.Lock()

    # -- path building -------------------------------------------------------------------------

    def _link_ok(self, cert: Certificate, issuer: Certificate) -> bool:
        key = (cert.fingerprint, issuer.fingerprint)
        ok = self._links.get(key)
        if ok is not None:
            return ok
        try:
            pub = issuer.public_key
            alg = algorithms.resolve_signature_algorithm(cert.signature_algorithm_oid, cert.signature_parameters, pub)
            algorithms.verify_digest(pub, alg, alg.digest.hash(cert.tbs_der), cert.signature_value)
            ok = True
        except InvalidSignature:
            ok = False
        # UnsupportedAlgorithm / ValueError propagate: "cannot check" is not "checked and bad"
        with self._lock:
            if len(self._links) > 20_000:
                self._links.clear()
            self._links[key] = ok
        return ok

    def _candidates(self, cert: Certificate, pool: Sequence[Certificate]) -> list[Certificate]:
        found: list[Certificate] = []
        for cand in [*self.trust.by_subject(cert.issuer_der), *pool]:
            if cand.subject_der != cert.issuer_der or cand in found or cand == cert:
                continue
            if cert.aki is not None and cand.ski is not None and cert.aki != cand.ski:
                continue
            found.append(cand)
        # anchors first: the shortest trusted path wins
        found.sort(key=lambda c: not self.trust.is_anchor(c))
        return found

    def _build(self, path: list[Certificate], pool: Sequence[Certificate]) -> list[Certificate]:
        cert = path[-1]
        if self.trust.is_anchor(cert):
            return path
        if len(path) > MAX_DEPTH:
            raise _NoPath(Finding(SignatureErrorCode.CANT_BUILD_CERT_CHAIN_TO_ACCREDITED_CA_CERT, "path too long"))
        last: Finding | None = None
        for issuer in self._candidates(cert, pool):
            if issuer in path:
                continue
            try:
                if not self._link_ok(cert, issuer):
                    last = Finding(
                        SignatureErrorCode.CANT_BUILD_CERT_CHAIN_TO_ACCREDITED_CA_CERT,
                        f"signature of certificate {cert.serial_hex} does not verify with its issuer's key",
                    )
                    continue
            except (UnsupportedAlgorithm, ValueError) as exc:
                last = Finding(
                    SignatureErrorCode.CANT_BUILD_CERT_CHAIN_TO_ACCREDITED_CA_CERT,
                    f"certificate {cert.serial_hex}: cannot check its signature ({exc})",
                )
                continue
            try:
                return self._build([*path, issuer], pool)
            except _NoPath as exc:
                last = exc.finding
        raise _NoPath(
            last
            or Finding(
                SignatureErrorCode.CANT_BUILD_CERT_CHAIN_TO_ACCREDITED_CA_CERT,
                f"no trusted issuer found for certificate {cert.serial_hex}",
            )
        )

    # -- validation -----------------------------------------------------------------------------

    def validate(
        self,
        leaf: Certificate,
        extra: Sequence[Certificate],
        *,
        reference_time: datetime,
        check_time: datetime,
    ) -> ChainResult:
        """Validate ``leaf`` at ``reference_time`` (signing time) and report check-time validity.

        ``extra`` are untrusted certificates that may complete the path (the CMS's own, or
        supplied by the caller). Never raises for a bad chain: problems are coded in the result.
        """
        result = ChainResult(ChainStatus.TRUSTED)
        self._leaf_times(leaf, result, reference_time, check_time)
        if not self.trust:
            result.status = ChainStatus.NOT_CHECKED
            return result
        try:
            path = self._build([leaf], extra)
        except _NoPath as exc:
            result.status = ChainStatus.UNTRUSTED
            result.errors.append(exc.finding)
            return result
        result.path = path
        self._check_cas(path, result, reference_time)
        if result.status is ChainStatus.UNTRUSTED:
            return result
        self._check_revocation(path, result, check_time)
        if result.status is ChainStatus.TRUSTED and not result.valid_at_reference:
            result.status = ChainStatus.EXPIRED
        return result

    def _leaf_times(self, leaf: Certificate, result: ChainResult, at: datetime, now: datetime) -> None:
        if at < leaf.not_before:
            result.valid_at_reference = False
            result.errors.append(
                Finding(
                    SignatureErrorCode.DOC_DATE_MISMATCH_CERT_NOT_BEFORE, f"not before {leaf.not_before.isoformat()}"
                )
            )
        elif at > leaf.not_after:
            result.valid_at_reference = False
            result.errors.append(
                Finding(SignatureErrorCode.DOC_DATE_MISMATCH_CERT_NOT_AFTER, f"not after {leaf.not_after.isoformat()}")
            )
        if not leaf.valid_at(now):
            result.valid_at_check = False
            finding = Finding(
                SignatureErrorCode.PERSONAL_SIG_CERT_NOT_ACTUAL_ON_CHECK_DT,
                f"valid {leaf.not_before.isoformat()} .. {leaf.not_after.isoformat()}",
            )
            (result.errors if self.require_valid_at_check_time else result.warnings).append(finding)

    def _check_cas(self, path: list[Certificate], result: ChainResult, at: datetime) -> None:
        code = SignatureErrorCode.CANT_BUILD_CERT_CHAIN_TO_ACCREDITED_CA_CERT
        for cert in path:
            if cert.unknown_critical_extensions:
                result.status = ChainStatus.UNTRUSTED
                result.errors.append(
                    Finding(
                        code,
                        f"certificate {cert.serial_hex} has unsupported critical extensions "
                        f"{', '.join(cert.unknown_critical_extensions)}",
                    )
                )
        for depth, ca in enumerate(path[1:]):
            anchor_v1 = self.trust.is_anchor(ca) and ca.version == "v1"
            if not ca.is_ca and not anchor_v1:
                result.status = ChainStatus.UNTRUSTED
                result.errors.append(Finding(code, f"issuer {ca.serial_hex} is not a CA certificate"))
            if ca.key_usage is not None and "key_cert_sign" not in ca.key_usage:
                result.status = ChainStatus.UNTRUSTED
                result.errors.append(Finding(code, f"issuer {ca.serial_hex} may not sign certificates"))
            if ca.path_length is not None and depth > ca.path_length:
                result.status = ChainStatus.UNTRUSTED
                result.errors.append(Finding(code, f"path length constraint of {ca.serial_hex} exceeded"))
            if not ca.valid_at(at):
                result.valid_at_reference = False
                result.errors.append(Finding(code, f"CA certificate {ca.serial_hex} not valid at {at.isoformat()}"))

    def _check_revocation(self, path: list[Certificate], result: ChainResult, now: datetime) -> None:
        if self.crls is None or not self.crls:
            if self.require_revocation:
                result.errors.append(Finding(SignatureErrorCode.CA_INACCESSIBILITY, "no CRL configured"))
                result.status = ChainStatus.UNTRUSTED
            return
        result.revocation_checked = True
        for cert, issuer in itertools.pairwise(path):
            status = self.crls.status(cert, issuer, now=now)
            if cert is path[0]:
                result.revocation = status
            if status.state is RevocationState.REVOKED:
                when = status.revoked_at.isoformat() if status.revoked_at else "?"
                role = "signer" if cert is path[0] else "CA"
                result.errors.append(
                    Finding(SignatureErrorCode.CERT_REVOKED, f"{role} certificate {cert.serial_hex} revoked {when}")
                )
                result.status = ChainStatus.REVOKED
            elif status.state is RevocationState.UNAVAILABLE:
                result.errors.append(
                    Finding(
                        SignatureErrorCode.CA_INACCESSIBILITY,
                        f"no usable CRL for certificate {cert.serial_hex}: its source cannot be read",
                    )
                )
                if result.status is ChainStatus.TRUSTED:
                    result.status = ChainStatus.INDETERMINATE
            elif status.state is RevocationState.UNKNOWN and self.require_revocation:
                result.errors.append(
                    Finding(
                        SignatureErrorCode.CA_INACCESSIBILITY, f"no CRL configured for certificate {cert.serial_hex}"
                    )
                )
                if result.status is ChainStatus.TRUSTED:
                    result.status = ChainStatus.UNTRUSTED
            elif status.stale:
                # The store refreshes a CRL past its nextUpdate before answering: still stale means
                # the refresh failed. A revocation published since would be missed, so this is no
                # pass (it was only a warning before, issue 14 finding 8).
                nxt = status.crl_next_update.isoformat() if status.crl_next_update else "?"
                result.errors.append(
                    Finding(
                        SignatureErrorCode.CA_INACCESSIBILITY,
                        f"CRL for certificate {cert.serial_hex} is past its nextUpdate ({nxt}) and could not be "
                        "refreshed: revocation status indeterminate",
                    )
                )
                if result.status is ChainStatus.TRUSTED:
                    result.status = ChainStatus.INDETERMINATE
