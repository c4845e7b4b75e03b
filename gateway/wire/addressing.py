"""WS-Addressing 1.0 headers (MessageID, Action, To, ReplyTo/Address, RelatesTo) of a SOAP message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from lxml import etree

__all__ = ["WSA_ANONYMOUS", "WSA_FAULT_ACTION", "WSA_NS", "Addressing", "add_addressing", "read_addressing"]

WSA_NS: Final = "http://www.w3.org/2005/08/addressing"
WSA_ANONYMOUS: Final = "http://www.w3.org/2005/08/addressing/anonymous"
WSA_FAULT_ACTION: Final = "http://www.w3.org/2005/08/addressing/soap/fault"

_WSA: Final = f"{{{WSA_NS}}}"


@dataclass(frozen=True, slots=True)
class Addressing:
    """The WS-Addressing headers of one message (all optional on the wire)."""

    message_id: str | None = None
    action: str | None = None
    to: str | None = None
    reply_to: str | None = None
    relates_to: str | None = None


def _header_text(header: etree._Element | None, name: str) -> str | None:
    if header is None:
        return None
    el = header.find(f"{_WSA}{name}")
    if el is None or el.text is None:
        return None
    return el.text.strip() or None


def read_addressing(header: etree._Element | None) -> Addressing:
    """The addressing headers found in ``header`` (a SOAP Header element, or None)."""
    reply_to = None
    if header is not None:
        reply_el = header.find(f"{_WSA}ReplyTo")
        if reply_el is not None:
            address = reply_el.find(f"{_WSA}Address")
            if address is not None and address.text:
                reply_to = address.text.strip() or None
    return Addressing(
        message_id=_header_text(header, "MessageID"),
        action=_header_text(header, "Action"),
        to=_header_text(header, "To"),
        reply_to=reply_to,
        relates_to=_header_text(header, "RelatesTo"),
    )


def _text_el(parent: etree._Element, tag: str, text: str) -> etree._Element:
    el = etree.SubElement(parent, tag)
    el.text = text
    return el


def add_addressing(header: etree._Element, a: Addressing) -> None:
    """Append the non-empty headers of ``a`` to ``header``, in the order above."""
    if a.message_id:
        _text_el(header, f"{_WSA}MessageID", a.message_id)
    if a.action:
        _text_el(header, f"{_WSA}Action", a.action)
    if a.to:
        _text_el(header, f"{_WSA}To", a.to)
    if a.reply_to:
        reply = etree.SubElement(header, f"{_WSA}ReplyTo")
        _text_el(reply, f"{_WSA}Address", a.reply_to)
    if a.relates_to:
        _text_el(header, f"{_WSA}RelatesTo", a.relates_to)
