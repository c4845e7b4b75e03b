"""Build the XML of a document of any kind from its model.

Used by the samples generator, the sandbox and the tests. The referral (121/109) follows the
official schematron; 187/35 and 130/108 follow this project's reconstruction and 031/у this project's XSD
(docs/documents.md, docs/kz-031u.md).
"""

from __future__ import annotations

from lxml import etree

from gateway.documents.model import DocumentKind, ParsedDocument

__all__ = ["build_document", "to_bytes"]


def to_bytes(root: etree._Element) -> bytes:
    """UTF-8 with an XML declaration, pretty-printed (MIS vendors read these samples by eye)."""
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def build_document(doc: ParsedDocument) -> bytes:
    """The document's XML bytes. Raises ``ValueError`` when the model lacks what the kind needs."""
    from gateway.documents import kz031u, referral, result, return_notice

    if doc.kind in (DocumentKind.REFERRAL, DocumentKind.REFERRAL_ED5):
        root = referral.build_referral(doc)
    elif doc.kind in result.RESULT_KINDS:
        root = result.build_result(doc)
    elif doc.kind in return_notice.RETURN_KINDS:
        root = return_notice.build_return_notice(doc)
    else:
        root = kz031u.build_kz031u(doc)
    return to_bytes(root)
