"""The SendRequest of one submission, attachments included (docs/smev3.md, "Attachments").

:func:`build_send_request` is pure (also ``envelope build``); :func:`prepare_send_request` first
uploads what goes through the file store. The business content is the provisional ``<Referral>``
(``adapters.smev3.adapter.referral_content``); with ``document_transport = "attachment"`` its
``Document`` element names the attachment (``attachmentId``) instead of carrying the bytes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Final

import aiohttp
from lxml import etree

from adapters.smev3 import messages as m
from adapters.smev3.attachments import (
    DOCUMENT_ID,
    AttachmentPlan,
    OutgoingAttachment,
    document_attachments,
    file_store_hash,
    plan_attachments,
    ref_uuid,
)
from adapters.smev3.eaviias.profile import EaviiasProfile
from adapters.smev3.filestore import FileStoreError, Uploaded, upload
from adapters.smev3.settings import Smev3Settings
from adapters.smev3.signing import Signer, sign_element
from gateway.intake.submission import CanonicalSubmission
from gateway.wire.safexml import parse_xml

__all__ = ["PERSONAL_TARGET_ID", "build_send_request", "personal_signature", "prepare_send_request"]

PERSONAL_TARGET_ID: Final = "PERSONAL_SIGNED_CONTENT"


def personal_signature(content: bytes, signer: Signer) -> tuple[bytes, bytes]:
    """ЭП-СП over the business content: the content with ``Id`` set and the detached ``ds:Signature``
    (SMEV layout: exc-c14n + the SMEV transform, by Id) for ``PersonalSignature``. exc-c14n makes
    the signature independent of where the content is later put."""
    root = parse_xml(content)
    root.set("Id", PERSONAL_TARGET_ID)
    holder = etree.Element("PersonalSignatureHolder")
    holder.append(root)
    etree.SubElement(holder, "PersonalSignature")
    signed = parse_xml(sign_element(etree.tostring(holder), PERSONAL_TARGET_ID, signer, holder="PersonalSignature"))
    content_el, signature_holder = signed[0], signed[1]
    return etree.tostring(content_el, encoding="UTF-8"), etree.tostring(signature_holder[0], encoding="UTF-8")


def _by_attachment(settings: Smev3Settings) -> bool:
    # The ЕАВИИАС stand-in schema carries its files inline (adapters/smev3/eaviias/content.py,
    # carry_files): until it names attachments, its documents never go as SMEV attachments.
    return settings.document_transport == "attachment" and settings.content_profile != "eaviias"


def _content(settings: Smev3Settings, canonical: CanonicalSubmission, by_attachment: bool) -> bytes:
    from adapters.smev3.adapter import referral_content  # the adapter imports this module

    if settings.content_profile == "eaviias":
        return EaviiasProfile(settings.eaviias).request_content(canonical)
    if not by_attachment:
        return referral_content(canonical, namespace=settings.content_namespace, root=settings.content_root)
    # the document is not in the content: never base64 it (a shallow copy without it)
    bare = dataclasses.replace(canonical, document=b"")
    root = parse_xml(referral_content(bare, namespace=settings.content_namespace, root=settings.content_root))
    document = root.find(f"{{{settings.content_namespace}}}Document")
    assert document is not None
    document.text = None  # the bytes travel as the attachment it names
    document.set("attachmentId", DOCUMENT_ID)
    return bytes(etree.tostring(root, encoding="UTF-8"))


def build_send_request(
    settings: Smev3Settings,
    canonical: CanonicalSubmission,
    *,
    message_id: str,
    personal_signer: Signer | None = None,
    uploaded: Mapping[str, Uploaded] | None = None,
    plan: AttachmentPlan | None = None,
    eol: datetime | None = None,
) -> m.SendRequestRequest:
    """The SendRequest for one submission. Raises AttachmentTooLarge above ``attachment_max_bytes``.
    File-store attachments take their Hash from ``uploaded`` (by attachment id) when given, else
    compute it (``envelope build``: nothing is uploaded)."""
    by_attachment = _by_attachment(settings)
    content = _content(settings, canonical, by_attachment)
    signature = None
    if settings.personal_signature and personal_signer is not None:
        content, signature = personal_signature(content, personal_signer)
    if plan is None:
        plan = _plan(settings, canonical, personal_signer) if by_attachment else AttachmentPlan()
    refs = tuple(_ref_header(a, message_id, (uploaded or {}).get(a.id)) for a in plan.by_reference)
    data = m.SenderProvidedRequestData(
        message_id=message_id,
        content=content,
        node_id=settings.node_id or None,
        personal_signature=signature,
        attachment_headers=plan.headers(),
        ref_attachment_headers=refs,
        eol=eol,
        test_message=settings.test_message,
    )
    return m.SendRequestRequest(data, plan.contents())


def message_eol(settings: Smev3Settings, now: datetime) -> datetime | None:
    """The EOL of a request built at ``now``: ``message_ttl_seconds`` later, or none."""
    return now + timedelta(seconds=settings.message_ttl_seconds) if settings.message_ttl_seconds else None


def _plan(settings: Smev3Settings, canonical: CanonicalSubmission, personal_signer: Signer | None) -> AttachmentPlan:
    items = document_attachments(canonical, personal_signer=personal_signer)
    return plan_attachments(
        items, threshold=settings.attachment_threshold_bytes, hard_limit=settings.attachment_max_bytes
    )


def _ref_header(item: OutgoingAttachment, message_id: str, done: Uploaded | None) -> m.RefAttachmentHeader:
    digest = done.hash if done is not None else file_store_hash(item.data)
    return m.RefAttachmentHeader(ref_uuid(message_id, item.id), digest, item.mime_type, item.signature_pkcs7)


async def prepare_send_request(
    settings: Smev3Settings,
    canonical: CanonicalSubmission,
    *,
    message_id: str,
    session: aiohttp.ClientSession,
    endpoint: str,
    personal_signer: Signer | None = None,
    eol: datetime | None = None,
) -> m.SendRequestRequest:
    """:func:`build_send_request` after uploading the file-store attachments (streamed, hashed on
    the way, under uuids stable for this MessageID: a resend uploads the same files again).
    Raises AttachmentTooLarge, FileStoreError."""
    if not _by_attachment(settings):
        return build_send_request(settings, canonical, message_id=message_id, personal_signer=personal_signer, eol=eol)
    plan = _plan(settings, canonical, personal_signer)  # the document's ЭП-СП is made here, once
    uploaded: dict[str, Uploaded] = {}
    if plan.by_reference:
        base = settings.filestore_base(endpoint)
        if not base:
            raise FileStoreError(
                "FILESTORE_NOT_CONFIGURED",
                f"attachments of {plan.total} bytes need the SMEV file store (above "
                f"attachment_threshold_bytes = {settings.attachment_threshold_bytes}): set filestore_url",
                transient=False,
            )
        for item in plan.by_reference:
            uploaded[item.id] = await upload(
                session,
                base,
                uuid=ref_uuid(message_id, item.id),
                file_name=item.file_name or item.id,
                data=item.data,
                user=settings.filestore_user,
                password=settings.filestore_password,
                timeout_seconds=max(settings.timeout_seconds, 60.0),
            )
    return build_send_request(
        settings,
        canonical,
        message_id=message_id,
        personal_signer=personal_signer,
        uploaded=uploaded,
        plan=plan,
        eol=eol,
    )
