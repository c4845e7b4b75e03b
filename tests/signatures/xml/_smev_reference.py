"""The SMEV transform as it was before the performance rewrite (commit 135feda), kept as a slow
reference for ``test_smev_transform.py``: the optimised ``gateway.signatures.xml.smev_transform``
must give byte-identical output (and refuse the same inputs) for both flavours.

Copied verbatim from ``gateway/signatures/xml/smev_transform.py`` at 135feda except for this
docstring and ``__all__``; the rules are documented in that module. Do not optimise this copy.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Final, Literal

from lxml import etree

from gateway.wire.safexml import DEFAULT_MAX_BYTES, parse_xml

__all__ = ["smev_transform"]

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


def _jdk_text(text: str) -> str:
    if _RUN_STOP_RE.search(text) is None:
        # No markup, reference, line break or "]": the reader reports the whole run as one event.
        return text.translate(_JDK_TEXT) if _NON_WHITESPACE.search(text) else ""
    return "".join(e.translate(_JDK_TEXT) for e in _jdk_events(text) if _NON_WHITESPACE.search(e))


def _woodstox_text(text: str) -> str:
    if not _NON_WHITESPACE.search(text):
        return ""
    # Escape first: "]" and ">" are unchanged by it, so the ">" rule sees the same neighbours.
    return _WSTX_GT.sub("&gt;", text.translate(_WSTX_TEXT))


def _jdk_attr(value: str) -> str:
    return value.translate(_JDK_ATTR)


def _woodstox_attr(value: str) -> str:
    return value.translate(_WSTX_ATTR)


# ------------------------------------------------------------------------------------- writer


class _Writer:
    """Output buffer plus the prefix scopes, one list of (uri, prefix) per open element."""

    __slots__ = ("attr", "counter", "out", "scopes", "strict_names", "text_of")

    def __init__(self, flavour: Flavour) -> None:
        self.out: list[str] = []
        self.scopes: list[list[tuple[str, str]]] = []
        self.counter = 1
        self.text_of: Callable[[str], str] = _jdk_text if flavour == "jdk" else _woodstox_text
        self.attr: Callable[[str], str] = _jdk_attr if flavour == "jdk" else _woodstox_attr
        self.strict_names = flavour == "woodstox"

    def _find(self, uri: str) -> str | None:
        for scope in reversed(self.scopes):
            for bound_uri, prefix in scope:
                if bound_uri == uri:
                    return prefix
        return None

    def _prefix_for(self, uri: str, scope: list[tuple[str, str]]) -> str:
        prefix = self._find(uri)
        if prefix is None:
            if self.strict_names and uri in ("", _XML_NS):
                raise SmevTransformError(
                    "the Woodstox flavour cannot bind a prefix to "
                    + ("the empty namespace (element in no namespace)" if uri == "" else "the xml namespace")
                )
            prefix = f"ns{self.counter}"
            self.counter += 1
            scope.append((uri, prefix))
        return prefix

    def start(self, element: etree._Element) -> str:
        """Write the start tag of ``element`` and open its scope; return the tag's qname."""
        scope: list[tuple[str, str]] = []
        self.scopes.append(scope)
        uri, local = _split_name(str(element.tag))
        qname = f"{self._prefix_for(uri, scope)}:{local}"

        rendered: list[str] = []
        if not element.attrib:  # most elements: skip the sort machinery entirely
            self.out.append(f"<{qname}")
            self.out.extend(f' xmlns:{prefix}="{self.attr(bound)}"' for bound, prefix in scope)
            self.out.append(">")
            return qname
        attributes = [(*_split_name(str(key)), str(value)) for key, value in element.attrib.items()]
        if len(attributes) > 1:
            # Qualified attributes first (by URI, then local name), then unqualified ones by name.
            attributes.sort(
                key=lambda a: (0, _java_order(a[0]), _java_order(a[1])) if a[0] else (1, b"", _java_order(a[1]))
            )
        for attr_uri, attr_local, value in attributes:
            name = f"{self._prefix_for(attr_uri, scope)}:{attr_local}" if attr_uri else attr_local
            rendered.append(f' {name}="{self.attr(value)}"')

        self.out.append(f"<{qname}")
        self.out.extend(f' xmlns:{prefix}="{self.attr(bound)}"' for bound, prefix in scope)
        self.out.extend(rendered)
        self.out.append(">")
        return qname

    def end(self, qname: str) -> None:
        self.out.append(f"</{qname}>")
        self.scopes.pop()

    def text(self, pieces: list[str]) -> None:
        """Write one text run (the pieces are joined first) the way the flavour's reader and
        writer would."""
        if pieces:
            self.out.append(self.text_of("".join(pieces)))
            pieces.clear()


def _transform_element(root: etree._Element, flavour: Flavour) -> bytes:
    writer = _Writer(flavour)
    # Each frame: the element's qname in the output, an iterator over its children, and the text
    # run collected so far (comments vanish in exc-c14n, so their tails join the run; PIs survive
    # exc-c14n and end it).
    frames: list[tuple[str, Iterator[etree._Element], list[str]]] = []
    frames.append((writer.start(root), iter(root), [root.text or ""]))
    while frames:
        qname, children, pending = frames[-1]
        child = next(children, None)
        if child is None:
            writer.text(pending)
            writer.end(qname)
            frames.pop()
            continue
        if isinstance(child, etree._Comment):
            pending.append(child.tail or "")
        elif isinstance(child, etree._ProcessingInstruction):
            writer.text(pending)
            pending.append(child.tail or "")
        elif isinstance(child, etree._Entity):
            raise SmevTransformError("unexpanded entity references cannot be transformed")
        else:
            writer.text(pending)
            # The child's tail belongs to this (the parent's) text run, written after the child.
            pending.append(child.tail or "")
            frames.append((writer.start(child), iter(child), [child.text or ""]))
    return "".join(writer.out).encode("utf-8")


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
