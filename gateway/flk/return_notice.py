"""The return notice (SEMD kind 130, edition 2; 108, edition 1): the bureau's answer to a referral
that failed the checks.

When the bureau returns a referral to the MO (KPI: three working days), it sends «Уведомление о
причинах возврата направления на медико-социальную экспертизу» (form per order 360н). The notice
says which referral (its id and date), to whom (the MO, the citizen), why — one coded reason per
rejection category of the FLK report, with the findings' Russian messages as the explanation —
and who decided: the bureau's official, whose personal signature (and optionally the bureau's
organisation signature) it carries.

The 360н form's text was not at hand; the content follows the model of
:class:`gateway.documents.model.ReturnDetails` and the project's reconstruction of kinds 130/108
(docs/documents.md). Reason codes are the project's list ``<PROJECT_OID>.1``.
"""

from __future__ import annotations

import base64
import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Final

from gateway.documents import DocumentKind, ParsedDocument, build_document
from gateway.documents.codes import KINDS
from gateway.documents.model import Coded, Practitioner, ReferralDetails, ReturnDetails, SignerRole
from gateway.flk.config import ReturnNoticeConfig
from gateway.flk.sample_pki import SampleSigners
from gateway.signatures import Certificate, PrivateKey, load_certificates, load_private_key, sign_cms
from gateway.validation.contract import Category, Report

__all__ = [
    "BUREAU_HEAD_POSITION",
    "REASONS",
    "NoticeSigner",
    "ReturnNotice",
    "SignedDocument",
    "build_return_notice",
    "build_signed_return_notice",
    "bureau_staff",
    "referral_details",
    "return_reasons",
    "sign_decision",
]

# Reason codes (project list <PROJECT_OID>.1): one per rejection category. "1" and "3" are the
# codes gateway.documents.samples already uses.
REASONS: Final[dict[Category, Coded]] = {
    "examinations": Coded("1", "Отсутствуют результаты медицинских обследований, предусмотренных перечнем"),
    "duplicate": Coded("2", "Направление поступило повторно (дубль документа)"),
    "citizen_data": Coded("3", "Неполные или недостоверные сведения о гражданине"),
    "invalid_signature": Coded("4", "Электронная подпись недействительна"),
    "role": Coded("5", "Документ подписан лицом, не имеющим на это полномочий"),
    "wrong_region": Coded("6", "Медицинская организация находится в другом субъекте Российской Федерации"),
    "late": Coded("7", "По направлению уже принято решение (направление поступило после проведения МСЭ)"),
    "other": Coded("9", "Иные нарушения порядка оформления направления"),
}
_MSK: Final = timezone(timedelta(hours=3))
# The bureau head's position as the samples write it. The code is the samples' own (illustrative):
# NSI 1.2.643.5.1.13.13.11.1002 is not in the project's reference lists and no public copy naming
# «руководитель бюро МСЭ» was found (docs/flk.md). The role check relies on the certificate title.
BUREAU_HEAD_POSITION: Final = Coded("1", "руководитель бюро медико-социальной экспертизы")
_MAX_COMMENT: Final = 4000


