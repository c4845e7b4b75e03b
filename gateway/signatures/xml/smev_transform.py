"""The SMEV 3 XMLDSig transform ``urn://smev-gov-ru/xmldsig/transform``.

Every SMEV 3 signature reference applies exc-c14n and then this transform before digesting, so a
signature made or checked by the gateway verifies at SMEV only if these bytes are *exactly* what
the reference Java implementation (``SmevTransformSpi``, StAX based, copied into most Russian
signing libraries) produces. The written rules:

1. the XML declaration, processing instructions and comments are dropped;
2. text that consists only of whitespace is dropped (see "flavours" for what one text is);
3. every element is written as a start and an end tag, never ``<a/>``;
4. unused namespace declarations are dropped; a namespace is declared on the element that first
   needs it;
5. prefixes are renamed ``ns1``, ``ns2``, … with one counter for the whole fragment, in document
   order; a declaration is visible only inside its element, so a later sibling that needs the same
   namespace gets a *new* prefix;
6. namespace declarations come before attributes: first the element's own namespace (if not yet in
   scope), then those of its attributes in attribute order;
7. attributes are sorted: namespace-qualified ones first, by namespace URI and then local name,
   then unqualified ones by name (Java ``String.compareTo`` order, i.e. UTF-16 code units).

**Flavours.** The reference code reads and writes through ``XMLInputFactory.newInstance()`` /
``XMLOutputFactory.newInstance()``, so its output depends on which StAX implementation the JVM
picks. We ran it (tests/vectors/smev_transform/reference/) on OpenJDK 17 with both common ones and
reproduce each exactly, for the exc-c14n form of the input (what the reference receives inside an
XMLDSig reference):

* ``"jdk"`` — the JDK's built-in StAX (no other StAX jar on the classpath).
  Text events are split the way the JDK scanner reports ``Characters``: every reference is an event
  of its own (after exc-c14n ``&``, ``<``, ``>`` and CR in text are always references), a run of
  content stops at a newline or ``]`` and at most two runs make one event; whitespace-only events
  are dropped. So ``a &amp; &amp; b`` becomes ``a &amp;&amp; b``, a CR in text always vanishes and
  ``a\\nb\\n  `` loses its last line. Text escapes ``& < >``; attribute values and namespace URIs
  escape ``& < > "`` and write tab, LF and CR raw. Elements in no namespace get a prefix bound to
  the empty URI (``<ns2:b xmlns:ns2="">``) and ``xml:*`` attributes a prefix bound to the XML
  namespace: not namespace-well-formed, but these are the bytes digested.
* ``"woodstox"`` — Woodstox on the classpath (it comes with Apache CXF, which most Java SMEV
  clients are built on, and with several application servers). A text run between markup is one
  event: dropped only if it is whitespace only. Text escapes ``&`` and ``<``, CR as ``&#xd;``, and
  ``>`` only at the start of the text or after ``]``; attribute values escape ``& < "`` and tab, LF,
  CR as ``&#x9;``, ``&#xa;``, ``&#xd;``. Elements in no namespace and ``xml:*`` attributes make
  Woodstox fail, so they raise SmevTransformError here.

Which flavour SMEV itself runs is not documented publicly; for typical payloads (no ``& < >``, CR
or multi-line text, no attribute whitespace escapes) both give the same bytes. A verifier can try
both; a signer picks one (``DEFAULT_FLAVOUR``).

Known divergences (measured, not modelled): both Java readers also split text at their input-buffer
boundaries (the JDK about every 8 KiB and once about 30 bytes into the stream, Woodstox once about
60 bytes in), which can drop whitespace lying across a boundary — this depends on byte offsets, and
in a real message the signed element's start tag covers the early boundary. Woodstox additionally
escapes ``>`` at the start of its internal text segments, which appear after runs of entity
references (e.g. ``111&lt;&lt;&lt;&lt;&lt;&lt;&lt;&lt;&gt;`` keeps ``&gt;``); here that ``>`` is
written raw.

Not idempotent, like the reference: transforming the output again can drop more whitespace. Both
Java readers split text at a PI, which the first pass removes; and in the ``"jdk"`` flavour a CR in
text (``&#xD;`` after exc-c14n) is an event of its own that the first pass drops, after which the
second pass splits the text around it differently (``]&#13;1\n`` gives ``]1\n``, then ``]1``).
We match the reference's bytes on every pass (tests/signatures/xml/test_smev_transform.py); from
the second pass on the output no longer changes.

Input is parsed with ``gateway.wire.safexml.parse_xml`` (no DTD, no entities, no network, size limit).
The output is UTF-8 bytes, meant for digesting, not for parsing back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Final, Literal

from lxml import etree

from gateway.wire.safexml import DEFAULT_MAX_BYTES, parse_xml

__all__ = ["ALGORITHM_URN", "DEFAULT_FLAVOUR", "Flavour", "SmevTransformError", "smev_transform"]

ALGORITHM_URN: Final = "urn://smev-gov-ru/xmldsig/transform"

Flavour = Literal["jdk", "woodstox"]
DEFAULT_FLAVOUR: Final[Flavour] = "jdk"

_XML_NS: Final = "http://www.w3.org/XML/1998/namespace"
# Characters exc-c14n writes as references in text (&amp; &lt; &gt; &#xD;): the JDK reader reports
# each reference as an event of its own.
_REFERENCES: Final = frozenset("&<>\r")
# Where the JDK's XMLEntityScanner.scanContent ends a run of content: a reference, a newline, "]".
_RUN_STOPS: Final = frozenset("&<>\r\n]")
_RUN_STOP_RE: Final = re.compile(r"[&<>\r\n\]]")
# Java's String.trim() removes every char <= U+0020; in XML text those are tab, LF, CR and space.
_WHITESPACE: Final = " \t\n\r"
_NON_WHITESPACE: Final = re.compile(r"[^\t\n\r ]")

_JDK_TEXT: Final = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_JDK_ATTR: Final = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})
_WSTX_TEXT: Final = str.maketrans({"&": "&amp;", "<": "&lt;", "\r": "&#xd;"})
_WSTX_ATTR: Final = str.maketrans(
    {"&": "&amp;", "<": "&lt;", '"': "&quot;", "\t": "&#x9;", "\n": "&#xa;", "\r": "&#xd;"}
)
# Woodstox escapes ">" where it could close "]]>": first in the text, or right after "]".
_WSTX_GT: Final = re.compile(r"(?:^|(?<=\]))>")


class SmevTransformError(ValueError):
    """The input cannot be transformed (an unexpanded entity reference; or, in the Woodstox
    flavour, an element in no namespace or an ``xml:*`` attribute, which Woodstox refuses)."""

    code = "SMEV_TRANSFORM_FAILED"


def _java_order(text: str) -> bytes:
    """A sort key that orders strings as Java's ``String.compareTo`` (UTF-16 code units)."""
    return text.encode("utf-16-be", "surrogatepass")


