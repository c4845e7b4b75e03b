"""What the UI shows of stored bodies and reports: pretty-printed, with personal data masked.

Envelopes are parsed only with :mod:`gateway.wire.safexml`. Elements whose name says they hold personal
data (family, given, snils, …) lose their text; SNILS/IIN-shaped numbers anywhere are masked.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from lxml import etree

from gateway.common.pii import PII_KEYS, mask_text, mask_value, summarise_body
from gateway.wire.safexml import XmlSecurityError, XmlSyntaxError, parse_xml

__all__ = ["MAX_SHOWN_BYTES", "masked_envelope", "masked_json"]

MAX_SHOWN_BYTES: Final = 512 * 1024
# CDA/SMEV element names that carry personal data beyond PII_KEYS' generic field names.
_PII_ELEMENTS: Final = PII_KEYS | {"prefix", "suffix", "streetaddressline", "telecom", "birthtime", "addr"}


_MAX_INLINE: Final = 200
_BASE64: Final = re.compile(r"[A-Za-z0-9+/=\s]+")


def _local(tag: object) -> str:
    return etree.QName(tag).localname.lower() if isinstance(tag, str) else ""


def masked_envelope(body: bytes, content_type: str) -> str:
    """A readable, masked rendering of an exchanged message (XML or JSON); a summary otherwise."""
    if len(body) > MAX_SHOWN_BYTES:
        return f"(too large to show: {summarise_body(body)})"
    if "json" in content_type:
        try:
            return masked_json(json.loads(body))
        except ValueError:
            return summarise_body(body)
    try:
        root = parse_xml(body)
    except (XmlSecurityError, XmlSyntaxError, ValueError):
        return f"(not well-formed XML: {summarise_body(body)})"
    for el in root.iter():
        if _local(el.tag) in _PII_ELEMENTS:
            for child in el.iter():
                if child.text and child.text.strip():
                    child.text = "***"
                for attr in list(child.attrib):
                    if attr.lower() in {"value", "extension"} and _local(child.tag) in _PII_ELEMENTS:
                        child.attrib[attr] = "***"
        # An embedded document (base64 CDA in a SOAP body, a CMS signature) is personal data
        # in another encoding: summarised, never shown.
        if el.text and len(el.text) > _MAX_INLINE and _BASE64.fullmatch(el.text.strip()):
            el.text = f"(base64 {summarise_body(el.text.strip())})"
    text = etree.tostring(root, pretty_print=True, encoding="unicode")
    return mask_text(text)


def masked_json(value: Any) -> str:
    return json.dumps(mask_value(None, value), ensure_ascii=False, indent=2, sort_keys=True, default=str)
