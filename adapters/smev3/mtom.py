"""MTOM/XOP for SMEV 3 attachments (``AttachmentContentList``).

SMEV 3 carries the bytes of an attachment outside the XML: ``AttachmentContent/Content`` holds an
``xop:Include href="cid:..."`` and the bytes travel as a binary part of a ``multipart/related;
type="application/xop+xml"`` HTTP body (W3C XOP 1.0 / SOAP MTOM, as JAX-WS sends it for SMEV's
``xmime:expectedContentTypes="application/octet-stream"``). The ЭП-ОВ covers
``SenderProvidedRequestData`` with the ``AttachmentHeaderList`` (content ids, MIME types,
SignaturePKCS7), never the content, so the root part can be signed before the parts are added.

- :func:`to_xop` turns a built envelope whose ``Content`` elements are empty into the XOP root part;
- :func:`pack` writes the multipart body (the attachment bytes are not base64-encoded: MTOM's point);
- :func:`unpack` reads one back (the parts are memoryviews into the body: no copies);
- :func:`parse_message` parses any SMEV 3 answer, multipart or plain, and fills each
  ``AttachmentContent`` with its part.

Bad input raises :class:`MtomError` with a stable code (``MTOM_MALFORMED``, ``MTOM_NO_ROOT``,
``MTOM_MISSING_PART``).
"""

from __future__ import annotations

import dataclasses
import itertools
import re
import secrets
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from lxml import etree

from adapters.smev3 import messages as m
from adapters.smev3.codec import Message, Smev3Codec
from gateway.wire import soap11
from gateway.wire.safexml import DEFAULT_MAX_BYTES, parse_xml

__all__ = [
    "XOP_NS",
    "MtomError",
    "Part",
    "content_id_for",
    "is_multipart",
    "pack",
    "parse_message",
    "resolve",
    "to_xop",
    "unpack",
    "xop_references",
]

XOP_NS: Final = "http://www.w3.org/2004/08/xop/include"
ROOT_ID: Final = "root.message@mse-gateway"
_CRLF: Final = b"\r\n"


class MtomError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Part:
    """One binary part: ``content_id`` without angle brackets."""

    content_id: str
    data: bytes | memoryview
    content_type: str = "application/octet-stream"


def content_id_for(attachment_id: str) -> str:
    """The Content-ID of an attachment's part (RFC 2392 form: local@domain)."""
    return f"{urllib.parse.quote(attachment_id, safe='')}@attachments.mse-gateway"


def is_multipart(content_type: str | None) -> bool:
    return (content_type or "").strip().lower().startswith("multipart/related")


def to_xop(envelope: bytes, hrefs: Mapping[str, str]) -> bytes:
    """The envelope with ``xop:Include href="cid:<hrefs[Id]>"`` in each ``AttachmentContent/Content``
    named in ``hrefs`` (by its ``Id``). The Content elements must be empty (built with empty bytes)."""
    root = parse_xml(envelope)
    found: set[str] = set()
    for item in root.iter("{*}AttachmentContent"):
        ident_el = item.find("{*}Id")
        content = item.find("{*}Content")
        ident = (ident_el.text or "").strip() if ident_el is not None else ""
        if content is None or ident not in hrefs:
            continue
        if (content.text or "").strip():
            raise MtomError("MTOM_MALFORMED", f"AttachmentContent {ident!r} already carries inline content")
        content.text = None
        include = etree.SubElement(content, f"{{{XOP_NS}}}Include", nsmap={"xop": XOP_NS})
        include.set("href", f"cid:{hrefs[ident]}")
        found.add(ident)
    missing = set(hrefs) - found
    if missing:
        raise MtomError("MTOM_MISSING_PART", f"no AttachmentContent for {sorted(missing)}")
    return soap11.serialize(root)


