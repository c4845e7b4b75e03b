"""The bureau's answers to a referral, built and signed: the MSE result (kind 187, edition 3) and
the return notice (kind 130, edition 2) — one stable entry point for the sandbox's twins and tests.

- :func:`build_signed_result` — «Сведения о результатах проведенной МСЭ» for ``referral``: the
  bureau (``referral.details.bureau``) tells the MO the decision, signed by the bureau head
  (personal signature) and the bureau (organisation signature; both required by the role policy).
- :func:`build_signed_return_notice` — «Уведомление о причинах возврата направления на МСЭ» for
  ``referral``, with coded reasons and an explanation, signed by the bureau head or an official he
  authorised (organisation signature when the signer has one).
- :class:`NoticeSigner` — who signs: keys and certificates. ``NoticeSigner.bureau_head_from_sample_signers``
  and ``NoticeSigner.from_sample_signers`` give the sandbox's test-PKI signers of a result and of a
  notice; ``NoticeSigner.from_config`` loads configured files.

Each returns a :class:`SignedDocument` (model, XML bytes, canonical submission that passes the
gateway's own checks). Older editions (35, 108) are built on request with ``kind=``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Final

from gateway.documents import DocumentKind, ExamForm, ParsedDocument
from gateway.documents.codes import KINDS
from gateway.documents.model import Coded, ResultDetails, SignerRole
from gateway.flk.return_notice import (
    BUREAU_HEAD_POSITION,
    REASONS,
    NoticeSigner,
    SignedDocument,
    build_signed_return_notice,
    bureau_staff,
    referral_details,
    sign_decision,
)

__all__ = [
    "BUREAU_HEAD_POSITION",
    "DISABILITY_CAUSES",
    "DISABILITY_GROUPS",
    "REASONS",
    "MseDecision",
    "NoticeSigner",
    "SignedDocument",
    "build_signed_result",
    "build_signed_return_notice",
]

_MSK: Final = timezone(timedelta(hours=3))

# NSI 1.2.643.5.1.13.13.11.1053 «Группы инвалидности» and 1.2.643.5.1.13.13.11.1474 «Причины
# инвалидности»: the values the samples use (codes as the project's samples have always written them;
# check them against the NSI before production, docs/documents.md).
DISABILITY_GROUPS: Final[dict[str, Coded]] = {
    "1": Coded("1", "Первая группа"),
    "2": Coded("2", "Вторая группа"),
    "3": Coded("3", "Третья группа"),
}
DISABILITY_CAUSES: Final[dict[str, Coded]] = {"general": Coded("1", "Общее заболевание")}


@dataclass(frozen=True, slots=True)
class MseDecision:
    """What the bureau decided on a referral (the content of a result)."""

    protocol_number: str  # номер протокола проведения МСЭ
    decision_date: date
    disability_group: Coded  # NSI 1053
    disability_cause: Coded | None = None  # NSI 1474
    disability_until: date | None = None  # None: без срока переосвидетельствования
    ipra_number: str | None = None
    exam_form: ExamForm | None = None  # None: the form the referral asked for


def build_signed_result(
    referral: ParsedDocument,
    decision: MseDecision,
    signer: NoticeSigner,
    *,
    now: datetime | None = None,
    local_uid: str | None = None,
    kind: DocumentKind = DocumentKind.MSE_RESULT_ED3,
    source_system: str = "mse-gateway",
) -> SignedDocument:
    """Build and sign the result (kind 187, or 35) of the examination ``referral`` asked for.

    The bureau is ``referral.details.bureau``, the patient and the diagnoses are the referral's,
    ``signer`` must be the bureau head (its certificate's title is what the role policy checks) and
    must carry the bureau's organisation key: a result without the bureau's signature is refused
    (ORG_SIGNATURE_OCCURRENCE_MISMATCH), so it is not built. Created at ``now`` (default: the current
    time), Moscow time. Raises ValueError when ``referral`` is not a referral (121/109), ``kind`` is
    not a result, or ``signer`` has no organisation key.
    """
    details = referral_details(referral)
    if kind not in (DocumentKind.MSE_RESULT_ED3, DocumentKind.MSE_RESULT):
        raise ValueError(f"kind {kind.value} is not an MSE result (187/35)")
    if signer.org_key is None or signer.org_certificate is None:
        raise ValueError("an MSE result needs the bureau's organisation signature: the signer has no organisation key")
    created = (now or datetime.now(UTC)).astimezone(_MSK).replace(microsecond=0)
    author, head = bureau_staff(signer, SignerRole.BUREAU_HEAD)
    result = ParsedDocument(
        kind=kind,
        local_uid=local_uid or str(uuid.uuid4()),
        set_id=str(uuid.uuid4()),
        version=1,
        created=created,
        title=KINDS[kind].title,
        patient=referral.patient,
        organisation=details.bureau,
        author=author,
        legal_authenticator=head,
        diagnoses=referral.diagnoses,
        examinations=(),
        exam_form=decision.exam_form or referral.exam_form,
        details=ResultDetails(
            referral_id=referral.local_uid,
            protocol_number=decision.protocol_number,
            decision_date=decision.decision_date,
            disability_group=decision.disability_group,
            disability_cause=decision.disability_cause,
            disability_until=decision.disability_until,
            ipra_number=decision.ipra_number,
        ),
    )
    return sign_decision(result, signer, source_system=source_system)
