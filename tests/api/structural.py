"""A test double for the REST mechanics tests: only "the document is readable XML and something is
signed", so the tests can post unsigned fixtures. The product validates with gateway.flk.FullChecker,
whose "document" and "signatures-present" rules do the same checks with real signatures on top."""

from __future__ import annotations

from gateway.flk.signatures import signatures_present_findings
from gateway.intake.submission import CanonicalSubmission
from gateway.validation.contract import Finding, Report
from gateway.wire.safexml import XmlSecurityError, XmlSyntaxError, parse_xml

__all__ = ["StructuralChecker", "structural_findings"]

XML_MIMES = frozenset({"application/x-hl7-cda-level-one+xml", "application/xml", "text/xml"})


def structural_findings(sub: CanonicalSubmission, *, max_bytes: int) -> list[Finding]:
    findings: list[Finding] = []
    if sub.document_mime in XML_MIMES:
        try:
            parse_xml(sub.document, max_bytes=max_bytes)
        except (XmlSecurityError, XmlSyntaxError) as exc:
            findings.append(
                Finding(
                    "document-readable",
                    exc.code,
                    "other",
                    f"Документ не является корректным XML: {exc}",
                    "document",
                    message_en=f"The document is not well-formed XML: {exc}",
                )
            )
    findings.extend(signatures_present_findings(sub))  # the product's own rule (its texts are bilingual)
    return findings


class StructuralChecker:
    def __init__(self, *, max_bytes: int = 20 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes

    async def check(self, submission: CanonicalSubmission) -> Report:
        return Report(findings=tuple(structural_findings(submission, max_bytes=self.max_bytes)))