def xop_references(root: etree._Element) -> dict[str, str]:
    """AttachmentContent Id → the Content-ID its ``xop:Include`` points at."""
    out: dict[str, str] = {}
    for item in root.iter("{*}AttachmentContent"):
        ident_el = item.find("{*}Id")
        include = item.find(f"{{*}}Content/{{{XOP_NS}}}Include")
        if ident_el is None or include is None:
            continue
        href = (include.get("href") or "").strip()
        if not href.lower().startswith("cid:"):
            raise MtomError("MTOM_MALFORMED", f"xop:Include href {href!r} is not a cid: URL")
        out[(ident_el.text or "").strip()] = urllib.parse.unquote(href[4:])
    return out


def pack(root_xml: bytes, parts: Sequence[Part], *, boundary: str | None = None) -> tuple[str, bytes]:
    """The HTTP Content-Type and body of a multipart/related MTOM message: the root part
    (``application/xop+xml; type="text/xml"``, SOAP 1.1) then each part, binary."""
    boundary = boundary or f"MIMEBoundary_{secrets.token_hex(16)}"
    delimiter = b"--" + boundary.encode("ascii")
    chunks: list[bytes | memoryview] = [
        delimiter,
        _CRLF,
        b'Content-Type: application/xop+xml; charset=UTF-8; type="text/xml"\r\n',
        b"Content-Transfer-Encoding: binary\r\n",
        f"Content-ID: <{ROOT_ID}>\r\n\r\n".encode("ascii"),
        root_xml,
    ]
    for part in parts:
        chunks += [
            _CRLF,
            delimiter,
            _CRLF,
            f"Content-Type: {part.content_type}\r\n".encode("ascii"),
            b"Content-Transfer-Encoding: binary\r\n",
            f"Content-ID: <{part.content_id}>\r\n\r\n".encode("ascii"),
            part.data,
        ]
    chunks += [_CRLF, delimiter, b"--", _CRLF]
    content_type = (
        f'multipart/related; type="application/xop+xml"; boundary="{boundary}"; '
        f'start="<{ROOT_ID}>"; start-info="text/xml"'
    )
    return content_type, b"".join(chunks)


_PARAM = re.compile(r';\s*([A-Za-z0-9_.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]+)')


def _params(content_type: str) -> dict[str, str]:
    return {k.lower(): v[1:-1] if v.startswith('"') else v for k, v in _PARAM.findall(content_type)}


