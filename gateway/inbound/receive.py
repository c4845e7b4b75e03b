"""The one inbound path: verify a document addressed to one of our organisations, link it to the
referral it answers, journal it, offer it to the MIS — or keep it flagged for an operator.

Checks reuse the submission checker (structure, signatures through the project's verifier, the
kind's role policy) on a canonical submission built from the document itself; of its findings
only those that speak about *this* document's integrity and authority count here (the referral
rules — region, citizen data, examinations — judge what an MO sends, not what a bureau answers, and
are kept in the stored report without flagging). Nothing is ever refused: a document that fails
is stored with its bytes and a coded reason (:class:`~gateway.inbound.contract.InboundReason`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from gateway.common.logs import get_logger
from gateway.documents import ParsedDocument
from gateway.documents.kinds import KIND_TABLE, inbound_codes
from gateway.documents.model import DocumentKind
from gateway.documents.parse import parse_document
from gateway.flk.checker import FullChecker
from gateway.flk.roles import BUILTIN_POLICY, RolePolicy
from gateway.inbound.contract import InboundDocument, InboundReason, InboundReceipt
from gateway.inbound.enveloped import check_enveloped
from gateway.intake.submission import CanonicalSubmission, SignatureEntry
from gateway.journal.inbound import InboundJournal, InboundRecord, NewInbound, StoredContent
from gateway.journal.store import Journal
from gateway.signatures.xml.verify import XmlVerifier
from gateway.validation.contract import Checker, Finding, Report
from gateway.wire.safexml import DEFAULT_MAX_BYTES

__all__ = ["InboundReceiver", "flag_of"]

_log: Final = get_logger(__name__)

# Findings that make an inbound document untrustworthy, by rule, strongest first.
_SIGNATURE_RULES: Final = frozenset({"signatures-present", "invalid-signature"})
_ROLE_RULES: Final = frozenset({"role-policy"})
_DOCUMENT_RULES: Final = frozenset({"document", "semd-schema", "metadata", "dates", "kind-validity"})


def flag_of(report: Report) -> tuple[InboundReason, str] | None:
    """The reason a checker's report flags an inbound document, or None."""
    return flag_of_findings(report.findings)


def flag_of_findings(findings: Sequence[Finding]) -> tuple[InboundReason, str] | None:
    """The reason these findings flag an inbound document (strongest first), or None."""
    for rules, reason in (
        (_SIGNATURE_RULES, InboundReason.SIGNATURE_INVALID),
        (_ROLE_RULES, InboundReason.ROLE_POLICY),
        (_DOCUMENT_RULES, InboundReason.DOCUMENT_INVALID),
    ):
        hits = [f for f in findings if f.rule in rules]
        if hits:
            return reason, "; ".join(f"{f.code}: {f.message}" for f in hits)[:2000]
    return None


def _report_summary(report: Report) -> dict[str, Any]:
    """What is kept of the report: the findings and the verdicts, not the signers' names."""
    return {
        "passed": report.passed,
        "flk": [f.to_dict() for f in report.findings],
        "signatures_valid": None if report.signatures is None else report.signatures.get("valid"),
    }


