"""The one table of document kinds the gateway accepts.

Everything that lists kinds is derived from this table or checked against it (tests/documents/
test_kinds.py):

* the submission JSON Schema's ``kind`` enum (:func:`gateway.intake.submission.load_schema` fills it
  from here; the published file carries the same list);
* the routing defaults (:data:`gateway.delivery.routing.DEFAULT_ROUTES`, and config/routes.toml);
* the role policy (:data:`gateway.flk.roles.BUILTIN_POLICY`, and config/roles.toml): one entry per
  kind, with the signer role named here;
* the parsers (:func:`gateway.documents.parse.parse_document` dispatches on ``parser``; the
  ЦБДИ conclusion, which is not a :class:`~gateway.documents.model.ParsedDocument`, is read by
  its own parser on the inbound path, :mod:`gateway.inbound.enveloped`).

``submitted`` False marks a kind the gateway only *receives* (the ЦБДИ expert's conclusion): the
inbound path knows it (:func:`inbound_codes`), an MIS cannot submit it (:func:`accepted_codes`,
the submission schema). ``signature`` says how the kind is signed: detached CMS (every SEMD and
the 031/у), or an XMLDSig enveloped in the document (the ЦБДИ conclusion).

A code that is not in the table is not a kind: the schema refuses it at intake (SCHEMA_INVALID,
field ``/kind``).

Validity (``valid_from`` / ``valid_to``, both inclusive, Moscow calendar dates) is the period in
which REMD registers documents *created* on that date: the «Дата начала действия» / «Дата окончания
действия» of the kind's record in NSI 1.2.643.5.1.13.13.11.1520 (docs/documents.md, «Editions and
validity», names the snapshot read). An older edition therefore stays accepted for documents created
while it was in force, whenever they arrive; a document created outside its kind's period is refused
with REMD's own code NO_DOCUMENT_KIND_ON_DATE (:func:`validity_problem`, FLK rule ``kind-validity``).
``valid_to=None`` means the registry set no end date; ``valid_from=None`` only for the Kazakh form,
which is not an NSI kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Final, Literal

from gateway.documents.model import DocumentKind

__all__ = [
    "KIND_TABLE",
    "MSK",
    "Kind",
    "OutOfPeriod",
    "accepted_codes",
    "current_edition",
    "default_destinations",
    "in_force",
    "inbound_codes",
    "out_of_period",
    "validity_problem",
]

MSK: Final = timezone(timedelta(hours=3))  # REMD dates kinds on the Moscow calendar


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
    current: bool = True  # False: superseded by a later edition (accepted within its validity)
    valid_from: date | None = None  # first creation date REMD accepts (inclusive)
    valid_to: date | None = None  # last creation date REMD accepts (inclusive); None: no end set
    guide: str | None = None  # the implementation guide's portal page, as NSI 1520 names it
    submitted: bool = True  # False: only received from a peer, never submitted by an MIS
    signature: Literal["detached-cms", "enveloped-xmldsig"] = "detached-cms"


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
            valid_from=date(2022, 11, 24),
            guide="https://portal.egisz.rosminzdrav.ru/materials/4283",
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
            valid_from=date(2022, 1, 1),
            valid_to=date(2023, 3, 15),
            guide="https://portal.egisz.rosminzdrav.ru/materials/4011",
        ),
        Kind(
            DocumentKind.MSE_RESULT_ED3,
            "Сведения о результатах проведенной медико-социальной экспертизы",
            edition=3,
            country="RU",
            signer_role="BUREAU_HEAD",
            parser="result.parse_result",
            default_destination="remd",
            valid_from=date(2023, 8, 14),
            guide="https://portal.egisz.rosminzdrav.ru/materials/4359",
        ),
        Kind(
            DocumentKind.MSE_RESULT,
            "Сведения о результатах проведенной медико-социальной экспертизы",
            edition=2,
            country="RU",
            signer_role="BUREAU_HEAD",
            parser="result.parse_result",
            default_destination="remd",
            current=False,  # superseded by edition 3 (187); NSI 1520 sets no end date
            valid_from=date(2018, 10, 16),
            guide="https://portal.egisz.rosminzdrav.ru/materials/3477",
        ),
        Kind(
            DocumentKind.RETURN_NOTICE_ED2,
            "Уведомление о причинах возврата направления на медико-социальную экспертизу в медицинскую организацию",
            edition=2,
            country="RU",
            signer_role="MSE_OFFICIAL",
            parser="return_notice.parse_return_notice",
            default_destination="remd",
            valid_from=date(2023, 8, 14),
            guide="https://portal.egisz.rosminzdrav.ru/materials/4329",
        ),
        Kind(
            DocumentKind.RETURN_NOTICE,
            "Уведомление о причинах возврата направления на медико-социальную экспертизу",
            edition=1,
            country="RU",
            signer_role="MSE_OFFICIAL",
            parser="return_notice.parse_return_notice",
            default_destination="remd",
            current=False,  # superseded by edition 2 (130); NSI 1520 sets no end date
            valid_from=date(2022, 1, 1),
            guide="https://portal.egisz.rosminzdrav.ru/materials/4017",
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
        Kind(
            DocumentKind.KZ_CBDI_CONCLUSION,
            "Заключение эксперта МСЭ АИС ЦБДИ по форме 031/у (Республика Казахстан)",
            edition=None,
            country="KZ",
            signer_role="KZ_MSE_EXPERT",
            parser="kz_conclusion.parse_conclusion",
            default_destination=None,  # ЦБДИ's answer to a 031/у: received over ШЭП, never sent
            submitted=False,
            signature="enveloped-xmldsig",
        ),
    )
}


def accepted_codes() -> tuple[str, ...]:
    """The codes the submission schema accepts (an MIS may submit), in table order."""
    return tuple(str(code) for code, kind in KIND_TABLE.items() if kind.submitted)


def inbound_codes() -> tuple[str, ...]:
    """Every code of the table: what the inbound path may receive from a peer."""
    return tuple(str(code) for code in KIND_TABLE)


def default_destinations() -> dict[str, tuple[str, ...]]:
    """Destination → the kinds the built-in routes send there (kinds without one are left out)."""
    out: dict[str, list[str]] = {}
    for kind in KIND_TABLE.values():
        if kind.default_destination is not None:
            out.setdefault(kind.default_destination, []).append(str(kind.code))
    return {dest: tuple(codes) for dest, codes in out.items()}


def in_force(kind: Kind, created: datetime) -> bool:
    """Whether a document of ``kind`` created at ``created`` falls inside the edition's validity
    (compared on the Moscow calendar date; a naive ``created`` is taken as Moscow time)."""
    moment = created if created.tzinfo is not None else created.replace(tzinfo=MSK)
    day = moment.astimezone(MSK).date()
    if kind.valid_from is not None and day < kind.valid_from:
        return False
    return kind.valid_to is None or day <= kind.valid_to


def current_edition(kind: Kind) -> Kind | None:
    """The current edition of the same document as ``kind`` (same title stem and country), or
    None when ``kind`` is current or has no successor in the table."""
    if kind.current:
        return None
    stem = kind.title.split(" в медицинскую организацию")[0]
    for other in KIND_TABLE.values():
        if other.current and other.country == kind.country and other.title.startswith(stem):
            return other
    return None


@dataclass(frozen=True, slots=True)
class OutOfPeriod:
    """A document created outside its kind's edition: the kind, the (Moscow) creation day and the
    current edition to use instead when the kind's period has ended."""

    kind: Kind
    day: date
    successor: Kind | None