@dataclass(frozen=True)
class NoticeSigner:
    """Who signs notices: the MSE official's key and certificate (+ CA chain), their position,
    and optionally the bureau's organisation key and certificate."""

    key: PrivateKey
    certificate: Certificate
    position: Coded
    chain: tuple[Certificate, ...] = ()
    org_key: PrivateKey | None = None
    org_certificate: Certificate | None = None
    local_id: str = "MSE-OFFICIAL"

    @classmethod
    def from_config(cls, config: ReturnNoticeConfig) -> NoticeSigner:
        """Load the configured files (ValueError when the signer is not configured)."""
        if not config.signer_key_file or not config.signer_cert_file:
            raise ValueError("validation.return_notice.signer_key_file and signer_cert_file must be set")
        org_key = org_cert = None
        if config.org_key_file and config.org_cert_file:
            org_key = load_private_key(Path(config.org_key_file).read_bytes())
            org_cert = load_certificates(Path(config.org_cert_file).read_bytes())[0]
        chain = tuple(load_certificates(Path(config.chain_file).read_bytes())) if config.chain_file else ()
        return cls(
            key=load_private_key(Path(config.signer_key_file).read_bytes()),
            certificate=load_certificates(Path(config.signer_cert_file).read_bytes())[0],
            position=Coded(config.position_code, config.position_name),
            chain=chain,
            org_key=org_key,
            org_certificate=org_cert,
        )

    @classmethod
    def from_sample_signers(cls, signers: SampleSigners) -> NoticeSigner:
        """The sandbox's MSE official and bureau certificates (test PKI)."""
        official, official_key = signers.certificate("mse-official"), signers.template("mse-official").key
        org, org_key = signers.certificate("mse-org"), signers.template("mse-org").key
        return cls(
            key=official_key,
            certificate=official,
            position=Coded("2", "врач по медико-социальной экспертизе"),
            chain=(signers.pki.ca,),
            org_key=org_key,
            org_certificate=org,
        )

    @classmethod
    def bureau_head_from_sample_signers(cls, signers: SampleSigners) -> NoticeSigner:
        """The sandbox's bureau head and bureau certificates (test PKI): the signers of a result."""
        return cls(
            key=signers.template("mse-head").key,
            certificate=signers.certificate("mse-head"),
            position=BUREAU_HEAD_POSITION,
            chain=(signers.pki.ca,),
            org_key=signers.template("mse-org").key,
            org_certificate=signers.certificate("mse-org"),
            local_id="MSE-HEAD",
        )

    def practitioner(self, role: SignerRole) -> Practitioner:
        identity = self.certificate.identity()
        given, _, patronymic = (identity.given_name or "").partition(" ")
        return Practitioner(
            local_id=self.local_id,
            family=identity.surname or identity.common_name or "—",
            given=given or "—",
            patronymic=patronymic or None,
            position=self.position,
            role=role,
            snils=identity.snils,
        )


@dataclass(frozen=True)
class SignedDocument:
    """A bureau's document as a model, its XML bytes and the signed canonical submission (JSON-ready)."""

    document: ParsedDocument
    data: bytes
    submission: dict[str, Any]


ReturnNotice = SignedDocument  # the name this module's callers have used since kind 108


def sign_decision(doc: ParsedDocument, signer: NoticeSigner, *, source_system: str = "mse-gateway") -> SignedDocument:
    """Build ``doc`` and sign it as the bureau does: the legal authenticator's personal signature
    with ``signer``'s key, then the bureau's organisation signature when ``signer`` has one; signed
    at the document's creation time. Returns the model, the bytes and the canonical submission."""
    data = build_document(doc)
    signing_time = doc.created.astimezone(UTC)
    official = doc.legal_authenticator
    signatures: list[dict[str, Any]] = [
        {
            "type": "personal",
            "signer": {
                k: v
                for k, v in (
                    ("snils", official.snils),
                    ("local_id", official.local_id),
                    ("position_code", official.position.code),
                )
                if v
            },
            "cms": _b64(sign_cms(data, signer.key, signer.certificate, chain=signer.chain, signing_time=signing_time)),
        }
    ]
    if signer.org_key is not None and signer.org_certificate is not None:
        org_cms = sign_cms(data, signer.org_key, signer.org_certificate, chain=signer.chain, signing_time=signing_time)
        signatures.append({"type": "organization", "cms": _b64(org_cms)})
    patient = doc.patient
    meta = {"family": patient.family, "given": patient.given, "birth_date": patient.birth_date.isoformat()}
    if patient.patronymic:
        meta["patronymic"] = patient.patronymic
    if patient.snils:
        meta["snils"] = patient.snils
    submission = {
        "source_system": source_system,
        "local_uid": doc.local_uid,
        "kind": doc.kind.value,
        "organization_oid": doc.organisation.oid,
        "creation_datetime": doc.created.isoformat(),
        "document": _b64(data),
        "document_mime": "application/x-hl7-cda-level-one+xml",
        "patient": meta,
        "signatures": signatures,
    }
    return SignedDocument(doc, data, submission)


def return_reasons(report: Report) -> tuple[Coded, ...]:
    """One reason per rejection category of the report, in the order the findings give them."""
    seen: list[Coded] = []
    for item in report.findings:
        reason = REASONS[item.category]
        if reason not in seen:
            seen.append(reason)
    return tuple(seen)


