"""The one way the gateway parses XML that came from outside.

Every envelope, document and signature the gateway reads is hostile until proven otherwise, so there
is exactly one parser factory: no DTD loading, no external or internal entity expansion, no network,
no huge-tree mode, and a byte limit checked *before* parsing. A document that declares a DTD at all is
refused: none of the peers' formats (CDA, SOAP, SMEV, ШЭП) needs one, and refusing it is the simplest
defence against entity-expansion bombs.
"""

from __future__ import annotations

from typing import Final

from lxml import etree

__all__ = [
    "DEFAULT_MAX_BYTES",
    "XmlSecurityError",
    "XmlSyntaxError",
    "make_parser",
    "parse_xml",
]

DEFAULT_MAX_BYTES: Final = 20 * 1024 * 1024


class XmlSecurityError(ValueError):
    """The input is refused for safety (DTD, entities, size) before its content is looked at."""

    code = "XML_FORBIDDEN_CONSTRUCT"


class XmlSyntaxError(ValueError):
    """The input is not well-formed XML."""

    code = "XML_MALFORMED"


def make_parser(*, remove_blank_text: bool = False) -> etree.XMLParser:
    """A parser with every network/entity/DTD feature off. A fresh one per call: lxml parsers are
    not safe to share between threads."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
        remove_pis=False,
        remove_blank_text=remove_blank_text,
        collect_ids=False,
    )


def parse_xml(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, remove_blank_text: bool = False) -> etree._Element:
    """Parse ``data`` and return the root element, or raise a coded error.

    Raises XmlSecurityError for oversize input, a DOCTYPE, or any entity declaration/reference that
    libxml2 would otherwise expand; XmlSyntaxError for malformed XML.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("parse_xml takes bytes; decode nothing before the parser sees the declaration")
    if len(data) > max_bytes:
        raise XmlSecurityError(f"XML of {len(data)} bytes exceeds the limit of {max_bytes} bytes")
    try:
        root = etree.fromstring(bytes(data), parser=make_parser(remove_blank_text=remove_blank_text))
    except etree.XMLSyntaxError as exc:
        # libxml2 reports undefined entities (which is what an entity bomb becomes once DTDs are
        # not loaded) as syntax errors; name them as the security refusal they are.
        message = str(exc)
        if "Entity" in message or "entity" in message:
            raise XmlSecurityError(f"entity references are not allowed: {message}") from None
        raise XmlSyntaxError(f"malformed XML: {message}") from None
    if root is None:
        raise XmlSyntaxError("empty XML document")
    docinfo: etree.DocInfo = root.getroottree().docinfo
    has_doctype = bool(docinfo.doctype)  # type: ignore[attr-defined]  # missing from lxml-stubs
    if has_doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise XmlSecurityError("a DOCTYPE/DTD is not allowed in exchanged XML")
    for node in root.iter(etree.Entity):
        raise XmlSecurityError(f"entity reference {node!r} is not allowed")
    return root
