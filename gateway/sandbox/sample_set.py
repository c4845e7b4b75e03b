"""The sample set for vendors: valid submissions of every kind plus one defective submission per
FLK rule, with ``expected.json`` saying how each must come out of ``mse-gateway check`` and
``journal.json`` holding the earlier submissions the duplicate and late-arrival cases refer to.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from gateway.documents import ParsedDocument, build_document
from gateway.documents import identifiers as ids
from gateway.documents.model import Coded, IdentityDocument, ReferralDetails
from gateway.flk.journal_view import JournalEntry, document_sha256
from gateway.flk.sample_pki import SampleSigners
from gateway.flk.samples import make_submission, prepare_document, shift_dates, sign_document, signing_time_for
from gateway.model import State

__all__ = ["DEFECTS", "VALID_KINDS", "SampleCase", "sample_cases", "write_samples"]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class SampleCase:
    """One file of the sample set and how ``check`` must judge it."""

    name: str
    submission: dict[str, Any]
    passed: bool
    category: str | None = None
    code: str | None = None
    journal: tuple[JournalEntry, ...] = field(default_factory=tuple)
    note: str = ""

    def expected(self) -> dict[str, Any]:
        return {"passed": self.passed, "category": self.category, "code": self.code}


_Defect = Callable[[SampleSigners, datetime, int], SampleCase]


def _doc(kind: str, seed: int, signers: SampleSigners, now: datetime, **kw: Any) -> ParsedDocument:
    return prepare_document(kind, seed, signers, now=now, **kw)


def _signed(doc: ParsedDocument, signers: SampleSigners, now: datetime, seed: int, **kw: Any) -> dict[str, Any]:
    return sign_document(doc, signers, signing_time=signing_time_for(doc, now, seed), **kw)


def _d_document(signers: SampleSigners, now: datetime, seed: int) -> SampleCase:
    doc = _doc("121", seed, signers, now)
    data = build_document(doc)
    broken = data[: len(data) // 2]  # truncated in transit, and signed as it is
    return SampleCase(
        "defect-document-malformed.json",
        _signed(doc, signers, now, seed, data=broken),
        False,
        "other",
        "DOC_XML_MALFORMED",
        note="the document is truncated XML (signatures over the exact, truncated bytes are valid)",
    )


def _d_kind(signers: SampleSigners, now: datetime, seed: int) -> SampleCase:
    doc = _doc("121", seed, signers, now)
    sub = _signed(doc, signers, now, seed)
    sub["kind"] = "109"
    return SampleCase(
        "defect-document-kind-mismatch.json", sub, False, "other", "DOC_KIND_MISMATCH", note="declared 109, is 121"
    )


def _d_no_signature(signers: SampleSigners, now: datetime, seed: int) -> SampleCase:
    doc = _doc("121", seed, signers, now)
    return SampleCase(
        "defect-signatures-present.json",
        _signed(doc, signers, now, seed, personal=[], organisation=[]),
        False,
        "invalid_signature",
        "NO_SIGNATURE",
    )


def _d_tampered(signers: SampleSigners, now: datetime, seed: int) -> SampleCase:
    doc = _doc("121", seed, signers, now)
    data = build_document(doc)
    sub = _signed(doc, signers, now, seed, data=data)
    position = data.index(b"<postalCode>") + len(b"<postalCode>")
    tampered = bytearray(data)
    tampered[position] = ord("2") if tampered[position] != ord("2") else ord("3")  # one digit of a postal code
    sub["document"] = _b64(bytes(tampered))
    return SampleCase(
        "defect-invalid-signature.json",
        sub,
        False,
        "invalid_signature",
        "DIGEST_MISMATCH",
        note="one content byte changed after signing",
    )


def _d_position(signers: SampleSigners, now: datetime, seed: int) -> SampleCase:
    doc = _doc("121", seed, signers, now, signer_role="doctor")
    return SampleCase(
        "defect-role-policy-position.json",
        _signed(doc, signers, now, seed, personal=["doctor"]),
        False,
        "role",
        "POSITION_TO_ROLE_MISMATCH",
        note="the MIS declared a doctor (title «Врач-терапевт») as the VK chair and he signed",
    )


def _d_identity(signers: SampleSigners, now: datetime, seed: int) -> SampleCase:
    doc = _doc("121", seed, signers, now)
    other = ids.random_snils(random.Random(f"other-snils:{seed}"))
    return SampleCase(
        "defect-role-policy-identity.json",
        _signed(doc, signers, now, seed, signer_metadata={"snils": other}),
        False,
        "role",
        "VALUE_MISMATCH_METADATA_AND_CERTIFICATE",
        note="signer SNILS in the metadata is not the certificate's",
    )


def _d_role_count(signers: SampleSigners, now: datetime, seed: int) -> SampleCase:
    doc = _doc("121", seed, signers, now)
    return SampleCase(
        "defect-role-policy-count.json",
        _signed(doc, signers, now, seed, personal=[]),
        False,
        "role",
        "ROLE_OCCURRENCE_MISMATCH",
        note="only the organisation signed",
    )


def _d_org_count(signers: SampleSigners, now: datetime, seed: int) -> SampleCase:
    doc = _doc("121", seed, signers, now)
    return SampleCase(
        "defect-role-policy-org-count.json",
        _signed(doc, signers, now, seed, organisation=[]),
        False,
        "role",
        "ORG_SIGNATURE_OCCURRENCE_MISMATCH",
        note="no organisation signature",
    )


def _d_org_foreign(signers: SampleSigners, now: datetime, seed: int) -> SampleCase:
    doc = _doc("121", seed, signers, now)
    return SampleCase(
        "defect-role-policy-org-foreign.json",
        _signed(doc, signers, now, seed, organisation=["foreign-mo-org"]),
        False,
        "role",
        "SIGNER_ORG_MISMATCH",
        note="the organisation signature is another MO's",
    )


def _d_result_position(signers: SampleSigners, now: datetime, seed: int) -> SampleCase:
    doc = _doc("187", seed, signers, now, signer_role="mse-official")
    return SampleCase(
        "defect-role-policy-position-187.json",
        _signed(doc, signers, now, seed, personal=["mse-official"]),
        False,
        "role",
        "POSITION_TO_ROLE_MISMATCH",
        note="a result of edition 3 signed by an expert doctor of the bureau («Врач по медико-социальной "
        "экспертизе»), not by the bureau head",
    )


def _d_result_org(signers: SampleSigners, now: datetime, seed: int) -> SampleCase:
    doc = _doc("187", seed, signers, now)
    return SampleCase(
        "defect-role-policy-org-count-187.json",
        _signed(doc, signers, now, seed, organisation=[]),
        False,
        "role",
        "ORG_SIGNATURE_OCCURRENCE_MISMATCH",
        note="a result of edition 3 without the bureau's organisation signature",
    )


def _d_notice_position(signers: SampleSigners, now: datetime, seed: int) -> SampleCase:
    doc = _doc("130", seed, signers, now, signer_role="doctor")
    return SampleCase(
        "defect-role-policy-position-130.json",
        _signed(doc, signers, now, seed, personal=["doctor"]),
        False,
        "role",
        "POSITION_TO_ROLE_MISMATCH",
        note="a return notice signed by a doctor of the MO («Врач-терапевт»), not by the bureau",
    )


def _d_retired_edition(signers: SampleSigners, now: datetime, seed: int) -> SampleCase:
    doc = _doc("109", seed, signers, now)
    return SampleCase(
        "defect-kind-validity-109.json",
        _signed(doc, signers, now, seed),
        False,
        "other",
        "NO_DOCUMENT_KIND_ON_DATE",
        note="a referral of edition 5 (109) created today: NSI 1520 accepts 109 only for documents created "
        "01.01.2022–15.03.2023 (use 121)",
    )


def _d_edition_not_yet(signers: SampleSigners, now: datetime, seed: int) -> SampleCase:
    doc = _doc("187", seed, signers, now)
    doc = shift_dates(doc, (date(2023, 8, 1) - doc.created.date()).days)
    return SampleCase(
        "defect-kind-validity-187.json",
        sign_document(doc, signers, signing_time=now),
        False,
        "other",
        "NO_DOCUMENT_KIND_ON_DATE",
        note="a result of edition 3 (187) dated 01.08.2023, before the edition came into force (14.08.2023; use 35)",
    )


def _d_kz_role(signers: SampleSigners, now: datetime, seed: int) -> SampleCase:
    doc = _doc("kz-031u", seed, signers, now, signer_role="kz-employee")
    return SampleCase(
        "defect-role-policy-kz-certificate-type.json",
        _signed(doc, signers, now, seed, personal=["kz-employee"]),
        False,
        "role",
        "POSITION_TO_ROLE_MISMATCH",
        note="031/у signed with a legal-entity employee certificate, not an individual one (EKU 1.2.398.3.3.4.1.1)",
    )


def _entry(sub: dict[str, Any], **kw: Any) -> JournalEntry:
    base: dict[str, Any] = {
        "source_system": sub["source_system"],
        "local_uid": sub["local_uid"],
        "kind": sub["kind"],
        "organization_oid": sub["organization_oid"],
        "state": str(State.REGISTERED),
        "received_at": None,
        "document_sha256": document_sha256(base64.b64decode(sub["document"])),
        "patient_id": sub["patient"].get("snils") or sub["patient"].get("iin"),
    }
    base.update(kw)
    return JournalEntry(**base)


def _d_duplicate_uid(signers: SampleSigners, now: datetime, seed: int) -> SampleCase:
    doc = _doc("121", seed, signers, now)
    sub = _signed(doc, signers, now, seed)
    earlier = _entry(sub, source_system="regional-gis", received_at=now - timedelta(hours=5), document_sha256=None)
    return SampleCase(
        "defect-duplicate-requisites.json",
        sub,
        False,
        "duplicate",
        "NOT_UNIQUE_PROVIDED_ID",
        (earlier,),
        "the same localUid of the same MO was already accepted from the regional GIS",
    )


def _d_duplicate_content(signers: SampleSigners, now: datetime, seed: int) -> SampleCase:
    doc = _doc("121", seed, signers, now)
    sub = _signed(doc, signers, now, seed)
    earlier = _entry(
        sub,
        source_system="regional-gis",
        local_uid=str(uuid.UUID(int=random.Random(f"dup:{seed}").getrandbits(128), version=4)),
        state=str(State.SENT),
        received_at=now - timedelta(hours=2),
    )
    return SampleCase(
        "defect-duplicate-content.json",
        sub,
        False,
        "duplicate",
        "FLK_DUPLICATE_DOCUMENT",
        (earlier,),
        "the same document bytes were accepted under another localUid",
    )


def _d_late(signers: SampleSigners, now: datetime, seed: int) -> SampleCase:
    doc = _doc("121", seed, signers, now)
    sub = _signed(doc, signers, now, seed)
    decision = _entry(
        sub,
        source_system="eaviias",
        kind="35",
        local_uid=str(uuid.UUID(int=random.Random(f"late:{seed}").getrandbits(128), version=4)),
        organization_oid=doc.details.bureau.oid
        if isinstance(doc.details, ReferralDetails)
        else sub["organization_oid"],
        referral_uid=doc.local_uid,
        document_sha256=None,
        received_at=now - timedelta(days=1),
    )
    return SampleCase(
        "defect-late-arrival.json",
        sub,
        False,
        "late",
        "FLK_LATE_ARRIVAL",
        (decision,),
        "the MSE result for this referral is already journalled",
    )


def _d_region(signers: SampleSigners, now: datetime, seed: int) -> SampleCase:
    doc = _doc("121", seed, signers, now)
    org = doc.organisation
    moved = dataclasses.replace(
        org,
        oid=org.oid.replace(".12.2.77.", ".12.2.50."),
        address=dataclasses.replace(
            org.address, region=Coded("50", "Московская область"), text="Московская обл., г. Мытищи, ул. Мира, д. 1"
        ),
    )
    doc = dataclasses.replace(doc, organisation=moved)
    return SampleCase(
        "defect-wrong-region.json",
        _signed(doc, signers, now, seed),
        False,
        "wrong_region",
        "FLK_WRONG_REGION",
        note="an MO of region 50 refers to a bureau of region 77",
    )


def _d_snils(signers: SampleSigners, now: datetime, seed: int) -> SampleCase:
    doc = _doc("121", seed, signers, now)
    good = ids.normalise_snils(doc.patient.snils or "")
    bad = good[:9] + f"{(int(good[9:]) + 1) % 100:02d}"
    doc = dataclasses.replace(doc, patient=dataclasses.replace(doc.patient, snils=ids.format_snils(bad)))
    return SampleCase(
        "defect-citizen-data-snils.json",
        _signed(doc, signers, now, seed),
        False,
        "citizen_data",
        "FLK_PATIENT_SNILS_INVALID",
        note="the patient's SNILS check number is wrong",
    )


def _d_minor(signers: SampleSigners, now: datetime, seed: int) -> SampleCase:
    doc = _doc("121", seed, signers, now)
    birth = doc.created.date().replace(year=doc.created.year - 10, day=min(doc.created.day, 28))
    certificate = IdentityDocument(
        type=Coded("3", "Свидетельство о рождении"),
        series="IV-МЮ",
        number="123456",
        issuer="Отдел ЗАГС Мещанского района г. Москвы",
        issue_date=birth + timedelta(days=12),
    )
    patient = dataclasses.replace(
        doc.patient, birth_date=birth, identity_document=certificate, legal_representative=None
    )
    doc = dataclasses.replace(doc, patient=patient)
    return SampleCase(
        "defect-citizen-data-minor.json",
        _signed(doc, signers, now, seed),
        False,
        "citizen_data",
        "FLK_REPRESENTATIVE_MISSING",
        note="a ten-year-old without a legal representative",
    )


def _d_kz_exams(signers: SampleSigners, now: datetime, seed: int) -> SampleCase:
    doc = _doc("kz-031u", seed, signers, now)
    doc = dataclasses.replace(doc, examinations=tuple(e for e in doc.examinations if e.code != "XRAY_LIMB"))
    return SampleCase(
        "defect-examinations-kz.json",
        _signed(doc, signers, now, seed),
        False,
        "examinations",
        "FLK_KZ_EXAMS_MISSING",
        note="limb defect without the X-ray of the limb",
    )


def _w_ru_exams(signers: SampleSigners, now: datetime, seed: int) -> SampleCase:
    doc = _doc("121", seed, signers, now, exam_groups=())  # keep the sample's own three examinations
    return SampleCase(
        "warning-examinations-ru.json",
        _signed(doc, signers, now, seed),
        True,
        note="required examinations missing, but the table row is unverified: a warning, not a rejection",
    )


def _d_future(signers: SampleSigners, now: datetime, seed: int) -> SampleCase:
    doc = shift_dates(_doc("121", seed, signers, now), 5)
    return SampleCase(
        "defect-dates-future.json",
        sign_document(doc, signers, signing_time=now),
        False,
        "other",
        "WRONG_CREATION_DATE",
        note="created five days in the future (signed now)",
    )


def _d_cert_date(signers: SampleSigners, now: datetime, seed: int) -> SampleCase:
    doc = shift_dates(_doc("121", seed, signers, now), -60)
    return SampleCase(
        "defect-dates-certificate.json",
        sign_document(doc, signers, signing_time=now),
        False,
        "invalid_signature",
        "PERSONAL_SIG_CERT_NOT_ACTUAL_ON_DOC_CREATION_DT",
        note="created 60 days ago, before the signer's certificate was valid, and signed today",
    )


def _d_metadata(signers: SampleSigners, now: datetime, seed: int) -> SampleCase:
    doc = _doc("121", seed, signers, now)
    sub = _signed(doc, signers, now, seed)
    sub["local_uid"] = str(uuid.UUID(int=random.Random(f"meta:{seed}").getrandbits(128), version=4))
    return SampleCase(
        "defect-metadata.json", sub, False, "other", "ATTRIBUTE_MISMATCH", note="localUid differs from the document id"
    )


def _d_schema(signers: SampleSigners, now: datetime, seed: int) -> SampleCase:
    doc = _doc("kz-031u", seed, signers, now)
    assert doc.diagnoses is not None
    main = dataclasses.replace(doc.diagnoses.main, icd10=doc.diagnoses.main.icd10 + "X")
    doc = dataclasses.replace(doc, diagnoses=dataclasses.replace(doc.diagnoses, main=main))
    return SampleCase(
        "defect-semd-schema-kz.json",
        _signed(doc, signers, now, seed),
        False,
        "other",
        "INVALID_CONTENT",
        note="ICD-10 code «S48.1X» breaks the 031/у schema's pattern",
    )


DEFECTS: Final[tuple[_Defect, ...]] = (
    _d_document,
    _d_kind,
    _d_no_signature,
    _d_metadata,
    _d_schema,
    _d_duplicate_uid,
    _d_duplicate_content,
    _d_late,
    _d_tampered,
    _d_position,
    _d_identity,
    _d_role_count,
    _d_org_count,
    _d_org_foreign,
    _d_result_position,
    _d_result_org,
    _d_notice_position,
    _d_kz_role,
    _d_retired_edition,
    _d_edition_not_yet,
    _d_future,
    _d_cert_date,
    _d_region,
    _d_snils,
    _d_minor,
    _d_kz_exams,
    _w_ru_exams,
)
# The kinds of the valid samples, in turn: the current editions first. 109 is absent: its edition
# accepts only documents created up to 15.03.2023, so a fresh one is a defect (defect-kind-validity-109).
VALID_KINDS: Final = ("121", "187", "130", "35", "108", "kz-031u")


def sample_cases(
    signers: SampleSigners, *, count: int = len(VALID_KINDS), seed: int = 0, now: datetime | None = None
) -> list[SampleCase]:
    """``count`` valid submissions (kinds in turn, :data:`VALID_KINDS`) and every defect case."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    cases = [
        SampleCase(f"valid-{kind}-{i}.json", make_submission(kind, seed * 100_000 + i, signers, now=moment), True)
        for i, kind in ((i, VALID_KINDS[i % len(VALID_KINDS)]) for i in range(count))
    ]
    cases.extend(defect(signers, moment, seed * 100_000 + 50_000 + n) for n, defect in enumerate(DEFECTS))
    return cases


