"""Rule ``kind-validity``: the document was created while its kind's edition was in force.

REMD registers a document of a kind only when its creation date lies in the period NSI 1520 gives
that kind («Дата начала/окончания действия», :data:`gateway.documents.kinds.KIND_TABLE`). So an older
edition (109, 35, 108) stays accepted for documents created while it was in force, however late they
arrive, and a document created outside the period — a referral of edition 5 written after
15.03.2023, a result of edition 3 dated before 14.08.2023 — is refused with REMD's own code
NO_DOCUMENT_KIND_ON_DATE instead of being sent to fail there.
"""

from __future__ import annotations

from gateway.common.language import Text
from gateway.documents.kinds import out_of_period
from gateway.flk.codes import FlkCode
from gateway.flk.findings import RuleFinding, finding
from gateway.flk.messages import FLK_TEXTS
from gateway.intake.submission import CanonicalSubmission

__all__ = ["RULE", "kind_validity_findings"]

RULE = "kind-validity"


def kind_validity_findings(sub: CanonicalSubmission) -> list[RuleFinding]:
    problem = out_of_period(sub.kind, sub.creation_datetime)
    if problem is None:
        return []
    kind = problem.kind
    parts = [
        FLK_TEXTS.text(key, day=f"{value:%d.%m.%Y}")
        for key, value in (("kind.period_from", kind.valid_from), ("kind.period_to", kind.valid_to))
        if value is not None
    ]
    period = Text(" ".join(p.ru for p in parts), " ".join(p.en for p in parts))
    text = FLK_TEXTS.text(
        "kind.out_of_period",
        day=f"{problem.day:%d.%m.%Y}",
        code=sub.kind,
        title=kind.title,
        edition=kind.edition,
        period=period,
    )
    if problem.successor is not None and kind.valid_to is not None:
        more = FLK_TEXTS.text("kind.successor", day=f"{kind.valid_to:%d.%m.%Y}", code=problem.successor.code)
        text = Text(text.ru + more.ru, text.en + more.en)
    return [finding(RULE, FlkCode.NO_DOCUMENT_KIND_ON_DATE, "other", text, "creation_datetime")]
