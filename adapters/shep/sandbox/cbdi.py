"""The АИС ЦБДИ twin's checks and decisions (behind the ШЭП twin).

For each Submission031u relayed by ШЭП, ЦБДИ (as the pilot's order describes it):

1. reads the 031/у (the project's parser) — an unreadable one is refused ``INVALID_MESSAGE``;
2. checks the nosology's mandatory examinations (``config/kz_nosologies.tsv``, the project's
   table) — missing ones are refused ``CBDI_EXAMS_MISSING`` naming them, in Russian and Kazakh;
3. checks the signer: the document's legal authenticator is the ВКК chair, and a signature's
   certificate is an *individual's* NCA certificate (EKU 1.2.398.3.3.4.1.1) whose IIN is the
   chair's — else ``CBDI_SIGNER_INVALID``. (The signature's cryptography and chain are the
   gateway's own FLK's business before sending; the twin reads the certificate only.)
4. registers the draft MSE act (a number, the arrival instant) and assigns an expert;
5. concludes: a disability group with the degree of lost working capacity, or a refusal to
   establish disability with reasons, in Russian and Kazakh.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache
from typing import Final

from gateway.common.shipped import shipped
from gateway.documents.errors import DocumentError
from gateway.documents.model import Kz031Details, SignerRole
from gateway.documents.parse import parse_document
from gateway.flk.kz_nosologies import KzGroup, load_kz_nosologies
from gateway.signatures.certificates import Certificate
from gateway.signatures.cms import parse_cms
from gateway.signatures.xml.xmldsig import find_signatures, key_info_certificates
from gateway.wire.safexml import XmlSecurityError, XmlSyntaxError, parse_xml

__all__ = ["EXPERTS", "GROUPS", "Check", "check_draft", "decide"]

INDIVIDUAL_EKU: Final = "1.2.398.3.3.4.1.1"
EXPERTS: Final = ("Сейтжанова Г. М.", "Абенов Д. К.", "Касымова Л. Т.", "Жакупов Н. Б.")
GROUPS: Final = (("1", 100), ("2", 80), ("3", 60), ("3", 40))
_GROUP_KK: Final = {"1": "бірінші", "2": "екінші", "3": "үшінші"}
_GROUP_RU: Final = {"1": "первая", "2": "вторая", "3": "третья"}
_REFUSAL_RU: Final = "Стойкие нарушения функций организма не достигают степени, требующей установления инвалидности"
_REFUSAL_KK: Final = "Ағза функцияларының тұрақты бұзылулары мүгедектікті белгілеуді талап ететін дәрежеге жетпейді"


@dataclass(frozen=True, slots=True)
class Check:
    """None in ``code``: the draft may be registered."""

    code: str | None = None
    ru: str = ""
    kk: str = ""


@cache
def _groups() -> dict[str, KzGroup]:
    path = shipped("config/kz_nosologies.tsv")
    if path is None:
        raise FileNotFoundError("config/kz_nosologies.tsv")
    return load_kz_nosologies(path)


def check_draft(document: bytes, signatures: tuple[bytes, ...]) -> Check:
    try:
        doc = parse_document(document, kind="kz-031u")
    except DocumentError as exc:
        return Check("INVALID_MESSAGE", f"Форма 031/у не прочитана: {exc}", f"031/у нысаны оқылмады: {exc}")
    details = doc.details
    assert isinstance(details, Kz031Details)
    group = _groups().get(details.nosology_group.code)
    if group is None:
        code = details.nosology_group.code
        return Check(
            "CBDI_EXAMS_MISSING", f"Нозология «{code}» не входит в пилот", f"«{code}» нозологиясы пилотқа кірмейді"
        )
    missing = group.unmet(e.code for e in doc.examinations)
    if missing:
        names = "; ".join(missing)
        return Check(
            "CBDI_EXAMS_MISSING",
            f"Не выполнены обязательные обследования для нозологии «{group.name_ru}»: {names}",
            f"«{group.name_ru}» нозологиясы бойынша міндетті тексерулер жүргізілмеген: {names}",
        )
    chair = doc.legal_authenticator
    if chair.role is not SignerRole.VKK_CHAIR:
        return Check("CBDI_SIGNER_INVALID", "Форма подписана не председателем ВКК", "Нысанға ДКК төрағасы қол қоймаған")
    for cert in _signer_certificates(document, signatures):
        if INDIVIDUAL_EKU in cert.extended_key_usage and cert.identity().iin == chair.iin:
            return Check()
    return Check(
        "CBDI_SIGNER_INVALID",
        "Нет подписи председателя ВКК сертификатом физического лица НУЦ РК",
        "ДКК төрағасының ҰКО жеке тұлға сертификатымен қолы жоқ",
    )


def _signer_certificates(document: bytes, signatures: tuple[bytes, ...]) -> list[Certificate]:
    """Certificates of the detached CMS signatures and of the XMLDSig signatures in the document."""
    out: list[Certificate] = []
    for raw in signatures:
        try:
            out.extend(parse_cms(raw).certificates)
        except Exception:  # noqa: S112 — a signature the twin cannot read is no chair's signature
            continue
    try:
        root = parse_xml(document)
    except (XmlSecurityError, XmlSyntaxError):
        return out
    for element in find_signatures(root):
        out.extend(key_info_certificates(element))
    return out


@dataclass(frozen=True, slots=True)
class Decision:
    decision: str
    group: str | None
    percent: int | None
    texts: dict[str, str]
    reasons: tuple[dict[str, str], ...]


def decide(rng: random.Random, refuse: bool) -> Decision:
    if refuse:
        return Decision(
            "refusal",
            None,
            None,
            {"ru": "Инвалидность не установлена", "kk": "Мүгедектік белгіленбеді"},
            (
                {
                    "ru": _REFUSAL_RU,
                    "kk": _REFUSAL_KK,
                },
            ),
        )
    group, percent = rng.choice(GROUPS)
    return Decision(
        "disability",
        group,
        percent,
        {
            "ru": f"Установлена {_GROUP_RU[group]} группа инвалидности; "
            f"степень утраты профессиональной трудоспособности {percent}%",
            "kk": f"Мүгедектіктің {_GROUP_KK[group]} тобы белгіленді; "
            f"кәсіптік еңбек ету қабілетінен айырылу дәрежесі {percent}%",
        },
        (),
    )
