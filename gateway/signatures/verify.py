"""Verifying CMS/CAdES-BES signatures: the API the rest of the gateway calls.

``Verifier`` holds the configuration that is expensive to prepare (trust anchors, CRLs, the path
validator with its signature cache) and is meant to live for the whole process. ``verify_cms`` is
synchronous and CPU-bound; ``verify_cms_async`` runs it in an executor so the event loop is never
blocked (see docs/verify-report.md for the thread-pool measurements).
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime

from gateway.signatures import algorithms
from gateway.signatures.certificates import Certificate
from gateway.signatures.chain import PathValidator
from gateway.signatures.cms import ParsedCms, SignerView, check_integrity, find_signer_certificate, parse_cms
from gateway.signatures.codes import SignatureErrorCode
from gateway.signatures.errors import CmsFormatError, MissingContentError, UnsupportedAlgorithm
from gateway.signatures.report import (
    ReportEntry,
    SignatureReport,
    SignerOutcome,
    VerificationReport,
    build_report,
    build_signature_report,
    entry_for_exception,
)
from gateway.signatures.revocation import CrlStore
from gateway.signatures.trust import TrustStore, load_trust_directory

__all__ = ["Verifier", "VerifyPolicy", "verify_cms", "verify_cms_async"]

_SIGNING_KEY_USAGES = frozenset({"digital_signature", "non_repudiation"})


@dataclass(frozen=True, slots=True)
class VerifyPolicy:
    """What beyond integrity + trusted chain + validity at signing time makes a signature invalid.

    ``single_signer``: REMD wants one signer per container (MULTIPLE_SIGNERS otherwise).
    ``require_cades_bes``: signed attributes with signingCertificate(V2) are mandatory.
    ``require_revocation``: a certificate whose CRL is not configured is an error (CA_INACCESSIBILITY).
    ``require_valid_at_check_time``: an expired-now certificate is an error, not a warning.
    """

    single_signer: bool = False
    require_cades_bes: bool = False
    require_revocation: bool = False
    require_valid_at_check_time: bool = False


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Verifier:
    """Verifies CMS signatures against one trust configuration. Thread-safe; share one per process.

    ``trust`` is a TrustStore or a directory of CA certificates (re-read when it changes, checked at
    most every ``reload_interval`` seconds). ``crls`` is a CrlStore or CRL sources (files,
    directories, URLs).
    """

    def __init__(
        self,
        trust: TrustStore | str | os.PathLike[str] | None = None,
        crls: CrlStore | Iterable[str | os.PathLike[str]] | None = None,
        *,
        policy: VerifyPolicy | None = None,
        reload_interval: float = 30.0,
    ) -> None:
        self.policy = policy or VerifyPolicy()
        self._trust_dir = None if trust is None or isinstance(trust, TrustStore) else os.fspath(trust)
        self._reload_interval = reload_interval
        self._next_reload = time.monotonic() + reload_interval
        self._lock = threading.Lock()
        self.crls = crls if isinstance(crls, CrlStore) or crls is None else CrlStore(crls)
        store = load_trust_directory(self._trust_dir) if self._trust_dir else (trust or TrustStore())
        assert isinstance(store, TrustStore)
        self._validator = self._make_validator(store)

    def _make_validator(self, store: TrustStore) -> PathValidator:
        return PathValidator(
            store,
            self.crls,
            require_revocation=self.policy.require_revocation,
            require_valid_at_check_time=self.policy.require_valid_at_check_time,
        )

    def _current_validator(self) -> PathValidator:
        if self._trust_dir is not None and time.monotonic() >= self._next_reload:
            with self._lock:
                self._next_reload = time.monotonic() + self._reload_interval
                store = load_trust_directory(self._trust_dir)
                if store is not self._validator.trust:
                    self._validator = self._make_validator(store)
        return self._validator

    @property
    def trust(self) -> TrustStore:
        return self._current_validator().trust

    def path_validator(self) -> PathValidator:
        """The current path validator (trust reloaded if due): shared with the XMLDSig verifier."""
        return self._current_validator()

    def verify_cms(
        self,
        signature: bytes,
        content: bytes | None = None,
        *,
        certificates: Sequence[Certificate] = (),
        document_time: datetime | None = None,
        check_time: datetime | None = None,
    ) -> VerificationReport:
        """Verify every SignerInfo of a CMS SignedData and return the report (never raises a verdict).

        ``content`` is required for detached signatures (MissingContentError otherwise: a caller
        mistake, not a property of the document). ``certificates`` may supply the signer's and CA
        certificates when the CMS does not carry them. ``document_time`` stands in for signingTime
        when the signature has none. ``check_time`` defaults to now.
        """
        now = _utc(check_time) if check_time else datetime.now(UTC)
        doc_time = _utc(document_time) if document_time else None
        try:
            parsed = parse_cms(signature)
        except CmsFormatError as exc:
            return build_report([], errors=[entry_for_exception(exc)], detached=None, content_type=None, checked_at=now)

        errors: list[ReportEntry] = []
        if parsed.content is None:
            if content is None:
                raise MissingContentError("detached signature: the signed content must be supplied")
            data = content
        else:
            data = parsed.content
            if content is not None and content != data:
                errors.append(
                    ReportEntry(
                        SignatureErrorCode.DIGEST_MISMATCH, "supplied content differs from the attached content"
                    )
                )
        if not parsed.signers:
            errors.append(ReportEntry(SignatureErrorCode.NO_SIGNATURE, "SignedData has no SignerInfo"))
        elif self.policy.single_signer and len(parsed.signers) > 1:
            errors.append(ReportEntry(SignatureErrorCode.MULTIPLE_SIGNERS, f"{len(parsed.signers)} signers"))

        digests: dict[str, bytes] = {}

        def content_digest(alg: algorithms.DigestAlgorithm) -> bytes:
            cached = digests.get(alg.name)
            if cached is None:
                cached = digests[alg.name] = alg.hash(data)
            return cached

        validator = self._current_validator()
        pool = [*parsed.certificates, *certificates]
        candidates = [*pool, *validator.trust.intermediates, *validator.trust.anchors]
        reports: list[SignatureReport] = []
        for view in parsed.signers:
            outcome = self._check_signer(view, parsed, candidates, pool, content_digest, validator, doc_time, now)
            reports.append(build_signature_report(outcome))
        errors.extend(self._container_checks(parsed, reports))
        return build_report(
            reports,
            errors=errors,
            detached=parsed.content is None,
            content_type=parsed.econtent_type,
            checked_at=now,
        )

    def _check_signer(
        self,
        view: SignerView,
        parsed: ParsedCms,
        candidates: list[Certificate],
        pool: list[Certificate],
        content_digest: Callable[[algorithms.DigestAlgorithm], bytes],
        validator: PathValidator,
        doc_time: datetime | None,
        now: datetime,
    ) -> SignerOutcome:
        if view.signing_time is not None:
            signing_time, source = _utc(view.signing_time), "signed-attribute"
        elif doc_time is not None:
            signing_time, source = doc_time, "caller"
        else:
            signing_time, source = None, "none"
        reference = signing_time or now
        cert = find_signer_certificate(view, candidates)
        outcome = SignerOutcome(
            view=view,
            certificate=cert,
            algorithm=None,
            digest_algorithm=None,
            integrity_error=None,
            chain=None,
            key_usage_ok=True,
            signing_time=signing_time,
            signing_time_source=source,
            reference_time=reference,
            check_time=now,
        )
        try:
            outcome.digest_algorithm = algorithms.digest_by_oid(view.digest_oid).name
        except UnsupportedAlgorithm as exc:
            outcome.integrity_error = exc
        if self.policy.require_cades_bes and not (view.signed_attrs_der is not None and view.has_signing_certificate):
            outcome.extra_errors.append(
                ReportEntry(SignatureErrorCode.WRONG_SIGNATURE_FORMAT, "not CAdES-BES: signingCertificate(V2) missing")
            )
        if cert is None:
            return outcome
        if outcome.integrity_error is None:
            try:
                scheme = check_integrity(view, cert, parsed.econtent_type, content_digest)
                outcome.algorithm = scheme.name
            except Exception as exc:  # every failure of the check is a verdict on this signer
                outcome.integrity_error = exc
        if outcome.algorithm is None:
            outcome.algorithm = _guess_algorithm_name(view, cert)
        outcome.key_usage_ok = cert.key_usage is None or bool(cert.key_usage & _SIGNING_KEY_USAGES)
        outcome.chain = validator.validate(cert, pool, reference_time=reference, check_time=now)
        return outcome

    @staticmethod
    def _container_checks(parsed: ParsedCms, reports: list[SignatureReport]) -> list[ReportEntry]:
        errors: list[ReportEntry] = []
        by_alg: dict[str, set[bytes]] = {}
        for view in parsed.signers:
            if view.message_digest is not None:
                by_alg.setdefault(view.digest_oid, set()).add(view.message_digest)
        if any(len(values) > 1 for values in by_alg.values()):
            errors.append(
                ReportEntry(
                    SignatureErrorCode.INCONSISTENT_DIGESTS, "signers with one digest algorithm sign different data"
                )
            )
        seen: set[str] = set()
        for report in reports:
            if report.certificate is None:
                continue
            if report.certificate.sha256 in seen:
                errors.append(ReportEntry(SignatureErrorCode.SIGNATURE_DUPLICATION, "one certificate signs twice"))
            seen.add(report.certificate.sha256)
        return errors

    async def verify_cms_async(
        self,
        signature: bytes,
        content: bytes | None = None,
        *,
        certificates: Sequence[Certificate] = (),
        document_time: datetime | None = None,
        check_time: datetime | None = None,
        executor: Executor | None = None,
    ) -> VerificationReport:
        """``verify_cms`` in an executor (the loop's default thread pool unless one is given)."""
        loop = asyncio.get_running_loop()
        call = functools.partial(
            self.verify_cms,
            signature,
            content,
            certificates=certificates,
            document_time=document_time,
            check_time=check_time,
        )
        return await loop.run_in_executor(executor, call)


def _guess_algorithm_name(view: SignerView, cert: Certificate) -> str | None:
    """Best-effort algorithm name for a report when the check failed before resolving it."""
    try:
        scheme = algorithms.resolve_signature_algorithm(
            view.signature_oid, view.signature_params, cert.public_key, view.digest_oid
        )
    except (UnsupportedAlgorithm, ValueError):
        return None
    return scheme.name


def verify_cms(
    signature: bytes,
    content: bytes | None = None,
    *,
    trust: TrustStore | str | os.PathLike[str] | None = None,
    crls: CrlStore | Iterable[str | os.PathLike[str]] | None = None,
    certificates: Sequence[Certificate] = (),
    document_time: datetime | None = None,
    check_time: datetime | None = None,
    policy: VerifyPolicy | None = None,
) -> VerificationReport:
    """One-off verification. Long-running code should keep a ``Verifier`` instead (it caches)."""
    verifier = Verifier(trust, crls, policy=policy)
    return verifier.verify_cms(
        signature, content, certificates=certificates, document_time=document_time, check_time=check_time
    )


async def verify_cms_async(
    signature: bytes,
    content: bytes | None = None,
    *,
    verifier: Verifier,
    certificates: Sequence[Certificate] = (),
    document_time: datetime | None = None,
    check_time: datetime | None = None,
    executor: Executor | None = None,
) -> VerificationReport:
    """Async form of ``Verifier.verify_cms`` (runs in ``executor``)."""
    return await verifier.verify_cms_async(
        signature,
        content,
        certificates=certificates,
        document_time=document_time,
        check_time=check_time,
        executor=executor,
    )
