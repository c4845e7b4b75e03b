"""Rule ``kind-validity``: the document was created while its kind's edition was in force.

REMD registers a document of a kind only when its creation date lies in the period NSI 1520 gives
that kind («Дата начала/окончания действия», :data:`gateway.documents.kinds.KIND_TABLE`). So an older
edition (109, 35, 108) stays accepted for documents created while it was in force, however late they
arrive, and a document created outside the period — a referral of edition 5 written after
15.03.2023, a result of edition 3 dated before 14.08.2023 — is refused with REMD's own code
NO_DOCUMENT_KIND_ON_DATE instead of being sent to fail there.
"""

from __future__ import annotations

from gateway.documents.kinds import validity_problem
from gateway.flk.codes import FlkCode
from gateway.flk.findings import RuleFinding, finding
from gateway.intake.submission import CanonicalSubmission

__all__ = ["RULE", "kind_validity_findings"]

RULE = "kind-validity"


def kind_validity_findings(sub: CanonicalSubmission) -> list[RuleFinding]:
    problem = validity_problem(sub.kind, sub.creation_datetime)
    if problem is None:
        return []
    return [finding(RULE, FlkCode.NO_DOCUMENT_KIND_ON_DATE, "other", problem, "creation_datetime")]
