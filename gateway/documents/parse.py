"""Parse a document of any kind from bytes: detect the kind, then read it into the model.

Detection: a CDA document (``urn:hl7-org:v3`` ``ClinicalDocument``) by its ``templateId``; the
Kazakh 031/у by its root element in this project's namespace. Everything from outside goes through
:func:`gateway.wire.safexml.parse_xml`, so DTDs, entities and oversize input are refused before any
field is read; those refusals are re-raised as coded :class:`DocumentError`.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from gateway.documents._xml import HL7, Reader
from gateway.documents.codes import KINDS
from gateway.documents.errors import DocumentError, DocumentErrorCode
from gateway.documents.kinds import KIND_TABLE
from gateway.documents.model import DocumentKind, ParsedDocument
from gateway.wire.safexml import DEFAULT_MAX_BYTES, XmlSecurityError, XmlSyntaxError, parse_xml

__all__ = ["detect_kind", "parse_document"]

_BY_TEMPLATE = {info.template_id: kind for kind, info in KINDS.items() if info.template_id is not None}


def detect_kind(root: etree._Element) -> DocumentKind:
    """The kind of an already parsed document, or ``DocumentError(UNKNOWN_KIND)``."""
    from gateway.documents.kz031u import KZ_NS

    qname = etree.QName(root)
    if qname.namespace == KZ_NS and qname.localname == "Conclusion031u":
        return DocumentKind.KZ_031U
    if qname.namespace != HL7 or qname.localname != "ClinicalDocument":
        raise DocumentError(
            DocumentErrorCode.UNKNOWN_KIND,
            f"Неизвестный тип документа: корневой элемент {qname.localname} "
            f"({qname.namespace or 'без пространства имён'})",
            "kind",
        )
    templates = [t.get("root") for t in root.findall(f"{{{HL7}}}templateId")]
    for template in templates:
        if template in _BY_TEMPLATE:
            return _BY_TEMPLATE[template]
    raise DocumentError(
        DocumentErrorCode.UNKNOWN_KIND,
        "Вид СЭМД не распознан: templateId " + (", ".join(t or "?" for t in templates) or "отсутствует"),
        "kind",
    )


def parse_document(
    data: bytes, *, kind: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES, root: etree._Element | None = None
) -> ParsedDocument:
    """Parse ``data`` into a :class:`ParsedDocument`.

    ``kind`` (an NSI 1520 number such as ``"121"``, or ``"kz-031u"``) is what the sender declared;
    when given, a document of another kind is refused with ``DOC_KIND_MISMATCH`` rather than
    silently read as what it is. ``root``: ``data`` already parsed with
    :func:`~gateway.wire.safexml.parse_xml` (the checker parses a document once for the model and
    the XSD/Schematron). Every failure is a :class:`DocumentError` with a code, a Russian
    message and the field at fault.
    """
    try:
        if root is None:
            root = parse_xml(data, max_bytes=max_bytes)
    except XmlSecurityError as exc:
        raise DocumentError(
            DocumentErrorCode.XML_FORBIDDEN, f"Документ отклонён по соображениям безопасности: {exc}", None
        ) from None
    except XmlSyntaxError as exc:
        raise DocumentError(
            DocumentErrorCode.XML_MALFORMED, f"Документ не является корректным XML: {exc}", None
        ) from None
    detected = detect_kind(root)
    if kind is not None:
        try:
            declared = DocumentKind(kind)
        except ValueError:
            raise DocumentError(DocumentErrorCode.UNKNOWN_KIND, f"Неизвестный вид документа «{kind}»", "kind") from None
        if declared is not detected:
            raise DocumentError(
                DocumentErrorCode.KIND_MISMATCH,
                f"Заявлен вид документа {declared.value}, а документ имеет вид {detected.value}",
                "kind",
            )
    return _parse(Reader(root, ""), detected)


def _parse(doc: Reader, kind: DocumentKind) -> ParsedDocument:
    """Read ``doc`` with the parser the kind table names for ``kind``."""
    from gateway.documents import kz031u, referral, result, return_notice

    parsers: dict[str, Callable[[Reader, DocumentKind], ParsedDocument]] = {
        "referral.parse_referral": referral.parse_referral,
        "result.parse_result": result.parse_result,
        "return_notice.parse_return_notice": return_notice.parse_return_notice,
        "kz031u.parse_kz031u": lambda d, _k: kz031u.parse_kz031u(d),
    }
    return parsers[KIND_TABLE[kind].parser](doc, kind)
