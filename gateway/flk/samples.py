"""Realistic signed submissions: one valid one quickly (:func:`make_submission`) and the building
blocks of the vendors' sample set (:mod:`gateway.sandbox.sample_set`).

Documents come from :func:`gateway.documents.samples.sample_document`, adapted so that they fit the
signers (the organisation's OGRN and the signer's SNILS/IIN are the certificates'), are dated
recently (all dates but birth dates move by whole days), and — for Russian referrals — list the
examinations the shipped required-examinations table asks for. Signatures are detached CAdES-BES
over the exact document bytes, made by :class:`~gateway.flk.sample_pki.SampleSigners`.
"""

from __future__ import annotations

import base64
import dataclasses
import random
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any, Final, TypeVar

from gateway.common.shipped import shipped
from gateway.documents import DocumentKind, ParsedDocument, build_document
from gateway.documents.model import (
    Examination,
    Organisation,
    Practitioner,
    ReferralDetails,
)
from gateway.documents.samples import sample_document
from gateway.flk.required_exams import ExamGroup, RequiredExamsError, groups_for_icd10, load_required_exams
from gateway.flk.sample_pki import SampleSigners

__all__ = [
    "ORGANISATION_ROLE",
    "PERSONAL_ROLE",
    "default_exam_groups",
    "make_submission",
    "prepare_document",
    "shift_dates",
    "sign_document",
    "signing_time_for",
]

PERSONAL_ROLE: Final[dict[str, str]] = {
    "121": "vk-chair",
    "109": "vk-chair",
    "187": "mse-head",
    "35": "mse-head",
    "130": "mse-official",
    "108": "mse-official",
    "kz-031u": "kz-vkk-chair",
}
ORGANISATION_ROLE: Final[dict[str, str | None]] = {
    "121": "mo-org",
    "109": "mo-org",
    "187": "mse-org",
    "35": "mse-org",
    "130": "mse-org",
    "108": "mse-org",
    "kz-031u": None,
}
_CDA_MIME: Final = "application/x-hl7-cda-level-one+xml"
_T = TypeVar("_T")


@cache
def default_exam_groups() -> tuple[ExamGroup, ...]:
    """The shipped Russian required-examinations table (``config/required_exams_ru.tsv``, see
    gateway.common.shipped), or nothing when it is not there."""
    path = shipped("config/required_exams_ru.tsv")
    if path is None or not path.is_file():
        return ()
    try:
        return tuple(load_required_exams(path))
    except RequiredExamsError:
        return ()


# ------------------------------------------------------------------------------------- documents


def shift_dates(value: _T, days: int) -> _T:
    """Move every date and datetime inside a model by ``days``, except birth dates (an IIN encodes
    the birth date, and an age should not change)."""
    if isinstance(value, datetime | date):
        return value + timedelta(days=days)
    if isinstance(value, tuple):
        return tuple(shift_dates(v, days) for v in value)  # type: ignore[return-value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: shift_dates(getattr(value, f.name), days)
            for f in dataclasses.fields(value)
            if f.name != "birth_date"
        }
        return dataclasses.replace(value, **changes)
    return value


def _names(identity_surname: str | None, identity_given: str | None) -> tuple[str | None, str | None, str | None]:
    given, _, patronymic = (identity_given or "").partition(" ")
    return identity_surname, given or None, patronymic or None


def _as_signer(person: Practitioner, signers: SampleSigners, role: str) -> Practitioner:
    """The practitioner with the name and SNILS/IIN of ``role``'s certificate."""
    identity = signers.identity(role)
    family, given, patronymic = _names(identity.surname, identity.given_name)
    return dataclasses.replace(
        person,
        family=(family or person.family).title(),
        given=(given or person.given).title(),
        patronymic=patronymic.title() if patronymic else person.patronymic,
        snils=identity.snils if identity.snils else person.snils,
        iin=identity.iin if identity.iin else person.iin,
    )


def _with_ogrn(org: Organisation, ogrn: str) -> Organisation:
    return dataclasses.replace(org, ogrn=ogrn)


def _required_examinations(doc: ParsedDocument, groups: Sequence[ExamGroup]) -> tuple[Examination, ...] | None:
    if doc.diagnoses is None or not groups:
        return None
    found = groups_for_icd10(doc.diagnoses.main.icd10, groups, section="adult")
    if not found:
        return None
    details = doc.details
    base = details.vk_protocol_date if isinstance(details, ReferralDetails) else doc.created.date()
    exams: dict[str, Examination] = {}
    for group in found:
        for i, exam in enumerate(group.required_exams):
            exams.setdefault(
                exam.code,
                Examination(
                    exam.code,
                    exam.name,
                    base - timedelta(days=3 + i),
                    "Результат обследования соответствует описанному состоянию",
                    str(uuid.UUID(int=random.Random(f"{doc.local_uid}:{exam.code}").getrandbits(128), version=4)),
                ),
            )
    return tuple(exams.values())


