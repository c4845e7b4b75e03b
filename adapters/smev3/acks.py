"""What the consumer's and the provider's receive lanes share: Ack with its rules, the MessageId
of a queued message the codec cannot read, and the errors that back the receiver off."""

from __future__ import annotations

from typing import Final

from adapters.smev3 import messages as m
from adapters.smev3.client import Smev3Client
from gateway.wire.safexml import XmlSecurityError, XmlSyntaxError, parse_xml

__all__ = ["AckFailed", "Smev3ReceiveError", "acknowledge", "lax_message_id"]

_ACK_ALREADY_DONE: Final = "TargetMessageIsNotFound"


class Smev3ReceiveError(ConnectionError):
    """GetResponse or Ack failed at the transport or with an SMEV fault: the receiver backs off."""


class AckFailed(Smev3ReceiveError):
    """An Ack of a message already recorded failed."""


async def acknowledge(client: Smev3Client, message_id: str, *, accepted: bool) -> None:
    """Ack one message; raises :class:`AckFailed` unless SMEV took it (or had it already)."""
    ex = await client.ack(message_id, accepted)
    if isinstance(ex.message, m.AckResponse):
        return
    if ex.fault is not None and ex.fault.code == _ACK_ALREADY_DONE:
        return  # acknowledged before (a redelivery raced an earlier Ack): nothing left to do
    reason = ex.fault.text if ex.fault is not None else ex.error
    raise AckFailed(f"Ack of {message_id} failed: {reason}")


def lax_message_id(body: bytes) -> str | None:
    """MessageMetadata/MessageId of a queued message the codec could not read (to Ack it)."""
    try:
        root = parse_xml(body)
    except (XmlSecurityError, XmlSyntaxError):
        return None
    found = root.xpath("//*[local-name()='MessageMetadata']/*[local-name()='MessageId']/text()")
    if isinstance(found, list) and found:
        return str(found[0]).strip() or None
    return None
