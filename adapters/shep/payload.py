"""What travels in ``data`` between the gateway and АИС ЦБДИ: the project's model, not ЦБДИ's.

ЦБДИ publishes no schema of its ШЭП service for the pilot, so the payloads are this project's own
(namespace ``urn:mse-gateway:kz:cbdi:1``, docs/shep.md "Payloads"), kept in one module so that
the real schema, once published, replaces them in one place:

- ``Submission031u`` (gateway → ЦБДИ): the document's ids, the region (КАТО) and the 031/у XML
  itself (``Conclusion031u``, docs/kz-031u.md) with its detached signatures (CMS, base64);
- ``DraftActRegistered`` (ЦБДИ → gateway, NOTIFICATION): the draft MSE act was registered; the
  arrival instant at ЦБДИ (the start of the 1-working-day rule) and the assigned expert;
- ``MseConclusion`` (RESPONSE): the expert's conclusion — disability group and/or degree of lost
  working capacity, or a refusal to establish disability with reasons — in Russian and Kazakh,
  signed by the expert (enveloped XMLDSig inside the element). It is also a document kind the
  inbound path offers to the MIS, so its model lives in the core
  (:mod:`gateway.documents.kz_conclusion`) and is re-exported here;
- ``Refusal`` (RESPONSE): ЦБДИ did not register the draft (missing examinations, wrong signer),
  with the reason's code and texts.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from gateway.documents.errors import DocumentError
from gateway.documents.kz_conclusion import CBDI_NS, Conclusion, build_conclusion, read_conclusion
from gateway.wire.safexml import XmlSecurityError, XmlSyntaxError, parse_xml

__all__ = [
    "CBDI_NS",
    "Conclusion",
    "DraftRegistered",
    "PayloadError",
    "Refusal",
    "Submission031u",
    "build_conclusion",
    "build_refusal",
    "build_registered",
    "build_submission",
    "read_answer",
    "read_submission",
]

_KZ031 = "urn:mse-gateway:kz:031u:1"


class PayloadError(ValueError):
    """``data`` is not a payload of this model."""


def _q(name: str) -> str:
    return f"{{{CBDI_NS}}}{name}"


def _el(parent: etree._Element, name: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, _q(name), attrs)
    if text is not None:
        element.text = text
    return element


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _read_stamp(text: str | None, what: str) -> datetime:
    try:
        value = datetime.fromisoformat((text or "").strip().replace("Z", "+00:00"))
    except ValueError:
        raise PayloadError(f"{what}: {text!r} is not a date-time") from None
    if value.tzinfo is None:
        raise PayloadError(f"{what}: {text!r} has no offset")
    return value.astimezone(UTC)


def _texts(parent: etree._Element, name: str, texts: Mapping[str, str]) -> None:
    for lang, text in texts.items():
        _el(parent, name, text, lang=lang)


def _read_texts(parent: etree._Element, name: str) -> dict[str, str]:
    return {(t.get("lang") or "ru"): (t.text or "").strip() for t in parent.findall(_q(name))}


@dataclass(frozen=True, slots=True)
class Submission031u:
    local_uid: str
    organization_oid: str
    region: str
    document: bytes  # the 031/у XML
    signatures: tuple[bytes, ...] = ()


def build_submission(sub: Submission031u) -> etree._Element:
    root = etree.Element(_q("Submission031u"), nsmap={"cbdi": CBDI_NS})
    _el(root, "LocalUid", sub.local_uid)
    _el(root, "OrganizationOid", sub.organization_oid)
    _el(root, "Region", sub.region)
    holder = _el(root, "Document")
    try:
        holder.append(parse_xml(sub.document))
    except (XmlSecurityError, XmlSyntaxError) as exc:
        raise PayloadError(f"the 031/у is not well-formed XML: {exc}") from None
    for sig in sub.signatures:
        _el(root, "Signature", base64.b64encode(sig).decode("ascii"))
    return root


def read_submission(element: etree._Element) -> Submission031u:
    if element.tag != _q("Submission031u"):
        raise PayloadError(f"{element.tag} is not a Submission031u")
    doc = element.find(f"{_q('Document')}/{{{_KZ031}}}Conclusion031u")
    if doc is None:
        raise PayloadError("Submission031u without a Conclusion031u")
    try:
        signatures = tuple(base64.b64decode(s.text or "", validate=True) for s in element.findall(_q("Signature")))
    except ValueError:
        raise PayloadError("a Signature is not base64") from None
    return Submission031u(
        local_uid=element.findtext(_q("LocalUid")) or "",
        organization_oid=element.findtext(_q("OrganizationOid")) or "",
        region=element.findtext(_q("Region")) or "",
        document=etree.tostring(doc, encoding="UTF-8"),
        signatures=signatures,
    )


@dataclass(frozen=True, slots=True)
class DraftRegistered:
    local_uid: str
    act_number: str
    arrived_at: datetime
    expert: str


@dataclass(frozen=True, slots=True)
class Refusal:
    local_uid: str
    code: str
    texts: Mapping[str, str]
    decided_at: datetime


Answer = DraftRegistered | Conclusion | Refusal


def build_registered(item: DraftRegistered) -> etree._Element:
    root = etree.Element(_q("DraftActRegistered"), nsmap={"cbdi": CBDI_NS})
    _el(root, "LocalUid", item.local_uid)
    _el(root, "ActNumber", item.act_number)
    _el(root, "ArrivedAt", _stamp(item.arrived_at))
    _el(root, "Expert", item.expert)
    return root


def build_refusal(item: Refusal) -> etree._Element:
    root = etree.Element(_q("Refusal"), nsmap={"cbdi": CBDI_NS})
    _el(root, "LocalUid", item.local_uid)
    _el(root, "Code", item.code)
    _texts(root, "Text", item.texts)
    _el(root, "DecidedAt", _stamp(item.decided_at))
    return root


def _need(element: etree._Element, name: str) -> str:
    value = element.findtext(_q(name))
    if value is None or not value.strip():
        raise PayloadError(f"{etree.QName(element).localname}: {name} missing")
    return value.strip()


def read_answer(element: etree._Element | None) -> Answer:
    """One ЦБДИ answer; PayloadError for anything else (the adapter then records it as malformed)."""
    if element is None:
        raise PayloadError("the message carries no data")
    tag = element.tag
    if tag == _q("DraftActRegistered"):
        return DraftRegistered(
            _need(element, "LocalUid"),
            _need(element, "ActNumber"),
            _read_stamp(_need(element, "ArrivedAt"), "ArrivedAt"),
            _need(element, "Expert"),
        )
    if tag == _q("MseConclusion"):
        try:
            return read_conclusion(element)
        except DocumentError as exc:
            raise PayloadError(exc.message_ru) from None
    if tag == _q("Refusal"):
        return Refusal(
            _need(element, "LocalUid"),
            _need(element, "Code"),
            _read_texts(element, "Text"),
            _read_stamp(_need(element, "DecidedAt"), "DecidedAt"),
        )
    raise PayloadError(f"{tag} is not a ЦБДИ answer")