class InboundReceiver:
    """Implements :class:`~gateway.inbound.contract.InboundPort` over the journal. One per process."""

    def __init__(
        self,
        journal: Journal,
        checker: Checker,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        on_offered: Callable[[], None] | None = None,
        parse: Callable[[bytes, str, int], ParsedDocument] | None = None,
        xml_verifier: XmlVerifier | None = None,
        policy: RolePolicy | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.journal = journal
        self.inbound = InboundJournal(journal)
        self.checker = checker
        self.max_bytes = max_bytes
        self.on_offered = on_offered  # wakes the webhook notifier
        self._parse = parse or (lambda data, kind, limit: parse_document(data, kind=kind, max_bytes=limit))
        # Kinds signed inside the document (the ЦБДИ conclusion) are verified with the project's
        # XMLDSig verifier over the checker's own CMS verifier (same trust, CRLs, policy) and
        # judged by the checker's role policy (gateway.inbound.enveloped).
        full = checker if isinstance(checker, FullChecker) else None
        self.xml_verifier = xml_verifier or XmlVerifier(full.verifier if full is not None else None)
        self.policy = policy or (full.policy if full is not None else BUILTIN_POLICY)
        self.clock = clock or (full.clock if full is not None else (lambda: datetime.now(UTC)))

    async def known(self, peer: str, peer_document_id: str) -> bool:
        return await self.inbound.known(peer, peer_document_id)

    async def receive(self, document: InboundDocument) -> InboundReceipt:
        content = StoredContent(
            document=document.document,
            document_mime=document.document_mime,
            signatures=tuple({"type": s.type, "signer": dict(s.signer), "cms": s.cms} for s in document.signatures),
            envelopes=tuple(
                {"direction": e.direction, "peer": e.peer, "content_type": e.content_type, "body": e.body}
                for e in document.envelopes
            ),
        )
        if self._enveloped(document.kind):
            return await self._receive_enveloped(document, content)
        parsed, flag, report = await self._check(document)
        referral = document.referral_local_uid
        if parsed is not None:
            # The signed document's own reference wins over what the peer's envelope said.
            referral = getattr(parsed.details, "referral_id", None) or referral
        patient_id = None if parsed is None else (parsed.patient.snils or parsed.patient.iin)
        new = NewInbound(
            peer=document.peer,
            peer_document_id=document.peer_document_id,
            kind=document.kind,
            recipient_oid=document.recipient_oid,
            content=content,
            sha256=hashlib.sha256(document.document).hexdigest(),
            peer_ids=dict(document.peer_ids),
            local_uid=None if parsed is None else parsed.local_uid,
            author_oid=None if parsed is None else parsed.organisation.oid,
            referral_local_uid=referral,
            patient_key=self.journal.patient_key(patient_id) if patient_id else None,
            final=document.final,
            registered_at=document.registered_at,
            flag=flag,
            report=report,
        )
        return await self._record(new)

    async def _record(self, new: NewInbound) -> InboundReceipt:
        record, created = await self.inbound.record(new)
        if created:
            _log.info(
                "inbound document recorded",
                inbound_id=record.id,
                peer=record.peer,
                kind=record.kind,
                state=str(record.state),
                reason=record.reason_code,
                submission_id=record.submission_id,
            )
            if record.offer_seq is not None and self.on_offered is not None:
                self.on_offered()
        return _receipt(record, created)

    @staticmethod
    def _enveloped(kind: str) -> bool:
        try:
            return KIND_TABLE[DocumentKind(kind)].signature == "enveloped-xmldsig"
        except (ValueError, KeyError):
            return False

    async def _receive_enveloped(self, document: InboundDocument, content: StoredContent) -> InboundReceipt:
        """A kind whose signature is inside the document: parse, verify, role policy
        (:func:`gateway.inbound.enveloped.check_enveloped`), then the same journal step."""
        flag: tuple[InboundReason, str] | None
        report: dict[str, Any] | None = None
        conclusion = None
        summary: dict[str, object] | None = None
        if len(document.document) > self.max_bytes:
            message = f"{len(document.document)} bytes, over the limit of {self.max_bytes}: kept, not parsed"
            flag = (InboundReason.TOO_LARGE, message)
        else:
            checked = await asyncio.to_thread(
                check_enveloped,
                self.xml_verifier,
                self.policy,
                peer=document.peer,
                kind=document.kind,
                document=document.document,
                now=self.clock(),
                max_bytes=self.max_bytes,
            )
            conclusion, report, summary = checked.conclusion, checked.report, checked.summary
            if checked.error is not None:
                flag = (InboundReason.DOCUMENT_INVALID, f"{checked.error.code}: {checked.error.message_ru}"[:2000])
            else:
                flag = flag_of_findings(checked.findings)
        new = NewInbound(
            peer=document.peer,
            peer_document_id=document.peer_document_id,
            kind=document.kind,
            recipient_oid=document.recipient_oid,
            content=dataclasses.replace(content, summary=summary),
            sha256=hashlib.sha256(document.document).hexdigest(),
            peer_ids=dict(document.peer_ids),
            # The conclusion's own id is ЦБДИ's act number; it answers the 031/у it names.
            local_uid=None if conclusion is None else conclusion.act_number,
            author_oid=None,
            referral_local_uid=(conclusion.local_uid if conclusion is not None else None)
            or document.referral_local_uid,
            patient_key=None,  # it names no patient
            final=document.final,
            registered_at=document.registered_at,
            flag=flag,
            report=report,
        )
        return await self._record(new)

    async def _check(
        self, document: InboundDocument
    ) -> tuple[ParsedDocument | None, tuple[InboundReason, str] | None, dict[str, Any] | None]:
        if document.kind not in inbound_codes():
            return None, (InboundReason.KIND_UNKNOWN, f"kind {document.kind[:40]!r} is not in the kind table"), None
        if len(document.document) > self.max_bytes:
            message = f"{len(document.document)} bytes, over the limit of {self.max_bytes}: kept, not parsed"
            return None, (InboundReason.TOO_LARGE, message), None
        try:
            parsed = await asyncio.to_thread(self._parse, document.document, document.kind, self.max_bytes)
        except Exception as exc:  # DocumentError carries a code; anything else is still a bad document
            code = str(getattr(exc, "code", type(exc).__name__))
            return None, (InboundReason.DOCUMENT_INVALID, f"{code}: {str(exc)[:500]}"), None
        canonical = CanonicalSubmission(
            source_system=f"peer:{document.peer}",
            local_uid=parsed.local_uid,
            kind=document.kind,
            organization_oid=parsed.organisation.oid,
            creation_datetime=parsed.created,
            document=document.document,
            document_mime=document.document_mime,
            signatures=tuple(
                SignatureEntry(type=s.type, signer=dict(s.signer), cms=s.cms, xmldsig=False)
                for s in document.signatures
            ),
            patient=_patient_meta(parsed),
        )
        report = await self.checker.check(canonical)
        return parsed, flag_of(report), _report_summary(report)


def _patient_meta(doc: ParsedDocument) -> dict[str, str]:
    p = doc.patient
    meta = {"family": p.family, "given": p.given, "birth_date": p.birth_date.isoformat()}
    if p.patronymic:
        meta["patronymic"] = p.patronymic
    if p.snils:
        meta["snils"] = p.snils
    if p.iin:
        meta["iin"] = p.iin
    return meta


def _receipt(record: InboundRecord, created: bool) -> InboundReceipt:
    return InboundReceipt(
        id=record.id,
        created=created,
        state=record.state,
        reason_code=record.reason_code,
        submission_id=record.submission_id,
    )
