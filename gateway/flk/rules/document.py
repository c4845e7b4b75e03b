"""Rule ``document``: the document is readable XML of the declared kind (parsed into the model)."""

from __future__ import annotations

from lxml import etree

from gateway.documents import DocumentError, ParsedDocument, parse_document
from gateway.flk.findings import RuleFinding, finding
from gateway.intake.submission import CanonicalSubmission
from gateway.wire.safexml import DEFAULT_MAX_BYTES

__all__ = ["RULE", "parse_rule"]

RULE = "document"


def parse_rule(
    sub: CanonicalSubmission, *, max_bytes: int = DEFAULT_MAX_BYTES, root: etree._Element | None = None
) -> tuple[ParsedDocument | None, list[RuleFinding]]:
    """Parse ``sub.document`` as the declared kind. A document that does not parse is a rejection
    with the parser's code (``DOC_XML_MALFORMED``, ``DOC_KIND_MISMATCH``, ``DOC_MISSING_FIELD``…);
    CPU-bound: call it from a worker thread in async code. ``root``: the document already parsed."""
    try:
        return parse_document(sub.document, kind=sub.kind, max_bytes=max_bytes, root=root), []
    except DocumentError as exc:
        field = f"document:{exc.field}" if exc.field else "document"
        return None, [finding(RULE, str(exc.code), "other", exc.message_ru, field)]
