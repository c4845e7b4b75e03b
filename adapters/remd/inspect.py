"""What the gateway makes of one REMD envelope, for ``mse-gateway envelope inspect``.

:func:`inspect_envelope` returns None for bytes that are not a REMD SOAP 1.2 envelope, else a
JSON-able dict: protocol, operation, WS-Addressing ids, status, the error codes with their class
from REMD's code table, and the signatures' verdicts (REMD envelopes carry none of their own:
the document's signatures travel base64-encoded and are checked at intake).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from lxml import etree

from adapters.remd import codec
from adapters.remd.soap import CALLBACK_NS, SERVICE_NS, SOAP12_NS, EnvelopeError, parse_envelope
from gateway.peers.codes import CodeTable

__all__ = ["inspect_envelope"]


def _register_request(el: etree._Element) -> dict[str, Any]:
    req = codec.parse_register_document_request(el)
    return {"local_uid": req.local_uid, "kind": req.kind, "organization": req.organization}


def _status(el: etree._Element) -> dict[str, Any]:
    resp = codec.parse_register_document_response(el)
    return {"status": "success" if resp.success else "error", "errors": resp.errors}


def _search(el: etree._Element) -> dict[str, Any]:
    resp = codec.parse_search_response(el)
    return {"status": "success" if resp.success else "error", "matches": len(resp.matches), "errors": resp.errors}


def _result(el: etree._Element) -> dict[str, Any]:
    res = codec.parse_register_document_result(el)
    out: dict[str, Any] = {
        "status": "success" if res.success else "error",
        "relates_to_message": res.relates_to_message,
        "local_uid": res.local_uid,
        "errors": res.errors,
    }
    if res.registry_item is not None:
        out["peer_registration_id"] = res.registry_item.emdr_id
    return out


_DECODERS: Final[dict[str, Callable[[etree._Element], dict[str, Any]]]] = {
    "registerDocumentRequest": _register_request,
    "registerDocumentResponse": _status,
    "searchRegistryItemResponse": _search,
    "registerDocumentResult": _result,
}


def _classified(errors: tuple[tuple[str, str], ...], table: CodeTable) -> list[dict[str, str]]:
    out = []
    for code, message in errors:
        rule = table.lookup(code)
        out.append({"code": code, "message": message, "class": str(rule.cls) if rule else f"unknown ({table.unknown})"})
    return out


def inspect_envelope(data: bytes, table: CodeTable) -> dict[str, Any] | None:
    try:
        env = parse_envelope(data)
    except EnvelopeError:
        return None
    if env.root is None or etree.QName(env.root).namespace != SOAP12_NS:
        return None  # REMD speaks SOAP 1.2 only
    if env.fault is None and env.body is not None:
        namespace = etree.QName(env.body).namespace
        if namespace not in (SERVICE_NS, CALLBACK_NS):
            return None
    out: dict[str, Any] = {
        "protocol": "remd",
        "operation": env.operation or ("Fault" if env.fault is not None else None),
        "message_id": env.addressing.message_id,
        "relates_to": env.addressing.relates_to,
        "action": env.addressing.action,
        "client_entity_id": env.client_entity_id,
        "signatures": [],
    }
    errors: tuple[tuple[str, str], ...] = ()
    if env.fault is not None:
        errors = env.fault.codes()
        out["fault_code"] = errors[0][0] if errors else env.fault.code
        out["fault_text"] = env.fault.reason
    elif env.body is not None and (decode := _DECODERS.get(env.operation or "")) is not None:
        try:
            decoded = decode(env.body)
        except (codec.MessageError, ValueError) as exc:
            out["error"] = str(exc)
        else:
            errors = decoded.pop("errors", ())
            out.update(decoded)
    if errors:
        out["errors"] = _classified(errors, table)
        out.setdefault("fault_code", errors[0][0])
        out["fault_class"] = out["errors"][0]["class"]
    return {k: v for k, v in out.items() if v is not None}
