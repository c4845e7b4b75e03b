"""The conclusion of АИС ЦБДИ's extraterritorial expert on a Kazakh 031/у (``MseConclusion``).

ЦБДИ publishes no schema of its ШЭП service for the pilot, so the element is this project's own
(namespace ``urn:mse-gateway:kz:cbdi:1``, docs/shep.md "Payloads"). It lives in the core, not in
``adapters/shep``, because it is also a *document kind* the inbound path receives, verifies and
offers to the MIS (kind ``kz-cbdi-conclusion``, docs/inbound.md): the ШЭП adapter reads and the
ЦБДИ twin writes it with this module.

The conclusion names no patient. It names the 031/у it answers by the 031/у's ``LocalUid`` and the
medical organisation that sent it (``OrganizationOid``), the draft act (``ActNumber``), the decision
(a disability group with the degree of lost working capacity, or a refusal to establish disability
with reasons), its texts in Russian and Kazakh (``Text@lang``), and the expert (name and IIN). The
expert signs it with an enveloped XMLDSig (``Id="conclusion-<act>"``) by an individual NCA
certificate; :func:`parse_conclusion` reads the fields only, the signature is the verifier's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from lxml import etree

from gateway.documents.errors import DocumentError, DocumentErrorCode
from gateway.wire.safexml import DEFAULT_MAX_BYTES, XmlSecurityError, XmlSyntaxError, parse_xml

__all__ = [
    "CBDI_NS",
    "DECISIONS",
    "Conclusion",
    "build_conclusion",
    "conclusion_summary",
    "parse_conclusion",
    "read_conclusion",
]

CBDI_NS: Final = "urn:mse-gateway:kz:cbdi:1"
DECISIONS: Final = ("disability", "refusal")


def _q(name: str) -> str:
    return f"{{{CBDI_NS}}}{name}"


@dataclass(frozen=True, slots=True)
class Conclusion:
    local_uid: str  # the 031/у's LocalUid
    act_number: str
    decision: str  # "disability" | "refusal"
    decided_at: datetime
    expert: str  # the expert's name
    disability_group: str | None = None  # "1" | "2" | "3" | "child"
    lost_capacity_percent: int | None = None
    texts: Mapping[str, str] = field(default_factory=dict)  # lang → text (ru, kk)
    reasons: Sequence[Mapping[str, str]] = ()  # each: lang → text
    arrived_at: datetime | None = None  # the draft's arrival at ЦБДИ, when ЦБДИ repeats it
    region: str = ""  # КАТО region of the draft, when ЦБДИ repeats it
    organization_oid: str = ""  # the MO that sent the 031/у
    expert_iin: str = ""  # the IIN of the expert who signs


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _el(parent: etree._Element, name: str, text: str | None = None, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, _q(name), attrs)
    if text is not None:
        element.text = text
    return element


def _texts(parent: etree._Element, texts: Mapping[str, str]) -> None:
    for lang, text in texts.items():
        _el(parent, "Text", text, lang=lang)


def build_conclusion(item: Conclusion) -> etree._Element:
    """The unsigned element (the expert signs it enveloped, reference ``#conclusion-<act>``)."""
    root = etree.Element(_q("MseConclusion"), {"Id": f"conclusion-{item.act_number}"}, nsmap={"cbdi": CBDI_NS})
    _el(root, "LocalUid", item.local_uid)
    if item.organization_oid:
        _el(root, "OrganizationOid", item.organization_oid)
    _el(root, "ActNumber", item.act_number)
    _el(root, "Decision", item.decision)
    if item.disability_group is not None:
        _el(root, "DisabilityGroup", item.disability_group)
    if item.lost_capacity_percent is not None:
        _el(root, "LostCapacityPercent", str(item.lost_capacity_percent))
    _texts(root, item.texts)
    for reason in item.reasons:
        _texts(_el(root, "Reason"), reason)
    _el(root, "DecidedAt", _stamp(item.decided_at))
    if item.arrived_at is not None:
        _el(root, "ArrivedAt", _stamp(item.arrived_at))
    if item.region:
        _el(root, "Region", item.region)
    _el(root, "Expert", item.expert)
    if item.expert_iin:
        _el(root, "ExpertIin", item.expert_iin)
    return root


def _invalid(message: str, where: str) -> DocumentError:
    return DocumentError(DocumentErrorCode.INVALID_VALUE, message, where)


def _need(element: etree._Element, name: str) -> str:
    value = element.findtext(_q(name))
    if value is None or not value.strip():
        raise DocumentError(DocumentErrorCode.MISSING_FIELD, f"Заключение ЦБДИ: нет поля {name}", name)
    return value.strip()


def _moment(text: str, name: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _invalid(f"Заключение ЦБДИ: {name} «{text[:40]}» не является датой и временем", name) from None
    if value.tzinfo is None:
        raise _invalid(f"Заключение ЦБДИ: {name} «{text[:40]}» без смещения часового пояса", name)
    return value.astimezone(UTC)


def _read_texts(parent: etree._Element) -> dict[str, str]:
    return {(t.get("lang") or "ru"): (t.text or "").strip() for t in parent.findall(_q("Text"))}


def read_conclusion(element: etree._Element) -> Conclusion:
    """The fields of an ``MseConclusion`` element; DocumentError (coded) for anything else.
    ``OrganizationOid`` and ``ExpertIin`` may be absent here (the ШЭП adapter reads what the
    peer sent); :func:`parse_conclusion`, the kind's parser, requires them."""
    if element.tag != _q("MseConclusion"):
        raise DocumentError(
            DocumentErrorCode.UNKNOWN_KIND, f"{etree.QName(element).localname} не является заключением ЦБДИ", "kind"
        )
    decision = _need(element, "Decision")
    if decision not in DECISIONS:
        raise _invalid(f"Заключение ЦБДИ: решение «{decision[:40]}» не disability/refusal", "Decision")
    percent = element.findtext(_q("LostCapacityPercent"))
    try:
        lost = int(percent) if percent is not None else None
    except ValueError:
        raise _invalid(f"LostCapacityPercent «{(percent or '')[:20]}» не число", "LostCapacityPercent") from None
    arrived = element.findtext(_q("ArrivedAt"))
    return Conclusion(
        local_uid=_need(element, "LocalUid"),
        act_number=_need(element, "ActNumber"),
        decision=decision,
        decided_at=_moment(_need(element, "DecidedAt"), "DecidedAt"),
        expert=_need(element, "Expert"),
        disability_group=element.findtext(_q("DisabilityGroup")),
        lost_capacity_percent=lost,
        texts=_read_texts(element),
        reasons=tuple(_read_texts(r) for r in element.findall(_q("Reason"))),
        arrived_at=_moment(arrived.strip(), "ArrivedAt") if arrived and arrived.strip() else None,
        region=(element.findtext(_q("Region")) or "").strip(),
        organization_oid=(element.findtext(_q("OrganizationOid")) or "").strip(),
        expert_iin=(element.findtext(_q("ExpertIin")) or "").strip(),
    )


def parse_conclusion(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Conclusion:
    """The kind ``kz-cbdi-conclusion``'s parser: the signed conclusion exactly as received.
    Coded :class:`DocumentError` for unreadable XML, another element, a missing or bad field."""
    try:
        root = parse_xml(data, max_bytes=max_bytes)
    except XmlSecurityError as exc:
        raise DocumentError(DocumentErrorCode.XML_FORBIDDEN, f"Документ отклонён: {exc}", None) from None
    except XmlSyntaxError as exc:
        raise DocumentError(DocumentErrorCode.XML_MALFORMED, f"Документ не является корректным XML: {exc}") from None
    conclusion = read_conclusion(root)
    for name, value in (("OrganizationOid", conclusion.organization_oid), ("ExpertIin", conclusion.expert_iin)):
        if not value:
            raise DocumentError(DocumentErrorCode.MISSING_FIELD, f"Заключение ЦБДИ: нет поля {name}", name)
    if conclusion.decision == "disability" and not (conclusion.disability_group or conclusion.lost_capacity_percent):
        raise _invalid("Заключение ЦБДИ об инвалидности без группы и степени утраты трудоспособности", "Decision")
    return conclusion


def conclusion_summary(conclusion: Conclusion) -> dict[str, object]:
    """What the MIS gets besides the signed bytes (docs/inbound.md, ``summary``): the decision and
    its texts in every language ЦБДИ gave (ru, kk). No IIN: the MIS has the signed document."""
    return {
        "act_number": conclusion.act_number,
        "decision": conclusion.decision,
        "disability_group": conclusion.disability_group,
        "lost_capacity_percent": conclusion.lost_capacity_percent,
        "texts": dict(conclusion.texts),
        "reasons": [dict(r) for r in conclusion.reasons],
        "decided_at": conclusion.decided_at.isoformat(),
        "arrived_at": conclusion.arrived_at.isoformat() if conclusion.arrived_at else None,
        "expert": conclusion.expert,
    }
