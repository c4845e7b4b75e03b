"""Rule ``metadata``: what the sender declares about the document matches the document.

REMD registers a document by its metadata (organisation, localUid, creation time) and refuses one
whose content says otherwise (ATTRIBUTE_MISMATCH): catching it here saves a round trip.
"""

from __future__ import annotations

from gateway.documents import ParsedDocument
from gateway.flk.codes import FlkCode
from gateway.flk.findings import RuleFinding, finding
from gateway.flk.messages import FLK_TEXTS
from gateway.intake.submission import CanonicalSubmission

__all__ = ["RULE", "metadata_findings"]

RULE = "metadata"
# CDA effectiveTime is often written to the minute; REMD compares the instant.
_TOLERANCE_SECONDS = 60.0


def metadata_findings(sub: CanonicalSubmission, doc: ParsedDocument) -> list[RuleFinding]:
    out: list[RuleFinding] = []
    if sub.organization_oid != doc.organisation.oid:
        out.append(
            finding(
                RULE,
                FlkCode.ATTRIBUTE_MISMATCH,
                "other",
                FLK_TEXTS.text("metadata.org_oid"),
                "organization_oid",
            )
        )
    if sub.local_uid != doc.local_uid:
        out.append(
            finding(
                RULE,
                FlkCode.ATTRIBUTE_MISMATCH,
                "other",
                FLK_TEXTS.text("metadata.local_uid"),
                "local_uid",
            )
        )
    if abs((sub.creation_datetime - doc.created).total_seconds()) >= _TOLERANCE_SECONDS:
        out.append(
            finding(
                RULE,
                FlkCode.ATTRIBUTE_MISMATCH,
                "other",
                FLK_TEXTS.text("metadata.created"),
                "creation_datetime",
            )
        )
    return out