def write_samples(
    directory: Path,
    *,
    count: int = len(VALID_KINDS),
    seed: int = 0,
    pki_dir: Path | None = None,
    now: datetime | None = None,
) -> dict[str, dict[str, Any]]:
    """Write the sample set into ``directory``: one canonical JSON per case, ``journal.json`` (the
    journal entries the duplicate and late-arrival cases need), ``expected.json`` and a README.
    The signers' PKI goes to ``pki_dir`` (default ``directory/pki``; reused when present)."""
    directory.mkdir(parents=True, exist_ok=True)
    pki_path = pki_dir or directory / "pki"
    signers = SampleSigners.open_or_create(pki_path, seed=seed)
    cases = sample_cases(signers, count=count, seed=seed, now=now)
    expected: dict[str, dict[str, Any]] = {}
    journal: list[dict[str, Any]] = []
    for case in cases:
        (directory / case.name).write_text(json.dumps(case.submission, ensure_ascii=False, indent=1), "utf-8")
        expected[case.name] = case.expected()
        journal.extend(e.to_dict() for e in case.journal)
    (directory / "journal.json").write_text(json.dumps(journal, ensure_ascii=False, indent=1), "utf-8")
    (directory / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1), "utf-8")
    notes = "\n".join(f"| `{c.name}` | {c.expected()['code'] or 'passes'} | {c.note} |" for c in cases if c.note)
    (directory / "README.md").write_text(
        "# Sample submissions (generated; fictional people, test PKI — never real keys)\n\n"
        "`expected.json` says how each file must come out of\n\n"
        f"    mse-gateway check FILE --trust {pki_path} --journal {directory / 'journal.json'}\n\n"
        "(`--journal` supplies the earlier submissions the duplicate and late-arrival cases refer to).\n\n"
        "| file | expected | what is wrong |\n|---|---|---|\n" + notes + "\n",
        "utf-8",
    )
    return expected