def _comment(report: Report) -> str:
    lines = [f"{n}. {f.message} [{f.code}]" for n, f in enumerate(report.findings, 1)]
    text = "\n".join(lines)
    return text if len(text) <= _MAX_COMMENT else text[: _MAX_COMMENT - 1] + "…"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def referral_details(referral: ParsedDocument) -> ReferralDetails:
    """The referral's details (ValueError when ``referral`` is not a referral to MSE, 121/109)."""
    details = referral.details
    if referral.kind not in (DocumentKind.REFERRAL, DocumentKind.REFERRAL_ED5) or not isinstance(
        details, ReferralDetails
    ):
        raise ValueError("only a referral to MSE (kind 121/109) can be answered by the bureau")
    return details


def bureau_staff(signer: NoticeSigner, role: SignerRole) -> tuple[Practitioner, Practitioner]:
    """(author, legal authenticator): the signer writes the bureau's document and gives it force."""
    official = signer.practitioner(role)
    return dataclasses.replace(official, role=SignerRole.AUTHOR), official


def build_signed_return_notice(
    referral: ParsedDocument,
    reasons: Sequence[Coded],
    comment: str,
    signer: NoticeSigner,
    *,
    now: datetime | None = None,
    local_uid: str | None = None,
    kind: DocumentKind = DocumentKind.RETURN_NOTICE_ED2,
    source_system: str = "mse-gateway",
) -> SignedDocument:
    """Build and sign the notice (kind 130, or 108) returning ``referral`` to its MO for ``reasons``
    (codes of the project list ``<PROJECT_OID>.1``, see :data:`REASONS`) with ``comment``.

    The bureau is ``referral.details.bureau``; the patient is the referral's; ``signer`` (the bureau
    head or an official he authorised, docs/flk.md) is author and legal authenticator; the bureau's
    organisation signature is added when ``signer`` has one. Created at ``now`` (default: the
    current time), Moscow time. Raises ValueError when ``referral`` is not a referral (121/109),
    ``kind`` is not a return notice or ``reasons`` is empty.
    """
    details = referral_details(referral)
    if kind not in (DocumentKind.RETURN_NOTICE_ED2, DocumentKind.RETURN_NOTICE):
        raise ValueError(f"kind {kind.value} is not a return notice (130/108)")
    if not reasons:
        raise ValueError("a return notice needs at least one reason")
    created = (now or datetime.now(UTC)).astimezone(_MSK).replace(microsecond=0)
    author, official = bureau_staff(signer, SignerRole.BUREAU_HEAD)
    notice = ParsedDocument(
        kind=kind,
        local_uid=local_uid or str(uuid.uuid4()),
        set_id=str(uuid.uuid4()),
        version=1,
        created=created,
        title=KINDS[kind].title,
        patient=referral.patient,
        organisation=details.bureau,
        author=author,
        legal_authenticator=official,
        diagnoses=None,
        examinations=(),
        exam_form=None,
        details=ReturnDetails(
            referral_id=referral.local_uid,
            referral_date=referral.created.date(),
            reasons=tuple(reasons),
            comment=comment,
        ),
    )
    return sign_decision(notice, signer, source_system=source_system)


def build_return_notice(
    referral: ParsedDocument,
    report: Report,
    signer: NoticeSigner,
    *,
    now: datetime | None = None,
    local_uid: str | None = None,
    kind: DocumentKind = DocumentKind.RETURN_NOTICE_ED2,
    source_system: str = "mse-gateway",
) -> SignedDocument:
    """Build and sign the notice (kind 130 by default, the current edition; 108 on request)
    returning ``referral`` for the reasons in ``report``: one reason per rejection category, the
    findings' messages and codes as the explanation.

    Raises ValueError when the report passed (nothing to return) or the document is not a referral.
    """
    if report.passed:
        raise ValueError("the referral passed the checks: there is nothing to return")
    referral_details(referral)
    return build_signed_return_notice(
        referral,
        return_reasons(report),
        _comment(report),
        signer,
        now=now,
        local_uid=local_uid,
        kind=kind,
        source_system=source_system,
    )
