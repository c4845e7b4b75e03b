"""Rule ``document``: the document is readable XML of the declared kind (parsed into the model)."""

from __future__ import annotations

from lxml import etree

from gateway.common.language import Text
from gateway.documents import DocumentError, ParsedDocument, parse_document
from gateway.flk.findings import RuleFinding, finding
from gateway.flk.messages import DOCUMENT_CODE_TEXTS
from gateway.intake.submission import CanonicalSubmission
from gateway.wire.safexml import DEFAULT_MAX_BYTES

__all__ = ["RULE", "parse_rule"]

RULE = "document"


def parse_rule(
    sub: CanonicalSubmission, *, max_bytes: int = DEFAULT_MAX_BYTES, root: etree._Element | None = None
) -> tuple[ParsedDocument | None, list[RuleFinding]]:
    """Parse ``sub.document`` as the declared kind. A document that does not parse is a rejection
    with the parser's code (``DOC_XML_MALFORMED``, ``DOC_KIND_MISMATCH``, ``DOC_MISSING_FIELD``…);
    CPU-bound: call it from a worker thread in async code. ``root``: the document already parsed.
    The parser words its message in Russian, naming the value; the English text is the code's
    meaning and the field."""
    try:
        return parse_document(sub.document, kind=sub.kind, max_bytes=max_bytes, root=root), []
    except DocumentError as exc:
        field = f"document:{exc.field}" if exc.field else "document"
        meaning = DOCUMENT_CODE_TEXTS[exc.code][1]
        english = f"{meaning} ({exc.field})" if exc.field else meaning
        return None, [finding(RULE, str(exc.code), "other", Text(exc.message_ru, english), field)]
