"""The one way the gateway parses XML that came from outside.

Every envelope, document and signature the gateway reads is hostile until proven otherwise, so there
is exactly one way in: no DTD loading, no external or internal entity expansion, no network,
no huge-tree mode, and a byte limit checked *before* parsing. A document that declares a DTD at all is
refused: none of the peers' formats (CDA, SOAP, SMEV, ШЭП) needs one, and refusing it is the simplest
defence against entity-expansion bombs.

The DOCTYPE is refused by scanning the prolog *before libxml2 sees the bytes*: with a DOCTYPE in
front of it, libxml2 opens the file named by an external subset or a parameter entity even with
``load_dtd=False`` and ``no_network=True`` (seen with strace), which made the parser an oracle for
file existence and let a FIFO freeze the process. The scan understands the encodings libxml2 would
auto-detect (UTF-8, UTF-16 with or without a BOM, ASCII-compatible 8-bit encodings); any other
encoding (UTF-32, EBCDIC, UTF-7, ...) is refused rather than guessed at. As a second line, the
parser carries a resolver that answers every external load with nothing, so no file or URL is ever
opened during parsing even if a DTD slipped past the scan.
"""

from __future__ import annotations

import codecs
import re
from typing import Any, Final

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
    """The input is refused for safety (DTD, entities, size, encoding) before its content is looked at.

    ``code`` is the stable error code clients see; ``reason`` says which defence refused it
    (``doctype``, ``entity``, ``size``, ``encoding``, ``external``) for logs and tests.
    """

    code = "XML_FORBIDDEN_CONSTRUCT"

    def __init__(self, message: str, *, reason: str = "forbidden") -> None:
        super().__init__(message)
        self.reason = reason


class XmlSyntaxError(ValueError):
    """The input is not well-formed XML."""

    code = "XML_MALFORMED"


def make_parser(*, remove_blank_text: bool = False) -> etree.XMLParser:
    """A parser with every network/entity/DTD feature off, for files the gateway ships or the
    operator installs (XSD with xs:include/xs:import of sibling files, WSDL). A fresh one per call:
    lxml parsers are not safe to share between threads. Input from outside goes through
    :func:`parse_xml`, whose parser additionally refuses every external load."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=False,
        remove_comments=False,
        remove_pis=False,
        remove_blank_text=remove_blank_text,
        collect_ids=False,
    )


class _RefuseAll(etree.Resolver):
    """Answers every external load (DTD subset, parameter or general entity, XInclude) with empty
    content instead of letting libxml2 open the file or URL, and remembers that one was asked for.
    Raising here would not stop libxml2 (lxml stores the exception until the parse ends), so the
    load is neutralised and the parse refused afterwards."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def resolve(self, system_url: str, public_id: str, context: Any = None) -> Any:
        self.asked.append(str(system_url or public_id or "?")[:200])
        return self.resolve_string("", context, base_url=None)


def _hostile_parser(*, remove_blank_text: bool) -> tuple[etree.XMLParser, _RefuseAll]:
    parser = make_parser(remove_blank_text=remove_blank_text)
    resolver = _RefuseAll()
    parser.resolvers.add(resolver)
    return parser, resolver


# -- the prolog scan ------------------------------------------------------------------------------