def _split_name(clark: str) -> tuple[str, str]:
    """``{uri}local`` → (uri, local); ``local`` → ("", local)."""
    if clark.startswith("{"):
        uri, _, local = clark[1:].partition("}")
        return uri, local
    return "", clark


# ----------------------------------------------------------------------------- text as events


def _scan_run(text: str, i: int) -> int:
    """XMLEntityScanner.scanContent: leading newlines, then content up to the next stop char."""
    n = len(text)
    while i < n and text[i] == "\n":
        i += 1
    stop = _RUN_STOP_RE.search(text, i)  # a C-level scan instead of a Python loop per character
    return stop.start() if stop else n


def _skip_brackets(text: str, i: int) -> int:
    while i < len(text) and text[i] == "]":
        i += 1
    return i


def _jdk_events(text: str) -> Iterator[str]:
    """The ``Characters`` events the JDK StAX reader (non-coalescing) reports for the exc-c14n
    form of one text run. Mirrors XMLDocumentFragmentScannerImpl's CHARACTER_DATA state: a run;
    then, unless it ended at markup or a reference, any "]"s and one more run (with its "]"s).
    A reference is always an event of its own."""
    i, n = 0, len(text)
    while i < n:
        if text[i] in _REFERENCES:
            yield text[i]
            i += 1
            continue
        start = i
        i = _scan_run(text, i)
        if i < n and text[i] == "]":
            i = _skip_brackets(text, i)
        elif i >= n or text[i] in _REFERENCES:
            yield text[start:i]
            continue
        i = _scan_run(text, i)
        if i < n and text[i] == "]":
            i = _skip_brackets(text, i)
        yield text[start:i]


# The checks below use chains of ``in`` (``_RUN_STOPS`` and the escaped characters written out)
# rather than a regex or ``str.translate``: on typical text (nothing to escape, often Cyrillic) an
# ``in`` is a C-level scan, while ``translate`` of a non-Latin-1 string costs about 2 µs and a regex
# search two to three times as much as the whole chain (measured on the bench envelope's text).


def _jdk_text(text: str) -> str:
    if not text.strip(_WHITESPACE):
        return ""  # whitespace only: so is every event of it, and all are dropped
    if "\n" in text or "]" in text or "&" in text or "<" in text or ">" in text or "\r" in text:
        return "".join(e.translate(_JDK_TEXT) for e in _jdk_events(text) if _NON_WHITESPACE.search(e))
    # No markup, reference, line break or "]": the reader reports the whole run as one event, and
    # the writer has nothing to escape in it.
    return text


