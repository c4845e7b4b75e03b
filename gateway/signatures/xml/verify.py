"""Verifying XMLDSig / XAdES signatures: the same report as CMS, ``format: "xmldsig"``.

``XmlVerifier`` wraps a CMS ``Verifier`` and shares its trust store, CRLs, path validator and policy,
so chain, revocation, time and identity checks are the ones CMS signatures get (docs/verify-report.md)
and only the XML-specific part lives here: parsing through ``gateway.wire.safexml`` (a DTD or entity is
refused before any crypto), reference resolution with the wrapping rules of ``xmldsig``, digests,
SignatureValue, XAdES.

The result carries, per signature, the exact elements it covers (``XmlVerification.signed``). A
caller must act on those elements only; ``expected`` lets it also demand that the references point
at given positions (XPath), which is what defeats "moved element" wrapping.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import os
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from gateway.signatures import algorithms
from gateway.signatures.certificates import Certificate
from gateway.signatures.chain import PathValidator
from gateway.signatures.cms import SignerView
from gateway.signatures.codes import SignatureErrorCode
from gateway.signatures.errors import InvalidSignature, SignatureLayerError
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
from gateway.signatures.trust import TrustStore
from gateway.signatures.verify import Verifier, VerifyPolicy
from gateway.signatures.xml import xades, xmldsig
from gateway.signatures.xml.xmldsig import ParsedSignature, SignatureWrappingError, SignedReference
from gateway.wire.safexml import XmlSecurityError, XmlSyntaxError, parse_xml

__all__ = ["XmlVerification", "XmlVerifier", "verify_xml"]

_SIGNING_KEY_USAGES = frozenset({"digital_signature", "non_repudiation"})


class _NoCertificate(Exception):
    """Neither KeyInfo nor the caller supplies a certificate (reported as NO_END_ENTITY_CERTIFICATE)."""


class _SignerFailed(Exception):
    def __init__(self, certificate: Certificate, cause: Exception) -> None:
        super().__init__(str(cause))
        self.certificate = certificate
        self.cause = cause


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(slots=True)
class XmlVerification:
    """The report plus, per signature (same index), the References with the nodes they cover.

    ``signed[i]`` is empty when signature ``i`` could not be parsed. Only a *valid* signature's
    elements may be trusted."""

    report: VerificationReport
    signed: list[list[SignedReference]]
    root: etree._Element | None

    @property
    def valid(self) -> bool:
        return self.report.valid

    def signed_elements(self, index: int = 0) -> list[etree._Element]:
        """The elements signature ``index`` covers (its XAdES SignedProperties excluded)."""
        return [r.element for r in self.signed[index] if r.type != xades.SIGNED_PROPERTIES_TYPE]


class XmlVerifier:
    """Verifies XMLDSig signatures against a CMS ``Verifier``'s configuration. Thread-safe."""

    def __init__(
        self,
        verifier: Verifier | None = None,
        *,
        trust: TrustStore | str | os.PathLike[str] | None = None,
        crls: CrlStore | Iterable[str | os.PathLike[str]] | None = None,
        policy: VerifyPolicy | None = None,
    ) -> None:
        self.verifier = verifier or Verifier(trust, crls, policy=policy)

    @property
    def policy(self) -> VerifyPolicy:
        return self.verifier.policy

    def verify_xml(
        self,
        data: bytes,
        *,
        certificates: Sequence[Certificate] = (),
        document_time: datetime | None = None,
        check_time: datetime | None = None,
        expected: Sequence[str] | None = None,
        namespaces: Mapping[str, str] | None = None,
    ) -> XmlVerification:
        """Verify every ds:Signature of ``data`` (never raises a verdict).

        ``expected``: XPath expressions (with ``namespaces``), each selecting exactly one element;
        every non-XAdES Reference of every signature must point at one of them (else
        WRONG_SIGNATURE_FORMAT). ``certificates`` supply signer/CA certificates KeyInfo lacks;
        ``document_time`` stands in for a missing xades:SigningTime. Raises ValueError only for
        an ``expected`` expression that is not valid XPath (a caller mistake).
        """
        now = _utc(check_time) if check_time else datetime.now(UTC)
        doc_time = _utc(document_time) if document_time else None
        try:
            root = parse_xml(data)
        except (XmlSecurityError, XmlSyntaxError) as exc:
            detail = f"XML refused: {exc}" if isinstance(exc, XmlSecurityError) else str(exc)
            entry = ReportEntry(SignatureErrorCode.SIGNATURE_DECODING_ERROR, detail[:300])
            return XmlVerification(self._finish([], [entry], now), [], None)

        errors: list[ReportEntry] = []
        elements = xmldsig.find_signatures(root)
        if not elements:
            errors.append(ReportEntry(SignatureErrorCode.NO_SIGNATURE, "no ds:Signature element"))
        elif self.policy.single_signer and len(elements) > 1:
            errors.append(ReportEntry(SignatureErrorCode.MULTIPLE_SIGNERS, f"{len(elements)} ds:Signature elements"))
        allowed: list[etree._Element] | None = None
        if expected is not None:
            try:
                allowed = self._expected(root, expected, namespaces)
            except SignatureWrappingError as exc:
                errors.append(entry_for_exception(exc))
                allowed = []
        ids = xmldsig.index_ids(root)
        validator = self.verifier.path_validator()
        candidates_extra = [*certificates, *validator.trust.intermediates]
        reports: list[SignatureReport] = []
        signed: list[list[SignedReference]] = []
        for index, element in enumerate(elements):
            report, refs = self._check_one(
                index, element, root, ids, candidates_extra, certificates, validator, allowed, doc_time, now
            )
            reports.append(report)
            signed.append(refs)
        seen: set[str] = set()
        for report in reports:
            if report.certificate is not None and report.integrity == "valid":
                if report.certificate.sha256 in seen:
                    errors.append(ReportEntry(SignatureErrorCode.SIGNATURE_DUPLICATION, "one certificate signs twice"))
                seen.add(report.certificate.sha256)
        return XmlVerification(self._finish(reports, errors, now), signed, root)

    @staticmethod
    def _finish(reports: list[SignatureReport], errors: list[ReportEntry], now: datetime) -> VerificationReport:
        report = build_report(reports, errors=errors, detached=False, content_type=None, checked_at=now)
        return dataclasses.replace(report, format="xmldsig", detached=None if not reports and errors else False)

    @staticmethod
    def _expected(
        root: etree._Element, expected: Sequence[str], namespaces: Mapping[str, str] | None
    ) -> list[etree._Element]:
        out: list[etree._Element] = []
        for path in expected:
            try:
                found = root.xpath(path, namespaces=dict(namespaces or {}))
            except etree.XPathError as exc:  # the caller's expression, not the document, is wrong
                raise ValueError(f"invalid XPath {path!r}: {exc}") from None
            nodes = [n for n in found if isinstance(n, etree._Element)] if isinstance(found, list) else []
            if len(nodes) != 1:
                raise SignatureWrappingError(f"expected position {path!r} selects {len(nodes)} elements")
            out.append(nodes[0])
        return out

    def _check_one(
        self,
        index: int,
        element: etree._Element,
        root: etree._Element,
        ids: xmldsig.IdIndex,
        extra: list[Certificate],
        supplied: Sequence[Certificate],
        validator: PathValidator,
        allowed: list[etree._Element] | None,
        doc_time: datetime | None,
        now: datetime,
    ) -> tuple[SignatureReport, list[SignedReference]]:
        view = SignerView(index, "xmldsig", None, None, None, "", "", None, b"", None)
        outcome = SignerOutcome(
            view=view,
            certificate=None,
            algorithm=None,
            digest_algorithm=None,
            integrity_error=None,
            chain=None,
            key_usage_ok=True,
            signing_time=doc_time,
            signing_time_source="caller" if doc_time else "none",
            reference_time=doc_time or now,
            check_time=now,
        )
        try:
            parsed = xmldsig.parse_signature(element, index, root, ids)
        except SignatureLayerError as exc:
            outcome.integrity_error = exc
            # name the would-be signer in the report; nothing it "signed" is handed out
            certs = xmldsig.key_info_certificates(element)
            outcome.certificate = next((c for c in certs if not c.is_ca), None)
            return build_signature_report(outcome), []
        view.signature_oid = parsed.signature_method
        view.signature = parsed.signature_value
        props: xades.XadesProperties | None = None
        try:
            if allowed is not None:
                self._check_targets(parsed, allowed)
            cert, scheme = self._signer(parsed, supplied)
            outcome.certificate = cert
            if cert is not None:
                outcome.algorithm, outcome.digest_algorithm = scheme.name, scheme.digest.name
                xmldsig.check_references(parsed)
                props = xades.read_xades(parsed)
                if props is not None:
                    xades.check_signing_certificate(props, cert)
        except _NoCertificate:
            pass
        except _SignerFailed as exc:
            outcome.certificate, outcome.integrity_error = exc.certificate, exc.cause
        except Exception as exc:  # every failure of the check is a verdict on this signature
            outcome.integrity_error = exc
        if props is not None and props.signing_time is not None and outcome.integrity_error is None:
            outcome.signing_time, outcome.signing_time_source = props.signing_time, "signed-attribute"
            outcome.reference_time = props.signing_time
        if self.policy.require_cades_bes and (props is None or not props.bes):
            outcome.extra_errors.append(
                ReportEntry(
                    SignatureErrorCode.WRONG_SIGNATURE_FORMAT, "not XAdES-BES: signed SigningCertificate missing"
                )
            )
        cert = outcome.certificate
        if cert is not None:
            pool = [*parsed.certificates, *extra]
            outcome.key_usage_ok = cert.key_usage is None or bool(cert.key_usage & _SIGNING_KEY_USAGES)
            outcome.chain = validator.validate(cert, pool, reference_time=outcome.reference_time, check_time=now)
        report = build_signature_report(outcome)
        report.cades_bes = props is not None and props.bes and outcome.integrity_error is None
        return report, parsed.references

    @staticmethod
    def _check_targets(parsed: ParsedSignature, allowed: list[etree._Element]) -> None:
        for ref in parsed.references:
            if ref.type == xades.SIGNED_PROPERTIES_TYPE and not ref.whole_document:
                continue
            target = ref.element.getroottree().getroot() if ref.whole_document else ref.element
            if not any(target is a for a in allowed):
                raise SignatureWrappingError(f"reference {ref.uri!r} points outside the expected position")

    @staticmethod
    def _signer(
        parsed: ParsedSignature, supplied: Sequence[Certificate]
    ) -> tuple[Certificate | None, algorithms.SignatureAlgorithm]:
        """The certificate whose key verifies SignedInfo, with the scheme.

        When none does, the first end-entity candidate's failure is raised (the verdict), after
        the certificate is recorded by the caller through the exception's ``certificate``."""
        candidates = xmldsig.signer_candidates(parsed, supplied)
        if not candidates:
            raise _NoCertificate
        first: Exception | None = None
        for cert in candidates:
            try:
                return cert, xmldsig.check_signature_value(parsed, cert)
            except (InvalidSignature, SignatureLayerError, ValueError) as exc:
                first = first or exc
        assert first is not None
        raise _SignerFailed(candidates[0], first)

    async def verify_xml_async(
        self,
        data: bytes,
        *,
        certificates: Sequence[Certificate] = (),
        document_time: datetime | None = None,
        check_time: datetime | None = None,
        expected: Sequence[str] | None = None,
        namespaces: Mapping[str, str] | None = None,
        executor: Executor | None = None,
    ) -> XmlVerification:
        """``verify_xml`` in an executor (CPU-bound: keep it off the event loop)."""
        call = functools.partial(
            self.verify_xml,
            data,
            certificates=certificates,
            document_time=document_time,
            check_time=check_time,
            expected=expected,
            namespaces=namespaces,
        )
        return await asyncio.get_running_loop().run_in_executor(executor, call)


def verify_xml(
    data: bytes,
    *,
    trust: TrustStore | str | os.PathLike[str] | None = None,
    crls: CrlStore | Iterable[str | os.PathLike[str]] | None = None,
    certificates: Sequence[Certificate] = (),
    document_time: datetime | None = None,
    check_time: datetime | None = None,
    policy: VerifyPolicy | None = None,
    expected: Sequence[str] | None = None,
    namespaces: Mapping[str, str] | None = None,
) -> XmlVerification:
    """One-off verification; long-running code keeps an ``XmlVerifier`` (it caches)."""
    return XmlVerifier(trust=trust, crls=crls, policy=policy).verify_xml(
        data,
        certificates=certificates,
        document_time=document_time,
        check_time=check_time,
        expected=expected,
        namespaces=namespaces,
    )
