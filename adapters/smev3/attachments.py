"""SMEV 3 attachments of one outgoing message, and the checks of incoming ones.

What goes out (:func:`document_attachments`): the submission's document (the CDA referral) and
each of its detached signatures that is not the document's own ЭП-СП, as attachments. The
document's ``SignaturePKCS7`` (detached CMS, "подписывать ключом ЭП-СП" says the XSD) is the
instance's personal signer's, made with the project's GOST signer, when one is configured, else the
submission's own personal signature (a detached CMS over the same bytes).

Where it goes (:func:`plan_attachments`): all in the message by MTOM (``AttachmentHeaderList`` +
``AttachmentContentList``) while their total is at most ``attachment_threshold_bytes`` (5 MB by
default); above it all through the file store (``RefAttachmentHeaderList``: uuid, Hash, MimeType,
SignaturePKCS7); above ``attachment_max_bytes`` nothing is sent: :class:`AttachmentTooLarge`, a
permanent refusal coded ``AttachmentSizeLimitExceeded`` before any byte leaves.

Incoming (:func:`verify_attachments`): every header has its content (and every content its header),
file-store hashes match, and every ``SignaturePKCS7`` verifies over its content with the project's
CMS verifier (chain and revocation against the instance's trust).
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from adapters.smev3 import messages as m
from adapters.smev3.signing import Signer
from gateway.intake.submission import CanonicalSubmission
from gateway.signatures.gost.hashing import new_streebog
from gateway.signatures.sign import sign_cms
from gateway.signatures.verify import Verifier

__all__ = [
    "ATTACHMENT_NAMESPACE",
    "DOCUMENT_ID",
    "AttachmentPlan",
    "AttachmentTooLarge",
    "AttachmentVerdict",
    "OutgoingAttachment",
    "document_attachments",
    "file_store_hash",
    "plan_attachments",
    "ref_uuid",
    "sign_detached",
    "verify_attachments",
]

DOCUMENT_ID: Final = "document"
SIZE_FAULT: Final = "AttachmentSizeLimitExceeded"
MISCOORDINATION: Final = "AttachmentContentMiscoordination"
# uuid5 namespace of file-store uuids: one per (MessageID, attachment), the same on every resend
ATTACHMENT_NAMESPACE: Final = uuid.UUID("6f1b0a5e-3c0e-5d8b-9d6a-3b1f8f1c2a71")
_CHUNK: Final = 1 << 20
SIGNATURE_MIME: Final = "application/pkcs7-signature"


class AttachmentTooLarge(ValueError):
    """Refused before sending: the attachments exceed the instance's hard limit."""

    code: Final = SIZE_FAULT

    def __init__(self, total: int, limit: int) -> None:
        super().__init__(
            f"attachments total {total} bytes, above this instance's limit of {limit} bytes "
            "(attachment_max_bytes): refused before sending"
        )
        self.total = total
        self.limit = limit


@dataclass(frozen=True, slots=True)
class OutgoingAttachment:
    """One attachment: ``id`` is its contentId (MTOM) and file name stem (file store)."""

    id: str
    mime_type: str
    data: bytes
    signature_pkcs7: bytes | None = None
    file_name: str = ""

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass(frozen=True, slots=True)
class AttachmentPlan:
    """``inline`` travel by MTOM, ``by_reference`` through the file store; never both."""

    inline: tuple[OutgoingAttachment, ...] = ()
    by_reference: tuple[OutgoingAttachment, ...] = ()

    @property
    def total(self) -> int:
        return sum(a.size for a in (*self.inline, *self.by_reference))

    def headers(self) -> tuple[m.AttachmentHeader, ...]:
        return tuple(m.AttachmentHeader(a.id, a.mime_type, a.signature_pkcs7) for a in self.inline)

    def contents(self) -> tuple[m.AttachmentContent, ...]:
        return tuple(m.AttachmentContent(a.id, a.data) for a in self.inline)


def _extension(mime: str) -> str:
    return {"application/xml": ".xml", "text/xml": ".xml", "application/pdf": ".pdf"}.get(mime, ".bin")


def sign_detached(data: bytes, signer: Signer) -> bytes:
    """A detached CMS (CAdES-BES, DER) over ``data`` with the project's signer (GOST by the key).
    ``data`` is hashed in place, never copied."""
    return sign_cms(data, signer.key, signer.certificate, chain=signer.chain)