def _headers(raw: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in raw.split(b"\r\n"):
        name, sep, value = line.partition(b":")
        if sep:
            out[name.strip().decode("latin-1").lower()] = value.strip().decode("latin-1")
    return out


def _cid(value: str) -> str:
    return value.strip().removeprefix("<").removesuffix(">").strip()


def unpack(content_type: str, body: bytes | memoryview) -> tuple[bytes, dict[str, memoryview]]:
    """The root part (the SOAP envelope) and the other parts by Content-ID. Parts are views into
    ``body`` (no copy); only ``binary``/``8bit``/``7bit`` transfer encodings are accepted."""
    params = _params(content_type)
    boundary = params.get("boundary")
    if not boundary:
        raise MtomError("MTOM_MALFORMED", "multipart/related without a boundary")
    source = bytes(body) if isinstance(body, memoryview) else body
    delimiter = b"--" + boundary.encode("latin-1")
    positions: list[int] = []
    start = source.find(delimiter)
    while start != -1:
        positions.append(start)
        start = source.find(b"\r\n" + delimiter, start + len(delimiter))
        if start != -1:
            start += 2
    if len(positions) < 2:
        raise MtomError("MTOM_MALFORMED", "no multipart parts found for the boundary")
    view = memoryview(source)
    parts: list[tuple[dict[str, str], memoryview]] = []
    for begin, end in itertools.pairwise(positions):
        head_start = begin + len(delimiter)
        if source[head_start : head_start + 2] == b"--":
            break
        head_start = source.find(b"\r\n", head_start) + 2
        head_end = source.find(b"\r\n\r\n", head_start - 2)
        if head_end == -1 or head_end > end:
            raise MtomError("MTOM_MALFORMED", "a multipart part without a header block")
        headers = _headers(source[head_start:head_end])
        encoding = headers.get("content-transfer-encoding", "binary").lower()
        if encoding not in ("binary", "8bit", "7bit"):
            raise MtomError("MTOM_MALFORMED", f"transfer encoding {encoding!r} is not supported")
        content_end = end - 2 if source[end - 2 : end] == b"\r\n" else end
        parts.append((headers, view[head_end + 4 : content_end]))
    if not parts:
        raise MtomError("MTOM_NO_ROOT", "the multipart body has no parts")
    wanted = _cid(params["start"]) if "start" in params else None
    root_index = 0
    if wanted is not None:
        matches = [i for i, (h, _) in enumerate(parts) if _cid(h.get("content-id", "")) == wanted]
        if not matches:
            raise MtomError("MTOM_NO_ROOT", f"no part has the start Content-ID <{wanted}>")
        root_index = matches[0]
    root_headers, root_view = parts[root_index]
    root_type = root_headers.get("content-type", "").lower()
    if not (root_type.startswith("application/xop+xml") or root_type.startswith("text/xml")):
        raise MtomError("MTOM_NO_ROOT", f"the root part is {root_type or 'untyped'}, not application/xop+xml")
    others = {
        _cid(h.get("content-id", "")): v for i, (h, v) in enumerate(parts) if i != root_index and h.get("content-id")
    }
    return bytes(root_view), others


def parse_message(
    codec: Smev3Codec, content_type: str | None, body: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[Message, bytes]:
    """Any SMEV 3 message, multipart (MTOM) or plain, with every ``AttachmentContent`` filled from
    its part; and the XML of the envelope (for the signature checks and the journal). Raises
    :class:`MtomError` or :class:`~adapters.smev3.codec.Smev3FormatError`."""
    if not is_multipart(content_type):
        return codec.parse(body, max_bytes=max_bytes), body
    assert content_type is not None
    root_xml, parts = unpack(content_type, body)
    message = codec.parse(root_xml, max_bytes=max_bytes)
    return resolve(message, root_xml, parts, max_bytes=max_bytes), root_xml


def resolve(
    message: Message, root_xml: bytes, parts: Mapping[str, memoryview], *, max_bytes: int = DEFAULT_MAX_BYTES
) -> Message:
    """``message`` (parsed from ``root_xml``) with each xop-included AttachmentContent filled."""
    if not parts and XOP_NS.encode() not in root_xml:
        return message  # no xop:Include anywhere: nothing to fill (plain SOAP, the common case)
    return _resolve(message, xop_references(parse_xml(root_xml, max_bytes=max_bytes)), parts)


def _fill(
    items: tuple[m.AttachmentContent, ...], refs: Mapping[str, str], parts: Mapping[str, memoryview]
) -> tuple[m.AttachmentContent, ...]:
    out: list[m.AttachmentContent] = []
    for item in items:
        cid = refs.get(item.id)
        if cid is None:
            out.append(item)
            continue
        part = parts.get(cid)
        if part is None:
            raise MtomError("MTOM_MISSING_PART", f"AttachmentContent {item.id!r} points at <{cid}>, which is not there")
        out.append(dataclasses.replace(item, content=bytes(part)))
    return tuple(out)


def _resolve(message: Message, refs: Mapping[str, str], parts: Mapping[str, memoryview]) -> Message:
    if not refs:
        return message
    if isinstance(message, m.SendRequestRequest | m.SendResponseRequest):
        return dataclasses.replace(message, attachments=_fill(message.attachments, refs, parts))
    if isinstance(message, m.GetResponseResponse | m.GetRequestResponse):
        return dataclasses.replace(message, attachments=_fill(message.attachments, refs, parts))
    return message