def prepare_document(
    kind: str,
    seed: int,
    signers: SampleSigners,
    *,
    now: datetime,
    exam_groups: Sequence[ExamGroup] | None = None,
    signer_role: str | None = None,
) -> ParsedDocument:
    """A sample document of ``kind`` created within the last three days before ``now``, whose
    organisation and signer are those of ``signers`` (``signer_role`` overrides the kind's usual
    personal signer)."""
    doc = sample_document(DocumentKind(kind), seed=seed)
    rng = random.Random(f"prepare:{kind}:{seed}")
    target = now - timedelta(minutes=rng.randint(60, 3 * 24 * 60))
    tz = doc.created.tzinfo
    days = (target.astimezone(tz).date() - doc.created.date()).days
    if doc.created + timedelta(days=days) > now - timedelta(minutes=30):
        days -= 1
    doc = shift_dates(doc, days)
    role = signer_role or PERSONAL_ROLE[kind]
    changes: dict[str, Any] = {"legal_authenticator": _as_signer(doc.legal_authenticator, signers, role)}
    if kind in ("121", "109"):
        changes["organisation"] = _with_ogrn(doc.organisation, signers.mo_ogrn)
        details = doc.details
        assert isinstance(details, ReferralDetails)
        details = dataclasses.replace(details, bureau=_with_ogrn(details.bureau, signers.bureau_ogrn))
        if details.location_org is not None:
            details = dataclasses.replace(details, location_org=changes["organisation"])
        changes["details"] = details
        exams = _required_examinations(doc, default_exam_groups() if exam_groups is None else exam_groups)
        if exams is not None:
            changes["examinations"] = exams
    elif kind in ("187", "35", "130", "108"):
        changes["organisation"] = _with_ogrn(doc.organisation, signers.bureau_ogrn)
    return dataclasses.replace(doc, **changes)


# ------------------------------------------------------------------------------------ signatures


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _patient_metadata(doc: ParsedDocument) -> dict[str, str]:
    p = doc.patient
    meta: dict[str, str] = {"family": p.family, "given": p.given, "birth_date": p.birth_date.isoformat()}
    if p.patronymic:
        meta["patronymic"] = p.patronymic
    if p.snils:
        meta["snils"] = p.snils
    if p.iin:
        meta["iin"] = p.iin
    return meta


def sign_document(
    doc: ParsedDocument,
    signers: SampleSigners,
    *,
    signing_time: datetime,
    personal: Sequence[str] | None = None,
    organisation: Sequence[str] | None = None,
    data: bytes | None = None,
    source_system: str = "sample-mis",
    signer_metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The canonical submission (JSON-ready dict) of ``doc``: personal signatures by the roles in
    ``personal`` (default: the kind's signer), then organisation signatures (default: the kind's),
    all over ``data`` (default: the built document)."""
    kind = doc.kind.value
    document = build_document(doc) if data is None else data
    personal_roles = [PERSONAL_ROLE[kind]] if personal is None else list(personal)
    org_default = ORGANISATION_ROLE[kind]
    org_roles = ([org_default] if org_default else []) if organisation is None else list(organisation)
    signatures: list[dict[str, Any]] = []
    signer = doc.legal_authenticator
    for role in personal_roles:
        identity = signers.identity(role)
        meta: dict[str, str] = {"local_id": signer.local_id, "position_code": signer.position.code}
        if identity.snils:
            meta["snils"] = identity.snils
        if identity.iin:
            meta["iin"] = identity.iin
        meta.update(signer_metadata or {})
        signatures.append({"type": "personal", "signer": meta, "cms": _b64(signers.sign(role, document, signing_time))})
    for role in org_roles:
        signatures.append({"type": "organization", "cms": _b64(signers.sign(role, document, signing_time))})
    return {
        "source_system": source_system,
        "local_uid": doc.local_uid,
        "kind": kind,
        "organization_oid": doc.organisation.oid,
        "creation_datetime": doc.created.isoformat(),
        "document": _b64(document),
        "document_mime": "application/xml" if doc.kind is DocumentKind.KZ_031U else _CDA_MIME,
        "patient": _patient_metadata(doc),
        "signatures": signatures,
    }


def signing_time_for(doc: ParsedDocument, now: datetime, seed: int) -> datetime:
    """A plausible signing time: a few minutes after creation (deterministic per seed), not after now."""
    minutes = random.Random(f"signing:{doc.local_uid}:{seed}").randint(1, 30)
    return min(doc.created + timedelta(minutes=minutes), now)


def make_submission(
    kind: str,
    seed: int,
    pki: SampleSigners,
    *,
    now: datetime | None = None,
    source_system: str = "sample-mis",
    exam_groups: Sequence[ExamGroup] | None = None,
) -> dict[str, Any]:
    """One valid, signed canonical submission of ``kind`` (121, 109, 187, 35, 130, 108, kz-031u).

    Deterministic in its content for a given (kind, seed, pki, now); the signatures differ on every
    call (GOST signing is randomised). Cost: building the document plus two hash-and-sign
    operations — no certificate is issued and nothing is re-encoded with asn1crypto.
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    doc = prepare_document(kind, seed, pki, now=moment, exam_groups=exam_groups)
    return sign_document(doc, pki, signing_time=signing_time_for(doc, moment, seed), source_system=source_system)
