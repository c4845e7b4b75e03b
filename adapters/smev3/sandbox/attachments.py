"""The twin's checks of a request's attachments, as SMEV makes them before accepting it.

- every ``AttachmentHeader`` has its ``AttachmentContent`` and the other way round, every
  ``RefAttachmentHeader`` names a file uploaded to the store with the same hash →
  otherwise AttachmentContentMiscoordination;
- the MTOM attachments total at most ``inline_limit`` bytes → otherwise
  AttachmentSizeLimitExceeded (with PermittedTotalAttachmentSize / RealTotalAttachmentSize);
- every ``SignaturePKCS7`` verifies over its content with the project's CMS verifier (integrity
  always; chain too when the twin has a trust store) → otherwise SignatureVerificationFault /
  SignatureIsInvalid.
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters.smev3 import messages as m
from adapters.smev3.sandbox.filestore import FileStore
from gateway.signatures.verify import Verifier

__all__ = ["check_request_attachments"]


def _fault(code: str, text: str, **extra: object) -> m.Fault:
    return m.Fault(code=code, message=text, faultcode="soap:Client", **extra)  # type: ignore[arg-type]


def _signature_ok(verifier: Verifier, signature: bytes, content: bytes, *, require_chain: bool) -> str | None:
    """None when the CMS is good enough, else why not."""
    try:
        report = verifier.verify_cms(signature, content)
    except Exception as exc:  # a detached CMS without content cannot happen here; be sure anyway
        return f"{type(exc).__name__}: {exc}"
    if not report.signatures:
        return "; ".join(e.code.value for e in report.errors) or "no SignerInfo"
    for sig in report.signatures:
        if sig.integrity != "valid":
            return f"integrity {sig.integrity}: " + "; ".join(e.code.value for e in sig.errors)
        if require_chain and not sig.valid:
            return f"chain {sig.chain}: " + "; ".join(e.code.value for e in sig.errors)
    return None


def check_request_attachments(
    data: m.SenderProvidedRequestData,
    contents: Sequence[m.AttachmentContent],
    store: FileStore,
    verifier: Verifier,
    *,
    inline_limit: int,
    require_chain: bool,
) -> m.Fault | None:
    by_id = {c.id: c for c in contents}
    headers = {h.content_id: h for h in data.attachment_headers}
    if set(by_id) != set(headers):
        missing = sorted(set(headers) - set(by_id))
        extra = sorted(set(by_id) - set(headers))
        return _fault(
            "AttachmentContentMiscoordination",
            f"вложения не соответствуют заголовкам: без содержимого {missing}, без заголовка {extra}",
        )
    total = sum(len(c.content) for c in contents)
    if total > inline_limit:
        text = f"размер вложений {total} байт больше допустимого {inline_limit}: используйте файловое хранилище"
        return _fault(
            "AttachmentSizeLimitExceeded",
            text,
            description=text,
            details=(("PermittedTotalAttachmentSize", str(inline_limit)), ("RealTotalAttachmentSize", str(total))),
        )
    for ref in data.ref_attachment_headers:
        stored = store.files.get(ref.uuid)
        if stored is None:
            return _fault("AttachmentContentMiscoordination", f"файл {ref.uuid} не найден в файловом хранилище")
        if stored.hash != ref.hash.strip():
            return _fault(
                "AttachmentContentMiscoordination",
                f"хэш файла {ref.uuid} не совпадает: заявлен {ref.hash.strip()}, в хранилище {stored.hash}",
            )
    for header in data.attachment_headers:
        if header.signature_pkcs7 is not None:
            why = _signature_ok(
                verifier, header.signature_pkcs7, by_id[header.content_id].content, require_chain=require_chain
            )
            if why is not None:
                text = f"ЭП вложения {header.content_id} неверна ({why})"
                return _fault("SignatureVerificationFault", text, description=text, subcode="SignatureIsInvalid")
    for ref in data.ref_attachment_headers:
        if ref.signature_pkcs7 is not None:
            content = store.read(ref.uuid)
            assert content is not None  # checked above
            why = _signature_ok(verifier, ref.signature_pkcs7, content, require_chain=require_chain)
            if why is not None:
                text = f"ЭП файла {ref.uuid} неверна ({why})"
                return _fault("SignatureVerificationFault", text, description=text, subcode="SignatureIsInvalid")
    return None
