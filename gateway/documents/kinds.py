"""The one table of document kinds the gateway accepts.

Everything that lists kinds is derived from this table or checked against it (tests/documents/
test_kinds.py):

* the submission JSON Schema's ``kind`` enum (:func:`gateway.intake.submission.load_schema` fills it
  from here; the published file carries the same list);
* the routing defaults (:data:`gateway.delivery.routing.DEFAULT_ROUTES`, and config/routes.toml);
* the role policy (:data:`gateway.flk.roles.BUILTIN_POLICY`, and config/roles.toml): one entry per
  kind, with the signer role named here;
* the parsers (:func:`gateway.documents.parse.parse_document` dispatches on ``parser``).

A code that is not in the table is not a kind: the schema refuses it at intake (SCHEMA_INVALID,
field ``/kind``). Dates of validity are filled only where the project knows them from a published
source; ``None`` means "not known here", not "unbounded".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from gateway.documents.model import DocumentKind

__all__ = ["KIND_TABLE", "Kind", "accepted_codes", "default_destinations"]


@dataclass(frozen=True, slots=True)
class Kind:
    """One document kind: what it is, who signs it, how it is read and where it goes by default."""

    code: DocumentKind  # NSI 1.2.643.5.1.13.13.11.1520 number, or "kz-031u"
    title: str
    edition: int | None
    country: Literal["RU", "KZ"]
    signer_role: str  # the role policy's ``role`` for this kind (config/roles.toml)
    parser: str  # function of gateway.documents, "module.function"
    default_destination: str | None  # peer instance of the built-in routes; None: no route by default
    current: bool = True  # False: superseded by a later edition, still accepted
    valid_from: date | None = None
    valid_to: date | None = None


KIND_TABLE: Final[dict[DocumentKind, Kind]] = {
    k.code: k
    for k in (
        Kind(
            DocumentKind.REFERRAL,
            "Направление на медико-социальную экспертизу",
            edition=6,
            country="RU",
            signer_role="VK_CHAIR",
            parser="referral.parse_referral",
            default_destination="remd",
        ),
        Kind(
            DocumentKind.REFERRAL_ED5,
            "Направление на медико-социальную экспертизу",
            edition=5,
            country="RU",
            signer_role="VK_CHAIR",
            parser="referral.parse_referral",
            default_destination="remd",
            current=False,  # superseded by edition 6 (121)
        ),
        Kind(
            DocumentKind.MSE_RESULT,
            "Сведения о результатах проведенной медико-социальной экспертизы",
            edition=2,
            country="RU",
            signer_role="BUREAU_HEAD",
            parser="result.parse_result",
            default_destination="remd",
        ),
        Kind(
            DocumentKind.RETURN_NOTICE,
            "Уведомление о причинах возврата направления на медико-социальную экспертизу",
            edition=1,
            country="RU",
            signer_role="MSE_OFFICIAL",
            parser="return_notice.parse_return_notice",
            default_destination="remd",
        ),
        Kind(
            DocumentKind.KZ_031U,
            "Заключение на МСЭ, форма 031/у (Республика Казахстан)",
            edition=None,
            country="KZ",
            signer_role="VKK_CHAIR",
            parser="kz031u.parse_kz031u",
            default_destination=None,  # the ШЭП peer does not exist yet: NO_ROUTE, never a guess
        ),
    )
}


def accepted_codes() -> tuple[str, ...]:
    """The codes the submission schema accepts, in table order."""
    return tuple(str(code) for code in KIND_TABLE)


def default_destinations() -> dict[str, tuple[str, ...]]:
    """Destination → the kinds the built-in routes send there (kinds without one are left out)."""
    out: dict[str, list[str]] = {}
    for kind in KIND_TABLE.values():
        if kind.default_destination is not None:
            out.setdefault(kind.default_destination, []).append(str(kind.code))
    return {dest: tuple(codes) for dest, codes in out.items()}