# Encodings whose bytes for the ASCII range are ASCII, with no shift states or multi-byte sequences
# that could contain '<' or '!': a DOCTYPE in them is the same bytes as in UTF-8.
_ASCII_COMPATIBLE: Final = frozenset(
    {"utf-8", "ascii", "latin-1", "koi8-r", "koi8-u", "cp866"}
    | {f"iso8859-{n}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 14, 15, 16)}
    | {f"cp{n}" for n in range(1250, 1259)}
)
_DECLARATION: Final = re.compile(rb"<\?xml[ \t\r\n][^>]{0,400}?\?>")
_ENCODING: Final = re.compile(rb"""encoding[ \t\r\n]*=[ \t\r\n]*["']([A-Za-z0-9._:-]{1,40})["']""")
_SPACE: Final = re.compile(rb"[ \t\r\n]*")
_SPACE_TEXT: Final = re.compile(r"[ \t\r\n]*")


def _codec_name(label: str) -> str | None:
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _prolog_text(data: bytes) -> tuple[bytes | str, int]:
    """The input as the scan should read it, and where the prolog starts: the bytes themselves for
    UTF-8 and ASCII-compatible encodings, decoded text for UTF-16. Raises XmlSecurityError for an
    encoding the scan cannot read safely. Mirrors libxml2's auto-detection (XML 1.0 appendix F):
    BOMs, UTF-16/UCS-4 without a BOM (``<`` as 2 or 4 bytes), EBCDIC (``<?xm`` as 4C 6F A7 94)."""
    head = data[:4]
    if head.startswith(codecs.BOM_UTF8):
        return data, 3  # a BOM fixes UTF-8 whatever the declaration says
    if head in (
        codecs.BOM_UTF32_LE,
        codecs.BOM_UTF32_BE,
        b"\x00\x00\x00<",
        b"<\x00\x00\x00",
        b"\x00\x00<\x00",
        b"\x00<\x00\x00",
    ):
        raise XmlSecurityError("UCS-4/UTF-32 XML is not accepted; send UTF-8", reason="encoding")
    if head == b"\x4c\x6f\xa7\x94":
        raise XmlSecurityError("EBCDIC XML is not accepted; send UTF-8", reason="encoding")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace"), 0
    if head.startswith(b"<\x00"):
        return data.decode("utf-16-le", errors="replace"), 0
    if head.startswith(b"\x00<"):
        return data.decode("utf-16-be", errors="replace"), 0
    declaration = _DECLARATION.match(data)
    if declaration is not None:
        found = _ENCODING.search(declaration.group(0))
        if found is not None:
            label = found.group(1).decode("ascii")
            if _codec_name(label) not in _ASCII_COMPATIBLE:
                # UTF-7, ISO-2022-*, Shift_JIS, ...: '<!DOCTYPE' need not be those bytes there.
                raise XmlSecurityError(
                    f"XML declared in encoding {label!r} is not accepted; send UTF-8", reason="encoding"
                )
    return data, 0


def _refuse_doctype(data: bytes) -> None:
    """Walk the prolog (XML declaration, comments, processing instructions, white space) and refuse
    a document type declaration — or any other ``<!`` markup, which is only legal there as one.
    Linear: every step jumps with find() to the end of the construct."""
    text, pos = _prolog_text(data)
    if isinstance(text, str):
        _walk(text, pos, "<?", "?>", "<!--", "-->", "<!", _SPACE_TEXT)
    else:
        _walk(text, pos, b"<?", b"?>", b"<!--", b"-->", b"<!", _SPACE)


def _walk(text: Any, pos: int, pi: Any, pi_end: Any, comment: Any, comment_end: Any, bang: Any, space: Any) -> None:
    length = len(text)
    while pos < length:
        pos = space.match(text, pos).end()
        if text.startswith(comment, pos):
            end = text.find(comment_end, pos + 4)
            if end < 0:
                return  # unterminated: libxml2 reports it as malformed
            pos = end + 3
        elif text.startswith(pi, pos):
            end = text.find(pi_end, pos + 2)
            if end < 0:
                return
            pos = end + 2
        elif text.startswith(bang, pos):
            raise XmlSecurityError("a DOCTYPE/DTD is not allowed in exchanged XML", reason="doctype")
        else:
            return  # the root element (or garbage the parser will name)


def parse_xml(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, remove_blank_text: bool = False) -> etree._Element:
    """Parse ``data`` and return the root element, or raise a coded error.

    Raises XmlSecurityError for oversize input, a DOCTYPE (refused before libxml2 reads anything),
    an encoding the DOCTYPE scan cannot read, or any entity reference; XmlSyntaxError for malformed
    XML. Never opens a file or a URL.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("parse_xml takes bytes; decode nothing before the parser sees the declaration")
    if len(data) > max_bytes:
        raise XmlSecurityError(f"XML of {len(data)} bytes exceeds the limit of {max_bytes} bytes", reason="size")
    data = bytes(data)
    _refuse_doctype(data)
    parser, resolver = _hostile_parser(remove_blank_text=remove_blank_text)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        if resolver.asked:
            raise XmlSecurityError("external resources are not allowed", reason="external") from None
        # libxml2 reports undefined entities (which is what an entity bomb becomes once DTDs are
        # not loaded) as syntax errors; name them as the security refusal they are.
        message = str(exc)
        if "Entity" in message or "entity" in message:
            raise XmlSecurityError(f"entity references are not allowed: {message}", reason="entity") from None
        raise XmlSyntaxError(f"malformed XML: {message}") from None
    if resolver.asked:
        raise XmlSecurityError("external resources are not allowed", reason="external")
    if root is None:
        raise XmlSyntaxError("empty XML document")
    docinfo: etree.DocInfo = root.getroottree().docinfo
    has_doctype = bool(docinfo.doctype)  # type: ignore[attr-defined]  # missing from lxml-stubs
    if has_doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise XmlSecurityError("a DOCTYPE/DTD is not allowed in exchanged XML", reason="doctype")
    for node in root.iter(etree.Entity):
        raise XmlSecurityError(f"entity reference {node!r} is not allowed", reason="entity")
    return root