def document_attachments(
    canonical: CanonicalSubmission, *, personal_signer: Signer | None = None
) -> tuple[OutgoingAttachment, ...]:
    """The document and its detached signatures as attachments (see the module docstring)."""
    own = [s for s in canonical.signatures if s.cms is not None and not s.xmldsig]
    personal = next((s for s in own if s.type == "personal"), None)
    if personal_signer is not None:
        document_signature: bytes | None = sign_detached(canonical.document, personal_signer)
        rest = own
    else:
        document_signature = personal.cms if personal is not None else None
        rest = [s for s in own if s is not personal]
    items = [
        OutgoingAttachment(
            DOCUMENT_ID,
            canonical.document_mime,
            canonical.document,
            document_signature,
            f"{DOCUMENT_ID}{_extension(canonical.document_mime)}",
        )
    ]
    for n, entry in enumerate(rest, start=1):
        assert entry.cms is not None
        name = f"signature-{n}-{entry.type}"
        items.append(OutgoingAttachment(name, SIGNATURE_MIME, entry.cms, None, f"{name}.p7s"))
    return tuple(items)


def plan_attachments(items: Sequence[OutgoingAttachment], *, threshold: int, hard_limit: int) -> AttachmentPlan:
    """MTOM up to ``threshold`` bytes in total, the file store above it, refused above ``hard_limit``."""
    total = sum(a.size for a in items)
    if total > hard_limit:
        raise AttachmentTooLarge(total, hard_limit)
    if total > threshold:
        return AttachmentPlan(by_reference=tuple(items))
    return AttachmentPlan(inline=tuple(items))


def ref_uuid(message_id: str, attachment_id: str) -> str:
    """The file-store uuid of one attachment of one message: stable across resends."""
    return str(uuid.uuid5(ATTACHMENT_NAMESPACE, f"{message_id}/{attachment_id}"))


def file_store_hash(data: bytes | memoryview) -> str:
    """``RefAttachmentHeader/Hash``: GOST R 34.11-2012 (Streebog-256) of the file, base64, hashed in
    1 MiB views of ``data`` (no copy)."""
    hasher = new_streebog(256)
    view = memoryview(data)
    for start in range(0, len(view), _CHUNK):
        hasher.update(view[start : start + _CHUNK])
    return base64.b64encode(hasher.digest()).decode("ascii")


# --- incoming ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AttachmentVerdict:
    """One attachment of an incoming message: ``code`` names what is wrong (None: all fine)."""

    id: str
    present: bool
    signed: bool
    valid: bool
    code: str | None = None
    reasons: tuple[str, ...] = ()


def verify_attachments(
    headers: Sequence[m.AttachmentHeader],
    contents: Mapping[str, bytes],
    verifier: Verifier,
    *,
    ref_headers: Sequence[m.RefAttachmentHeader] = (),
    ref_contents: Mapping[str, bytes] | None = None,
) -> tuple[AttachmentVerdict, ...]:
    """Every attachment of an incoming message checked: present, hash (file store), and its
    SignaturePKCS7 over its content with ``verifier`` (the instance's CMS verifier: chain,
    revocation, time). Never raises for what arrived. ``ref_contents`` (uuid → bytes) holds the
    file-store attachments fetched; without it they are reported unchecked (not present)."""
    out: list[AttachmentVerdict] = []
    known = {h.content_id for h in headers}
    for header in headers:
        data = contents.get(header.content_id)
        out.append(_verdict(header.content_id, data, header.signature_pkcs7, verifier))
    for extra in sorted(set(contents) - known):
        out.append(AttachmentVerdict(extra, True, False, False, MISCOORDINATION, ("content without a header",)))
    fetched = ref_contents or {}
    for ref in ref_headers:
        data = fetched.get(ref.uuid)
        if data is not None and file_store_hash(data) != ref.hash.strip():
            out.append(
                AttachmentVerdict(
                    ref.uuid, True, ref.signature_pkcs7 is not None, False, MISCOORDINATION, ("hash mismatch",)
                )
            )
            continue
        out.append(_verdict(ref.uuid, data, ref.signature_pkcs7, verifier))
    return tuple(out)


def _verdict(ident: str, data: bytes | None, signature: bytes | None, verifier: Verifier) -> AttachmentVerdict:
    if data is None:
        return AttachmentVerdict(ident, False, signature is not None, False, MISCOORDINATION, ("no content",))
    if signature is None:
        return AttachmentVerdict(ident, True, False, True)
    try:
        report = verifier.verify_cms(signature, data)
    except Exception as exc:  # the verifier's contract says verdicts, not exceptions; be sure
        return AttachmentVerdict(ident, True, True, False, "SignatureIsInvalid", (f"{type(exc).__name__}: {exc}",))
    if report.valid:
        return AttachmentVerdict(ident, True, True, True)
    reasons = tuple(f"{e.code.value}: {e.detail}" if e.detail else e.code.value for e in report.errors)
    for sig in report.signatures:
        reasons += (f"integrity {sig.integrity}, chain {sig.chain}",)
        reasons += tuple(f"{e.code.value}: {e.detail}" if e.detail else e.code.value for e in sig.errors)
    return AttachmentVerdict(ident, True, True, False, "SignatureIsInvalid", reasons or ("not valid",))
