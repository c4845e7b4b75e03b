"""What the gateway makes of one ШЭП envelope, for ``mse-gateway envelope inspect``.

None for bytes that are not a ШЭП v10 message (another protocol's inspector may know them); else
a JSON-able dict: protocol, channel, operation, ids, status, the fault's codes with their class
from the code table, and the WS-Security verdict (where the signature is, whether it covers the
Body, its integrity; the chain is checked against the given verifier's trust store, an empty one
by default, so ``chain`` says it is untrusted unless a trust directory is given).
"""

from __future__ import annotations

from typing import Any

from adapters.shep import messages as m
from adapters.shep.codec import ASYNC_CLIENT_NS, SYNC_NS, Message, ShepCodec, ShepFormatError
from adapters.shep.codes import reported_codes
from gateway.peers.codes import CodeTable
from gateway.signatures.xml.verify import XmlVerifier
from gateway.signatures.xml.wssecurity import WSSE_NS
from gateway.wire.safexml import parse_xml

__all__ = ["inspect_envelope"]

_OPERATIONS: dict[type[Any], str] = {
    m.SyncSendMessage: "SendMessage",
    m.SyncSendMessageResponse: "SendMessageResponse",
    m.AsyncMessage: "sendMessage",
    m.SendMessageResponse: "sendMessageResponse",
    m.GetMessageStatus: "getMessageStatus",
    m.GetMessageStatusResponse: "getMessageStatusResponse",
    m.GetMessages: "getMessages",
    m.GetMessagesResponse: "getMessagesResponse",
    m.SendDeliveryNotification: "sendDeliveryNotification",
    m.SendDeliveryNotificationResponse: "sendDeliveryNotificationResponse",
    m.ChangeStatusNotify: "changeMassageStatusNotification",
    m.ChangeStatusNotifyResponse: "changeMassageStatusNotificationResponse",
    m.ShepFault: "Fault",
}


def _ids(msg: Message) -> dict[str, Any]:
    if isinstance(msg, m.SyncSendMessage):
        i = msg.info
        return {
            "message_id": i.message_id,
            "correlation_id": i.correlation_id,
            "service_id": i.service_id,
            "sender_id": i.sender.sender_id,
        }
    if isinstance(msg, m.SyncSendMessageResponse):
        return {
            "message_id": msg.info.message_id,
            "correlation_id": msg.info.correlation_id,
            "status": msg.info.status.code,
            "status_message": msg.info.status.message,
        }
    if isinstance(msg, m.AsyncMessage):
        a = msg.info
        return {
            "message_id": a.message_id,
            "correlation_id": a.correlation_id,
            "service_id": a.service_id,
            "message_type": str(a.message_type),
            "sender_id": a.sender.sender_id,
        }
    if isinstance(msg, m.SendMessageResponse):
        return {"message_id": msg.message_id, "correlation_id": msg.correlation_id}
    if isinstance(msg, m.GetMessageStatus):
        return {"message_id": msg.message_id}
    if isinstance(msg, m.GetMessageStatusResponse | m.ChangeStatusNotify):
        out = {"status": msg.status_code, "message_state": str(msg.state)}
        if isinstance(msg, m.ChangeStatusNotify):
            out["message_id"] = msg.message_id
        return out
    if isinstance(msg, m.GetMessages):
        return {"service_id": msg.service_id, "amount": msg.amount}
    if isinstance(msg, m.GetMessagesResponse):
        return {
            "messages": [
                {
                    "message_id": x.info.message_id,
                    "correlation_id": x.info.correlation_id,
                    "message_type": str(x.info.message_type),
                }
                for x in msg.messages
            ]
        }
    if isinstance(msg, m.SendDeliveryNotification):
        return {"message_id": msg.notification.message_id, "accepted": msg.notification.accepted}
    return {}


def _channel(data: bytes) -> str:
    if SYNC_NS.encode() in data:
        return "SyncChannel"
    return "AsyncChannel client" if ASYNC_CLIENT_NS.encode() in data else "AsyncChannel"


def inspect_envelope(data: bytes, table: CodeTable, *, verifier: XmlVerifier | None = None) -> dict[str, Any] | None:
    try:
        msg = ShepCodec.parse(data)
    except ShepFormatError as exc:
        if exc.code in ("SHEP_UNKNOWN_MESSAGE", "NOT_SOAP11", "XML_MALFORMED", "NO_BODY", "EMPTY_BODY"):
            return None
        return {"protocol": "shep", "operation": None, "error": f"{exc.code}: {exc}"}
    if isinstance(msg, m.ShepFault) and msg.error is None:
        return None  # a bare SOAP 1.1 fault: nothing says it is ШЭП's
    out: dict[str, Any] = {
        "protocol": "shep",
        "channel": _channel(data),
        "operation": _OPERATIONS.get(type(msg), type(msg).__name__),
    }
    out.update({k: v for k, v in _ids(msg).items() if v is not None})
    if isinstance(msg, m.ShepFault):
        assert msg.error is not None
        out["fault_operation"] = msg.operation
        out["errors"] = [{"code": e.code, "message": e.message} for e in msg.error.chain()]
        code, text = reported_codes(msg.answer_codes(), table)[0]
        rule = table.lookup(code)
        out["fault_code"], out["fault_text"] = code, text
        out["fault_class"] = str(rule.cls) if rule is not None else f"unknown ({table.unknown})"
        if rule is not None and rule.description:
            out["fault_explanation"] = rule.description
    out["signatures"] = _signatures(data, verifier or XmlVerifier())
    return out


def _signatures(data: bytes, verifier: XmlVerifier) -> list[dict[str, Any]]:
    """The WS-Security verdicts in the shape every inspector gives (holder, target, coverage,
    integrity, chain, validity, reasons)."""
    root = parse_xml(data)
    security = root.find(f"*/{{{WSSE_NS}}}Security")
    if security is None:
        return [
            {
                "holder": "wsse:Security",
                "target": "Body",
                "covers_target": False,
                "integrity": "absent",
                "chain": None,
                "signer": None,
                "valid": False,
                "reasons": ["no wsse:Security header: ШЭП refuses unsigned messages"],
            }
        ]
    result = verifier.verify_xml(data)
    body_tags = {
        f"{{{ns}}}Body"
        for ns in ("http://schemas.xmlsoap.org/soap/envelope/", "http://www.w3.org/2003/05/soap-envelope")
    }
    out = []
    for index, sig in enumerate(result.report.signatures):
        covered = result.signed_elements(index) if index < len(result.signed) else []
        out.append(
            {
                "holder": "wsse:Security",
                "target": "Body",
                "covers_target": any(e.tag in body_tags for e in covered),
                "integrity": sig.integrity,
                "chain": sig.chain,
                "algorithm": sig.algorithm,
                "signer": (sig.signer.common_name or sig.signer.subject) if sig.signer is not None else None,
                "valid": sig.valid,
                "reasons": [f"{e.code.value}: {e.message}" for e in sig.errors],
            }
        )
    return out