def out_of_period(code: str, created: datetime) -> OutOfPeriod | None:
    """Why a document of kind ``code`` created at ``created`` may not be accepted, or None when it
    may. Unknown codes are the schema's business."""
    try:
        kind = KIND_TABLE[DocumentKind(code)]
    except (ValueError, KeyError):
        return None
    if in_force(kind, created):
        return None
    moment = created if created.tzinfo is not None else created.replace(tzinfo=MSK)
    day = moment.astimezone(MSK).date()
    successor = current_edition(kind)
    ended = successor is not None and kind.valid_to is not None and day > kind.valid_to
    return OutOfPeriod(kind, day, successor if ended else None)


def validity_problem(code: str, created: datetime) -> str | None:
    """:func:`out_of_period` in Russian words (the FLK words it in both languages)."""
    problem = out_of_period(code, created)
    if problem is None:
        return None
    kind, day = problem.kind, problem.day
    period = (f"с {kind.valid_from:%d.%m.%Y}" if kind.valid_from is not None else "") + (
        f" по {kind.valid_to:%d.%m.%Y}" if kind.valid_to is not None else ""
    )
    text = (
        f"Дата создания документа {day:%d.%m.%Y} находится вне периода действия вида документов {code} "
        f"(«{kind.title}», редакция {kind.edition}: {period.strip()})"
    )
    if problem.successor is not None and kind.valid_to is not None:
        text += f"; документы, созданные после {kind.valid_to:%d.%m.%Y}, оформляются видом {problem.successor.code}"
    return text
