"""Rule ``dates``: the creation date is not in the future, and every signer's certificate was
valid on the creation date (REMD checks the latter on the document date, not the signing time)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from gateway.flk.codes import FlkCode
from gateway.flk.findings import RuleFinding, finding
from gateway.flk.messages import FLK_TEXTS
from gateway.flk.signatures import SignatureCheck, entry_label, labelled
from gateway.intake.submission import CanonicalSubmission

__all__ = ["RULE", "dates_findings"]

RULE = "dates"


def _instant(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def dates_findings(
    sub: CanonicalSubmission,
    checks: Sequence[SignatureCheck],
    *,
    now: datetime,
    tolerance: timedelta = timedelta(minutes=10),
) -> list[RuleFinding]:
    out: list[RuleFinding] = []
    created = sub.creation_datetime
    if created > now + tolerance:
        out.append(
            finding(
                RULE,
                FlkCode.WRONG_CREATION_DATE,
                "other",
                FLK_TEXTS.text("dates.future"),
                "creation_datetime",
            )
        )
    for check in checks:
        signer = check.signer
        if signer is None or signer.certificate is None:
            continue
        not_before = _instant(signer.certificate.not_before)
        not_after = _instant(signer.certificate.not_after)
        personal = check.entry.type == "personal"
        label = entry_label(check.index, check.entry)
        where = f"signatures/{check.index}"
        if not_before is not None and created < not_before:
            code = (
                FlkCode.PERSONAL_SIG_CERT_NOT_ACTUAL_ON_DOC_CREATION_DT
                if personal
                else FlkCode.DOC_DATE_MISMATCH_CERT_NOT_BEFORE
            )
            out.append(
                finding(
                    RULE,
                    code,
                    "invalid_signature",
                    labelled(label, FLK_TEXTS.text("dates.before_cert")),
                    where,
                )
            )
        elif not_after is not None and created > not_after:
            code = (
                FlkCode.PERSONAL_SIG_CERT_NOT_ACTUAL_ON_DOC_CREATION_DT
                if personal
                else FlkCode.DOC_DATE_MISMATCH_CERT_NOT_AFTER
            )
            out.append(
                finding(
                    RULE,
                    code,
                    "invalid_signature",
                    labelled(label, FLK_TEXTS.text("dates.after_cert")),
                    where,
                )
            )
    return out
