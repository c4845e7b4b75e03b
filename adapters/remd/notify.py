"""The ``remd-soap`` notification channel: outcome notices for MIS that submitted through the SOAP
front door, delivered as REMD's own ``registerDocumentResult`` callback to their ReplyTo address.

The MIS correlates it exactly as it would a REMD callback: ``relatesToMessage`` (and
wsa:RelatesTo) is the MessageID of its registerDocumentRequest, kept as the submission's
``origin_ref``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Final

import aiohttp

from adapters.remd.mapping import (
    ACTION_RESULT,
    MappingError,
    build_register_document_result_envelope,
    result_from_notice,
)
from gateway.model import PendingNotice
from gateway.notices.notifier import ChannelSender, DeliveryError
from gateway.wire.transport import TransportError, post_soap

__all__ = ["CHANNEL", "notice_message_id", "remd_soap_sender"]

CHANNEL: Final = "remd-soap"
_MESSAGE_NS: Final = uuid.UUID("6f0d3c1e-2b7a-5d0e-9a51-3c8e1f0b7d42")


def notice_message_id(notice: PendingNotice) -> str:
    """A wsa:MessageID stable across retries of the same notice, so an MIS can drop repeats."""
    digest = hashlib.sha256(notice.body).hexdigest()
    return str(uuid.uuid5(_MESSAGE_NS, f"{notice.id}:{notice.submission_id}:{digest}"))


def remd_soap_sender(*, timeout_seconds: float = 15.0) -> ChannelSender:
    """A :data:`gateway.notices.notifier.ChannelSender` for the ``remd-soap`` channel. Raises
    DeliveryError on a network failure, a non-2xx answer, or a notice that cannot be expressed
    (the outbox then retries and finally shows it to an operator)."""

    async def send(notice: PendingNotice, session: aiohttp.ClientSession) -> None:
        try:
            result = result_from_notice(json.loads(notice.body))
        except (ValueError, KeyError, TypeError, MappingError) as exc:
            raise DeliveryError(f"notice cannot be sent as registerDocumentResult: {exc}") from None
        body = build_register_document_result_envelope(
            result, message_id=notice_message_id(notice), to=notice.url, relates_to=result.relates_to_message
        )
        try:
            reply = await post_soap(session, notice.url, body, action=ACTION_RESULT, timeout_seconds=timeout_seconds)
        except TransportError as exc:
            raise DeliveryError(str(exc)) from None
        if not 200 <= reply.status < 300:
            raise DeliveryError(f"HTTP {reply.status} from receiver")

    return send
