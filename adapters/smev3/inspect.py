"""What the gateway makes of one SMEV 3 envelope, for ``mse-gateway envelope inspect``.

:func:`inspect_envelope` returns None for bytes that are not an SMEV 3 envelope (another
protocol's inspector may know them), else a JSON-able dict: protocol, operation, message ids,
response kind, status, fault code and class (from the code table), and the signature verdicts
(integrity and coverage; the chain is checked against the given verifier's trust store, an empty
one by default, so ``chain`` says "untrusted" unless a trust directory is given).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from adapters.smev3 import messages as m
from adapters.smev3.attachments import verify_attachments
from adapters.smev3.codec import Message, Smev3Codec, Smev3FormatError
from adapters.smev3.mtom import MtomError, resolve, unpack
from adapters.smev3.signing import SignatureVerdict, verify_incoming
from gateway.peers.codes import CodeTable
from gateway.signatures.xml.verify import XmlVerifier
from gateway.wire import soap11
from gateway.wire.safexml import XmlSecurityError, XmlSyntaxError, parse_xml

__all__ = ["inspect_envelope"]

_OPERATIONS: dict[type[Any], str] = {
    m.SendRequestRequest: "SendRequest",
    m.SendRequestResponse: "SendRequestResponse",
    m.SendResponseRequest: "SendResponse",
    m.SendResponseResponse: "SendResponseResponse",
    m.GetRequestRequest: "GetRequest",
    m.GetRequestResponse: "GetRequestResponse",
    m.GetResponseRequest: "GetResponse",
    m.GetResponseResponse: "GetResponseResponse",
    m.AckRequest: "Ack",
    m.AckResponse: "AckResponse",
    m.GetStatusRequest: "GetStatus",
    m.GetStatusResponse: "GetStatusResponse",
    m.Fault: "Fault",
}


def _ids(msg: Message) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(msg, m.SendRequestRequest):
        out["message_id"] = msg.data.message_id
    elif isinstance(msg, m.SendResponseRequest):
        out["message_id"] = msg.data.message_id
        out["to"] = msg.data.to
    elif isinstance(msg, m.SendRequestResponse | m.SendResponseResponse):
        out["smev_message_id"] = msg.metadata.message_id
        out["status"] = msg.metadata.status
    elif isinstance(msg, m.AckRequest):
        out["message_id"] = msg.message_id
        out["accepted"] = msg.accepted
    elif isinstance(msg, m.GetResponseResponse):
        out["empty"] = msg.empty
        r = msg.response
        if r is not None:
            out["message_id"] = r.metadata.message_id or r.data.message_id
            out["original_message_id"] = r.original_message_id
            out["response_kind"] = str(r.kind)
            _response_status(r.data, out)
    elif isinstance(msg, m.GetRequestResponse):
        out["empty"] = msg.empty
        if msg.request is not None:
            out["message_id"] = msg.request.data.message_id
        elif msg.cancel is not None:
            out["message_id"] = msg.cancel.message_id
            out["cancels"] = msg.cancel.reference
    elif isinstance(msg, m.GetStatusResponse) and msg.status is not None:
        out["original_message_id"] = msg.status.original_message_id
        out["status"] = msg.status.category
        if msg.status.fault_code:
            out["fault_code"] = msg.status.fault_code
    return out


def _response_status(data: m.SenderProvidedResponseData, out: dict[str, Any]) -> None:
    if data.rejections:
        out["rejections"] = [{"code": r.code, "description": r.description} for r in data.rejections]
    if data.status is not None:
        out["status"] = str(data.status.code)
        out["status_description"] = data.status.description
    if data.async_status is not None:
        out["status"] = data.async_status.category
        out["original_message_id"] = data.async_status.original_message_id
        if data.async_status.fault_code:
            out["fault_code"] = data.async_status.fault_code


def _wrap_bare_payload(data: bytes) -> bytes | None:
    """A message logged without its SOAP envelope (clients often log only the payload) wrapped in
    one, so it reads as what SMEV sent; None when ``data`` is no SMEV 3 payload. Moving the element
    keeps its in-scope namespaces and text, so the signatures it carries verify as before."""
    try:
        root = parse_xml(data)
    except (XmlSecurityError, XmlSyntaxError):
        return None
    if not (etree.QName(root).namespace or "").startswith(m.TYPES_FAMILY):
        return None
    return soap11.serialize(soap11.build_envelope(root))


def signature_verdict(v: SignatureVerdict) -> str:
    """One line an operator can act on: what is wrong first, trust last."""
    if v.integrity != "valid":
        return "NOT VALID: the signature does not match the signed data or cannot be checked"
    if not v.covers_target:
        return "NOT VALID: it does not cover the element its holder must cover"
    if v.chain != "trusted":
        return (
            f"integrity valid, but the signer is not trusted by this gateway (chain: {v.chain}); "
            "an incoming message signed so would be refused"
        )
    return "valid" if v.valid else "NOT VALID: " + "; ".join(v.reasons)


def _mtom_body(data: bytes) -> tuple[bytes, Mapping[str, memoryview]] | None:
    """A saved MTOM HTTP body (``--boundary`` first): its root part and the other parts."""
    first = data.lstrip()[:200].split(b"\r\n", 1)[0]
    if not first.startswith(b"--") or len(first) < 3:
        return None
    boundary = first[2:].decode("latin-1").strip()
    try:
        return unpack(f'multipart/related; boundary="{boundary}"', data.lstrip())
    except MtomError:
        return None


def inspect_envelope(data: bytes, table: CodeTable, *, verifier: XmlVerifier | None = None) -> dict[str, Any] | None:
    bare = False
    parts: Mapping[str, memoryview] = {}
    if (mtom := _mtom_body(data)) is not None:
        data, parts = mtom
    try:
        msg = Smev3Codec().parse(data)
        if parts:
            msg = resolve(msg, data, parts)
    except MtomError as exc:
        return {"protocol": "smev3", "operation": None, "mtom": True, "error": f"{exc.code}: {exc}"}
    except Smev3FormatError as exc:
        wrapped = _wrap_bare_payload(data) if exc.code == "NOT_SOAP11" else None
        if wrapped is None:
            if exc.code in ("NOT_SMEV3", "NOT_SOAP11", "XML_MALFORMED", "NO_BODY", "EMPTY_BODY"):
                return None  # not ours to say
            return {"protocol": "smev3", "operation": None, "error": f"{exc.code}: {exc}"}
        try:
            msg = Smev3Codec().parse(wrapped)
        except Smev3FormatError as again:
            return {"protocol": "smev3", "operation": None, "bare_payload": True, "error": f"{again.code}: {again}"}
        data, bare = wrapped, True
    if isinstance(msg, m.Fault) and msg.code.startswith("SOAP_"):
        return None  # a bare SOAP 1.1 fault: nothing says it is SMEV's
    out: dict[str, Any] = {"protocol": "smev3", "operation": _OPERATIONS.get(type(msg), type(msg).__name__)}
    if bare:
        out["bare_payload"] = True  # no SOAP envelope around it
    if mtom is not None:
        out["mtom_parts"] = len(parts)  # read from a multipart/related (MTOM) body
    out.update({k: v for k, v in _ids(msg).items() if v is not None})
    if isinstance(msg, m.Fault):
        out["fault_code"] = msg.code
        if msg.subcode:
            out["fault_subcode"] = msg.subcode
        out["fault_text"] = msg.text
    if "fault_code" in out:
        specific = out.get("fault_subcode") or out["fault_code"]
        rule = table.lookup(specific) or table.lookup(out["fault_code"])
        out["fault_class"] = str(rule.cls) if rule is not None else f"unknown ({table.unknown})"
        if rule is not None and rule.description:
            out["fault_explanation"] = rule.description
    verdicts = verify_incoming(data, verifier or XmlVerifier())
    out["signatures"] = [
        {
            "holder": v.holder,
            "target": v.target,
            "covers_target": v.covers_target,
            "integrity": v.integrity,
            "chain": v.chain,
            "signer": v.signer,
            "valid": v.valid,
            "verdict": signature_verdict(v),
            "reasons": list(v.reasons),
        }
        for v in verdicts.signatures
    ]
    if verdicts.errors:
        out["signature_errors"] = list(verdicts.errors)
    attachments = _attachment_verdicts(msg, verifier or XmlVerifier())
    if attachments:
        out["attachments"] = attachments
    return out


def _attachment_verdicts(msg: Message, verifier: XmlVerifier) -> list[dict[str, Any]]:
    """Each attachment the message declares or carries: present, signed, its SignaturePKCS7's
    verdict (the CMS verifier of ``verifier``: an empty trust store unless one is given)."""
    data: m.SenderProvidedRequestData | m.SenderProvidedResponseData | None = None
    contents: tuple[m.AttachmentContent, ...] = ()
    if isinstance(msg, m.SendRequestRequest | m.SendResponseRequest):
        data, contents = msg.data, msg.attachments
    elif isinstance(msg, m.GetResponseResponse) and msg.response is not None:
        data, contents = msg.response.data, msg.attachments
    elif isinstance(msg, m.GetRequestResponse) and msg.request is not None:
        data, contents = msg.request.data, msg.attachments
    if data is None or not (data.attachment_headers or data.ref_attachment_headers or contents):
        return []
    found = verify_attachments(
        data.attachment_headers,
        {c.id: c.content for c in contents},
        verifier.verifier,
        ref_headers=data.ref_attachment_headers,
    )
    return [
        {
            "id": v.id,
            "present": v.present,
            "signed": v.signed,
            "valid": v.valid,
            "code": v.code,
            "reasons": list(v.reasons),
        }
        for v in found
    ]