def _woodstox_text(text: str) -> str:
    if not text.strip(_WHITESPACE):
        return ""
    if "&" in text or "<" in text or ">" in text or "\r" in text:
        # Escape first: "]" and ">" are unchanged by it, so the ">" rule sees the same neighbours.
        return _WSTX_GT.sub("&gt;", text.translate(_WSTX_TEXT))
    return text


def _jdk_attr(value: str) -> str:
    if "&" in value or "<" in value or ">" in value or '"' in value:
        return value.translate(_JDK_ATTR)
    return value


def _woodstox_attr(value: str) -> str:
    if "&" in value or "<" in value or '"' in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_WSTX_ATTR)
    return value


def _attribute_order(attribute: tuple[str, str, str]) -> tuple[int, bytes, bytes]:
    """Rule 7: qualified attributes first (by URI, then local name), then unqualified ones by name."""
    uri, local, _ = attribute
    return (0, _java_order(uri), _java_order(local)) if uri else (1, b"", _java_order(local))


# ------------------------------------------------------------------------------------- writer

# What an open element needs at its end: its end tag, and the URIs it declared (None if none).
_Open = tuple[str, list[str] | None]


class _Scope:
    """The prefixes in scope while writing, and what is cached from them.

    ``bound`` maps a namespace URI to the prefix an open element declared for it. The reference
    declares a URI only on an element where it is not bound yet (rule 4), so a bound URI is never
    re-bound: one dict answers "which prefix" in O(1) (no scopes to scan), and an element's own
    declarations are deleted from it at its end.

    Two caches, per Clark tag of an element whose namespace is bound, hold what is written for it:
    ``plain`` the whole start tag of an attribute-less one and ``opening`` the ``<prefix:local`` of
    any, each with the ``_Open`` entry of its end. Attribute-less elements are most of a real
    message (one dict look-up each), and a single unqualified attribute (``Id``, a row number) is
    the next most common shape. The entries depend on the bindings, so both caches are emptied
    whenever a binding ends (only at the ends of elements that declared something)."""

    __slots__ = ("attr", "bound", "counter", "names", "opening", "plain", "strict_names")

    def __init__(self, flavour: Flavour) -> None:
        self.bound: dict[str, str] = {}
        self.counter = 1
        self.plain: dict[object, tuple[str, _Open]] = {}
        self.opening: dict[object, tuple[str, _Open]] = {}
        self.names: dict[str, tuple[str, str]] = {}
        self.attr: Callable[[str], str] = _jdk_attr if flavour == "jdk" else _woodstox_attr
        self.strict_names = flavour == "woodstox"

    def split(self, clark: str) -> tuple[str, str]:
        """``_split_name``, memoised: a document repeats few distinct names many times."""
        parts = self.names.get(clark)
        if parts is None:
            parts = self.names[clark] = _split_name(clark)
        return parts

    def prefix_for(self, uri: str, declared: list[str]) -> str:
        """The prefix for ``uri``; a new one (appended to ``declared``) if it is not in scope."""
        prefix = self.bound.get(uri)
        if prefix is None:
            if self.strict_names and uri in ("", _XML_NS):
                raise SmevTransformError(
                    "the Woodstox flavour cannot bind a prefix to "
                    + ("the empty namespace (element in no namespace)" if uri == "" else "the xml namespace")
                )
            prefix = self.bound[uri] = f"ns{self.counter}"
            self.counter += 1
            declared.append(uri)
        return prefix

    def start(self, tag: object, items: list[tuple[str, str]]) -> tuple[str, _Open]:
        """Rules 4-7 for one element (Clark ``tag``, attribute ``items``): its start tag, with the
        declarations it needs now in scope, and the entry ``end`` takes. (The caller looks up
        ``plain`` itself for attribute-less elements.)"""
        opening = self.opening.get(tag)
        if opening is not None and len(items) == 1 and not items[0][0].startswith("{"):
            name, value = items[0]  # one unqualified attribute: nothing to sort or declare
            return f'{opening[0]} {name}="{self.attr(value)}">', opening[1]
        return self._render(tag, items)

    def _render(self, tag: object, items: list[tuple[str, str]]) -> tuple[str, _Open]:
        if not isinstance(tag, str):  # iterwalk reports an entity reference as an element
            raise SmevTransformError("unexpanded entity references cannot be transformed")
        declared: list[str] = []
        uri, local = self.split(tag)
        qname = f"{self.prefix_for(uri, declared)}:{local}"
        if not declared:  # the namespace is bound: cache (what attributes declare is not cached)
            self.opening[tag] = (f"<{qname}", (f"</{qname}>", None))
        attributes = self._attributes(items, declared) if items else ""
        # the element's own namespace first, then its attributes' in attribute order (rule 6)
        declarations = "".join(f' xmlns:{self.bound[bound]}="{self.attr(bound)}"' for bound in declared)
        written = f"<{qname}{declarations}{attributes}>", (f"</{qname}>", declared or None)
        if not items and not declared:
            self.plain[tag] = written
        return written

    def _attributes(self, items: list[tuple[str, str]], declared: list[str]) -> str:
        """Rule 7 order; the prefixes of qualified attributes, declaring those not in scope."""
        attr = self.attr
        if len(items) == 1 and not items[0][0].startswith("{"):
            name, value = items[0]
            return f' {name}="{attr(value)}"'
        attributes = [(*self.split(key), value) for key, value in items]
        attributes.sort(key=_attribute_order)
        return "".join(
            f' {self.prefix_for(uri, declared)}:{local}="{attr(value)}"' if uri else f' {local}="{attr(value)}"'
            for uri, local, value in attributes
        )

    def end(self, declared: list[str]) -> None:
        """Close the scope of an element that declared ``declared`` (rule 5: a declaration is
        visible only inside its element)."""
        for uri in declared:
            del self.bound[uri]
        self.plain.clear()
        self.opening.clear()


