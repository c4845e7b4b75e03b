"""Checks of an incoming SMEV 3 message's attachments before it is trusted (after its ЭП-СМЭВ).

MTOM attachments come with the message (the client fills them from the multipart parts);
file-store attachments (``RefAttachmentHeader`` + ``FSAttachment``) are downloaded from the
instance's file store. Each must be there, match its hash, and carry a valid ``SignaturePKCS7``
when it has one (:func:`adapters.smev3.attachments.verify_attachments`, the project's CMS
verifier with the instance's trust). A message failing any of it is recorded and Acked
``accepted="false"`` like one with a bad ЭП-СМЭВ, under the code ``SMEV_ATTACHMENT_INVALID``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Final

from adapters.smev3 import messages as m
from adapters.smev3.attachments import verify_attachments
from adapters.smev3.client import Exchange
from adapters.smev3.filestore import FileStoreError, download

if TYPE_CHECKING:
    from adapters.smev3.adapter import Smev3Adapter

__all__ = ["ATTACHMENT_INVALID", "attachments_problem"]

ATTACHMENT_INVALID: Final = "SMEV_ATTACHMENT_INVALID"


async def attachments_problem(
    adapter: Smev3Adapter, ex: Exchange, response: m.Response | m.Request
) -> tuple[str, str] | None:
    """(code, text) when the attachments of a response (or a request to us) cannot be trusted,
    None when they can (or there are none)."""
    data = response.data
    if not (data.attachment_headers or data.ref_attachment_headers):
        return None
    message = ex.message
    contents = {a.id: a.content for a in getattr(message, "attachments", ())}
    fetched: dict[str, bytes] = {}
    if data.ref_attachment_headers:
        base = adapter.settings.filestore_base(adapter.endpoint)
        access = {f.uuid: f for f in response.fs_attachments}
        for ref in data.ref_attachment_headers:
            fs = access.get(ref.uuid)
            if fs is None or not base:
                continue  # reported missing below
            try:
                fetched[ref.uuid] = await download(
                    adapter.session,
                    base,
                    uuid=fs.uuid,
                    file_name=fs.file_name,
                    user=fs.user_name,
                    password=fs.password,
                    timeout_seconds=max(adapter.settings.timeout_seconds, 60.0),
                    max_bytes=adapter.settings.attachment_max_bytes,
                )
            except FileStoreError as exc:
                return ATTACHMENT_INVALID, f"file-store attachment {ref.uuid}: {exc.code}: {exc}"
    verdicts = await asyncio.to_thread(
        verify_attachments,
        data.attachment_headers,
        contents,
        adapter.verifier.verifier,
        ref_headers=data.ref_attachment_headers,
        ref_contents=fetched,
    )
    bad = [v for v in verdicts if not v.valid]
    if not bad:
        return None
    text = "; ".join(f"{v.id}: {v.code} ({', '.join(v.reasons)[:300]})" for v in bad)
    return ATTACHMENT_INVALID, text[:1000]
