"""The inbound check of a kind signed with an XMLDSig *enveloped in the document* (the kind
table's ``signature = "enveloped-xmldsig"``): today the ЦБДИ expert's conclusion.

The submission checker verifies detached CMS signatures over a :class:`ParsedDocument`; a ЦБДИ
conclusion is neither. So this module runs the same pieces in the same order on it: the kind's
parser (:func:`gateway.documents.kz_conclusion.parse_conclusion`), the project's XMLDSig verifier
(:class:`gateway.signatures.xml.verify.XmlVerifier`, sharing the checker's CMS ``Verifier`` —
same trust store, CRLs, policy; KZ GOST 2015 and RSA), which must find exactly one signature whose
reference covers the whole document, then the kind's role policy
(:func:`gateway.flk.roles.check_roles`: an individual's NCA certificate whose IIN is the expert's
the conclusion names). The findings carry the checker's rule names, so
:func:`gateway.inbound.receive.flag_of` turns them into the same coded reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.documents.errors import DocumentError
from gateway.documents.kz_conclusion import Conclusion, conclusion_summary, parse_conclusion
from gateway.flk.findings import RuleFinding
from gateway.flk.roles import RolePolicy, check_roles
from gateway.flk.signatures import SignatureCheck, invalid_signature_findings, signatures_report
from gateway.intake.submission import CanonicalSubmission, SignatureEntry
from gateway.signatures.xml.verify import XmlVerifier

__all__ = ["EnvelopedCheck", "check_enveloped"]


@dataclass(frozen=True, slots=True)
class EnvelopedCheck:
    """What the check found. ``conclusion`` None: the document could not be read (``error``)."""

    conclusion: Conclusion | None
    findings: tuple[RuleFinding, ...]
    report: dict[str, Any] | None
    error: DocumentError | None = None

    @property
    def summary(self) -> dict[str, object] | None:
        return None if self.conclusion is None else conclusion_summary(self.conclusion)


def check_enveloped(
    verifier: XmlVerifier,
    policy: RolePolicy,
    *,
    peer: str,
    kind: str,
    document: bytes,
    now: datetime,
    max_bytes: int,
) -> EnvelopedCheck:
    """Parse, verify and judge one document (CPU-bound: call it in a worker thread)."""
    try:
        conclusion = parse_conclusion(document, max_bytes=max_bytes)
    except DocumentError as exc:
        return EnvelopedCheck(None, (), None, exc)
    # The one signature must cover the document element itself (its Reference resolves to the
    # root): a signature over some other element of the document proves nothing about it.
    verification = verifier.verify_xml(document, document_time=conclusion.decided_at, check_time=now, expected=["/*"])
    entry = SignatureEntry(type="personal", signer={"iin": conclusion.expert_iin}, cms=None, xmldsig=True)
    checks = [SignatureCheck(0, entry, verification.report)]
    findings: list[RuleFinding] = list(invalid_signature_findings(checks))
    canonical = CanonicalSubmission(
        source_system=f"peer:{peer}",
        local_uid=conclusion.act_number,
        kind=kind,
        organization_oid=conclusion.organization_oid,
        creation_datetime=conclusion.decided_at,
        document=document,
        document_mime="application/xml",
        signatures=(entry,),
    )
    # doc=None: the conclusion is no ParsedDocument; the signer's identity is compared with the
    # expert the conclusion names through the entry's signer metadata (``iin``).
    role_findings, roles = check_roles(policy, canonical, None, checks)
    findings.extend(role_findings)
    report = {
        "passed": not findings,
        "flk": [f.to_dict() for f in findings],
        "signatures_valid": signatures_report(checks)["valid"],
        "roles": roles,
    }
    return EnvelopedCheck(conclusion, tuple(findings), report)