_EVENTS: Final = ("start", "end", "comment", "pi")


def _transform_element(root: etree._Element, flavour: Flavour) -> bytes:
    """One pass over lxml's C-level ``iterwalk`` events (no Python frame stack, no per-child
    iterator): a start tag per "start", an end tag per "end", the pending text run written before
    each tag and PI. This loop runs a few times per element of every signed message, so the
    text flush is written out inline and the common cases are dict look-ups (see ``_Scope``)."""
    scope = _Scope(flavour)
    plain = scope.plain
    text_of = _jdk_text if flavour == "jdk" else _woodstox_text
    out: list[str] = []
    write = out.append
    open_elements: list[_Open] = []
    # The current text run: what follows the last tag or PI, plus the tails of the comments since
    # (comments vanish in exc-c14n, so the text around one is one run; PIs survive it and end it).
    run: str | None = None
    for event, node in etree.iterwalk(root, events=_EVENTS):
        if event == "start":
            if run:
                text = text_of(run)
                if text:
                    write(text)
            tag = node.tag
            items = node.items()
            written = None if items else plain.get(tag)
            if written is None:
                written = scope.start(tag, items)
            write(written[0])
            open_elements.append(written[1])
            run = node.text
        elif event == "end":
            if run:
                text = text_of(run)
                if text:
                    write(text)
            end_tag, declared = open_elements.pop()
            write(end_tag)
            if declared is not None:
                scope.end(declared)
            run = node.tail  # the parent's run (after the root's end nothing reads it)
        elif event == "comment":
            if node.tail:
                run = run + node.tail if run else node.tail
        else:  # "pi"
            if run:
                text = text_of(run)
                if text:
                    write(text)
            run = node.tail
    return "".join(out).encode("utf-8")


def smev_transform(
    source: bytes | etree._Element | etree._ElementTree,
    *,
    flavour: Flavour = DEFAULT_FLAVOUR,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> bytes:
    """Apply ``urn://smev-gov-ru/xmldsig/transform`` to an XML fragment.

    ``source`` is serialized XML (parsed safely, limited to ``max_bytes``) or an lxml element,
    whose subtree is transformed (its tail and ancestors are not part of it). Returns the UTF-8
    bytes the reference Java implementation returns, with the given StAX ``flavour``, for the
    exc-c14n form of the same element (see the module docstring for the one known divergence).

    Raises ``gateway.wire.safexml.XmlSecurityError`` / ``XmlSyntaxError`` for refused or malformed
    input and ``SmevTransformError`` for trees that cannot be transformed."""
    if flavour not in ("jdk", "woodstox"):
        raise ValueError(f"unknown flavour {flavour!r}: expected 'jdk' or 'woodstox'")
    if isinstance(source, bytes | bytearray | memoryview):
        root = parse_xml(bytes(source), max_bytes=max_bytes)
    elif isinstance(source, etree._ElementTree):
        root = source.getroot()
    elif isinstance(source, etree._Element):
        root = source
    else:
        raise TypeError("smev_transform takes bytes or an lxml element")
    if not isinstance(root.tag, str):
        raise SmevTransformError("the fragment must be an element, not a comment or PI")
    return _transform_element(root, flavour)
