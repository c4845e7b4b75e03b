"""A simulated ФГИС ЕАВИИАС behind the SMEV 3 twin: an MSE bureau that registers referrals, runs
its preliminary FLK, returns them with reasons or schedules the examination, and sends the result
— each as a notice (stand-in schema, adapters/smev3/eaviias) in the sender's SMEV response queue,
on the Russian working-day calendar of the injected clock.

Timeline of one referral (working days of ``gateway.common.workdays``, times 09:00–18:00 Moscow):

1. received when the provider takes it from SMEV; **registered** on the day of receipt or the next
   working day (KSI stage 2: ≤ 1 working day), or ``late_registration`` 2–3 working days later;
2. the preliminary FLK (duplicate, late arrival, invalid signature, wrong region, insufficient
   citizen data) and the profile's ``rejection`` draw → **returned** with the reasons (a signed
   return notice document), else **scheduled**: an invitation to an in-person examination, or the
   date of an absentee / at-home one — 1–3 working days after registration (KSI stage 3), or
   ``late_decision`` 4–5;
3. optionally a **programme of additional examinations** and later the **answer** about it;
4. the examination and the decision; the **result** (a signed result document) on the day of the
   decision or the next working day (KSI stage 6), or ``late_result`` 2–3 working days later;
   optionally an **appeal registered** afterwards.

``lost_notice`` drops a progress notice for good, and a final notice for
``lost_final_resend_hours`` (the bureau sends it again: an answer must not be lost forever in the
sandbox). ``duplicate_notice`` sends a notice twice (same NoticeId, two SMEV messages).

The result (kind 187) and return-notice (kind 130) documents come from :func:`issue_document`: the
project's stable builders (gateway.flk.decisions) for the referral the bureau received, signed by
the bureau's sandbox test PKI (the bureau head for a result, the MSE official for a return).
"""

from __future__ import annotations

import itertools
import random
import tempfile
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from pydantic import Field

from adapters.smev3.eaviias.content import (
    STANDIN_NAMESPACE,
    STANDIN_NOTICE_ROOT,
    STANDIN_REFERRAL_ROOT,
    Appointment,
    EaviiasContentError,
    Notice,
    Reason,
    ReferralRequest,
    notice_content,
    parse_referral,
)
from adapters.smev3.eaviias.notices import NoticeType
from gateway.common.clock import Clock
from gateway.common.fault_profiles import ProfileModel
from gateway.common.logs import get_logger
from gateway.common.workdays import Stage, WorkCalendar, deadline_for, default_calendar
from gateway.delivery.routing import region_from_org_oid
from gateway.documents.model import Coded

__all__ = ["RETURN_REASONS", "Bureau", "BureauProfile", "issue_document"]

_log: Final = get_logger(__name__)

# The bureau's FLK findings → the return reasons of the kind-130 notice (categories of the
# project's reason list, gateway.flk.decisions.REASONS; codes and names travel in the notice).
RETURN_REASONS: Final[dict[str, str]] = {
    "duplicate": "повторное направление при незавершённом по тому же гражданину и МО",
    "late": "направление поступило позднее срока его действия (max_referral_age_days)",
    "invalid_signature": "нет отсоединённой подписи, она не читается или не над этим документом",
    "wrong_region": "МО не в регионе, который обслуживает бюро",
    "citizen_data": "в направлении нет СНИЛС гражданина",
    "examinations": "не проведены обязательные обследования (доля profile.rejection)",
}
_SNILS_ROOT: Final = b"1.2.643.100.3"


class BureauProbabilities(ProfileModel):
    late_registration: float = Field(default=0.0, ge=0, le=1)
    late_decision: float = Field(default=0.0, ge=0, le=1)
    late_result: float = Field(default=0.0, ge=0, le=1)
    lost_notice: float = Field(default=0.0, ge=0, le=1)
    duplicate_notice: float = Field(default=0.0, ge=0, le=1)
    rejection: float = Field(default=0.0, ge=0, le=1)  # a return beyond the FLK (R-EXAMS)
    absentee: float = Field(default=0.3, ge=0, le=1)
    programme: float = Field(default=0.1, ge=0, le=1)
    appeal: float = Field(default=0.02, ge=0, le=1)
    # A result signed by the bureau's MSE doctor instead of its head: the gateway's inbound path
    # must flag it (INBOUND_ROLE_POLICY, config/roles.toml kind 187).
    wrong_result_signer: float = Field(default=0.0, ge=0, le=1)


class BureauProfile(ProfileModel):
    """The simulated bureau's behaviour (``[bureau]`` of an SMEV 3 fault profile)."""

    code: str = "sandbox-bureau-77"
    name: str = "ФКУ «ГБ МСЭ» (sandbox)"
    # Regions the bureau serves (empty: every region): a referral from another → R-REGION.
    regions: list[str] = Field(default_factory=list)
    # A referral created more than this many days before it arrives → R-LATE.
    max_referral_age_days: float = Field(default=30.0, gt=0)
    # Working days between scheduling and the examination.
    examination_min_days: int = Field(default=3, ge=1)
    examination_max_days: int = Field(default=10, ge=1)
    lost_final_resend_hours: float = Field(default=72.0, gt=0)
    probabilities: BureauProbabilities = BureauProbabilities()


@dataclass(slots=True)
class _Case:
    referral: ReferralRequest
    message_id: str
    received_at: datetime
    region: str
    registration: str = ""
    registered_at: datetime | None = None
    decided_at: datetime | None = None  # return or schedule (stage 3 end)
    examined_at: datetime | None = None  # the expert decision (stage 6 start)
    result_at: datetime | None = None
    outcome: str = ""  # returned / result
    notices: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _BureauStats:
    received: int = 0
    unreadable: int = 0
    duplicates_at_bureau: int = 0  # the same referral (localUid, organisation) received twice
    registered: int = 0
    returned: Counter[str] = field(default_factory=Counter)  # by reason
    scheduled: int = 0
    results: int = 0
    notices: Counter[str] = field(default_factory=Counter)
    lost_notices: int = 0
    resent_notices: int = 0
    duplicate_notices: int = 0
    late: Counter[str] = field(default_factory=Counter)  # stage → referrals past the KSI deadline
    documents: Counter[str] = field(default_factory=Counter)  # signed documents issued, by kind
    wrong_signer: int = 0  # results signed by someone who is not the bureau head
    published_to_remd: int = 0  # documents also handed for registration in REMD


_SIGNERS_LOCK: Final = threading.Lock()
_MSK: Final = ZoneInfo("Europe/Moscow")

# (document, its kind code, [(signature type, CMS)], the signed canonical submission: JSON-ready,
# with the signers' metadata — what a registration at REMD carries)
_Issued = tuple[bytes, str, list[tuple[str, bytes]], dict[str, Any]]


def issue_document(
    what: str,
    referral: ReferralRequest,
    signers_dir: Path,
    now: datetime,
    *,
    reasons: Sequence[str] = (),
    group: str = "3",
    protocol_number: str = "",
    wrong_signer: bool = False,
) -> _Issued | None:
    """The signed document the bureau issues about ``referral`` — ``"result"``: kind 187 (edition
    3), signed by the bureau head and the bureau; ``"return"``: kind 130 (edition 2) with the
    coded ``reasons`` (keys of gateway.flk.decisions.REASONS), signed by the MSE official and the
    bureau — as (document, its kind code, [(signature type, CMS)], the signed submission), from the project's stable
    builders (gateway.flk.decisions) and the bureau's sandbox test PKI. None when the referral
    cannot be read as a document (it is returned without one). ``wrong_signer``: the result is
    signed by the MSE doctor, not the head (a fault the gateway must flag)."""
    import base64

    from gateway.documents import DocumentError, parse_document
    from gateway.flk.decisions import (
        DISABILITY_CAUSES,
        DISABILITY_GROUPS,
        MseDecision,
        NoticeSigner,
        build_signed_result,
        build_signed_return_notice,
    )
    from gateway.flk.sample_pki import SampleSigners

    try:
        parsed = parse_document(referral.document, kind=referral.kind)
    except DocumentError:
        return None
    with _SIGNERS_LOCK:
        signers = SampleSigners.open_or_create(signers_dir, seed=0)
    try:
        if what == "result":
            decision = MseDecision(
                protocol_number=protocol_number or "1",
                decision_date=now.astimezone(_MSK).date(),
                disability_group=DISABILITY_GROUPS[group],
                disability_cause=DISABILITY_CAUSES["general"],
            )
            if wrong_signer:
                signer = NoticeSigner.from_sample_signers(signers)
            else:
                signer = NoticeSigner.bureau_head_from_sample_signers(signers)
            signed = build_signed_result(parsed, decision, signer, now=now, source_system="sandbox-eaviias")
        else:
            coded = [_reason(r) for r in reasons] or [_reason("other")]
            comment = "; ".join(c.name for c in coded)
            signer = NoticeSigner.from_sample_signers(signers)
            signed = build_signed_return_notice(
                parsed, coded, comment, signer, now=now, source_system="sandbox-eaviias"
            )
    except ValueError as exc:  # e.g. the referral names no bureau: returned without a document
        _log.warning("sandbox ЕАВИИАС: no document", what=what, error=str(exc)[:200])
        return None
    signatures = [(s["type"], base64.b64decode(s["cms"])) for s in signed.submission["signatures"]]
    return signed.data, str(signed.submission["kind"]), signatures, signed.submission


class Bureau:
    """The simulated ЕАВИИАС. ``schedule(seconds, action)`` runs an action later on the twin's
    clock; ``send(message_id, content)`` puts a notice in the referral's sender's response queue."""

    def __init__(
        self,
        profile: BureauProfile,
        clock: Clock,
        rng: random.Random,
        *,
        schedule: Callable[[float, Callable[[], None]], None],
        send: Callable[[str, bytes], None],
        namespace: str = STANDIN_NAMESPACE,
        referral_root: str = STANDIN_REFERRAL_ROOT,
        notice_root: str = STANDIN_NOTICE_ROOT,
        signers_dir: Path | None = None,
        documents: bool = True,
        publish: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.profile = profile
        self.clock = clock
        self.rng = rng
        self._schedule = schedule
        self._send = send
        self.namespace = namespace
        self.referral_root = referral_root
        self.notice_root = notice_root
        self.calendar: WorkCalendar = default_calendar("RU")
        self.signers_dir = signers_dir
        self.documents = documents
        # Registers each result/return document in REMD too (adapters/smev3/sandbox/addressed.py),
        # whether or not its notice gets through: the REMD route does not depend on SMEV.
        self._publish = publish
        self.cases: dict[str, _Case] = {}  # SMEV MessageID of the referral → case
        self.open_by_referral: dict[tuple[str, str], str] = {}  # (localUid, org) → MessageID
        self.seen: set[tuple[str, str]] = set()
        self.stats = _BureauStats()
        self._numbers = itertools.count(1)

    def takes(self, type_ns: str, type_name: str) -> bool:
        return (type_ns, type_name) == (self.namespace, self.referral_root)

    # -- time ------------------------------------------------------------------------------------

    def _on_working_day(self, start: datetime, n: int) -> datetime:
        """A time during office hours on the n-th working day after ``start``'s day (n = 0: that
        day if it is a working day and the office is still open, else the next one), never before
        ``start``."""
        cal = self.calendar
        local = start.astimezone(cal.tz)
        day = local.date()
        if n == 0:
            if not cal.is_working_day(day) or local.time() >= time(17, 30):
                day = cal.next_working_day(day)
        else:
            day = cal.nth_working_day_from(cal.next_working_day(day), n)
        minute = self.rng.randint(9 * 60, 17 * 60 + 59)
        at = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=cal.tz).astimezone(UTC)
        return max(at, start + timedelta(minutes=1))

    def _at(self, when: datetime, action: Callable[[], None]) -> None:
        self._schedule(max(0.0, (when - self.clock.now()).total_seconds()), action)

    def _chance(self, what: str) -> bool:
        p: float = getattr(self.profile.probabilities, what)
        return p > 0 and self.rng.random() < p

    # -- the referral arrives --------------------------------------------------------------------

    def take(self, message_id: str, content: bytes) -> None:
        """The bureau takes a referral from SMEV (the simulated provider's GetRequest)."""
        now = self.clock.now()
        self.stats.received += 1
        try:
            referral = parse_referral(content, namespace=self.namespace, root=self.referral_root)
        except EaviiasContentError as exc:
            self.stats.unreadable += 1
            _log.warning("sandbox ЕАВИИАС: unreadable referral", message_id=message_id, code=exc.code)
            return
        key = (referral.local_uid, referral.organization_oid)
        if key in self.seen:
            self.stats.duplicates_at_bureau += 1
        self.seen.add(key)
        region = referral.region or region_from_org_oid(referral.organization_oid) or "77"
        case = _Case(referral, message_id, now, region)
        self.cases[message_id] = case
        late = self._chance("late_registration")
        at = self._on_working_day(now, self.rng.randint(2, 3) if late else self.rng.randint(0, 1))
        self._at(at, lambda: self._register(case))

    def _register(self, case: _Case) -> None:
        now = self.clock.now()
        case.registration = f"EAV-{case.region}-{next(self._numbers):08d}"
        case.registered_at = now
        self.stats.registered += 1
        self._check_deadline(Stage.RU_REGISTRATION, case.received_at, now)
        self._notice(case, NoticeType.REGISTERED, now, received_at=case.received_at)
        reasons = self._flk(case)
        late = self._chance("late_decision")
        at = self._on_working_day(now, self.rng.randint(4, 5) if late else self.rng.randint(1, 3))
        if reasons:
            self._at(at, lambda: self._return(case, reasons))
        else:
            key = (case.referral.local_uid, case.referral.organization_oid)
            self.open_by_referral[key] = case.message_id
            self._at(at, lambda: self._schedule_exam(case))

    def _flk(self, case: _Case) -> list[str]:
        """The bureau's preliminary FLK (the project's own rules, docs/eaviias.md)."""
        r = case.referral
        reasons = []
        open_id = self.open_by_referral.get((r.local_uid, r.organization_oid))
        if open_id is not None and open_id != case.message_id:
            reasons.append("duplicate")
        created = r.created_at if r.created_at.tzinfo else r.created_at.replace(tzinfo=UTC)
        if case.received_at - created > timedelta(days=self.profile.max_referral_age_days):
            reasons.append("late")
        if not _signatures_match(r):
            reasons.append("invalid_signature")
        if self.profile.regions and case.region not in self.profile.regions:
            reasons.append("wrong_region")
        if _SNILS_ROOT not in r.document:
            reasons.append("citizen_data")
        if not reasons and self._chance("rejection"):
            reasons.append("examinations")
        return reasons

    # -- decisions -------------------------------------------------------------------------------

    def _return(self, case: _Case, reasons: list[str]) -> None:
        now = self.clock.now()
        case.decided_at = now
        case.outcome = "returned"
        for reason in reasons:
            self.stats.returned[reason] += 1
        assert case.registered_at is not None
        self._check_deadline(Stage.RU_APPOINTMENT_OR_RETURN, case.registered_at, now)
        listed = tuple(Reason(_reason(code).code, _reason(code).name) for code in reasons)
        self._notice(case, NoticeType.RETURNED, now, reasons=listed, document="return", final=True, why=reasons)

    def _schedule_exam(self, case: _Case) -> None:
        now = self.clock.now()
        case.decided_at = now
        self.stats.scheduled += 1
        assert case.registered_at is not None
        self._check_deadline(Stage.RU_APPOINTMENT_OR_RETURN, case.registered_at, now)
        p = self.profile
        exam_at = self._on_working_day(now, self.rng.randint(p.examination_min_days, p.examination_max_days))
        if self._chance("absentee"):
            form = self.rng.choice(("absentee", "at-home"))
            self._notice(case, NoticeType.ABSENTEE_SCHEDULED, now, appointment=Appointment(exam_at, form))
        else:
            place = f"{p.name}, экспертный состав № {self.rng.randint(1, 9)}"
            self._notice(case, NoticeType.INVITATION, now, appointment=Appointment(exam_at, "in-person", place))
        if self._chance("programme"):
            self._at(exam_at, lambda: self._programme(case))
        else:
            self._at(exam_at, lambda: self._decide(case))

    def _programme(self, case: _Case) -> None:
        now = self.clock.now()
        self._notice(case, NoticeType.PROGRAMME_ASSIGNED, now, text="Программа дополнительного обследования")
        answer_at = self._on_working_day(now, self.rng.randint(3, 8))
        self._at(answer_at, lambda: self._programme_answer(case))

    def _programme_answer(self, case: _Case) -> None:
        now = self.clock.now()
        self._notice(case, NoticeType.PROGRAMME_ANSWER, now, text="Программа дополнительного обследования выполнена")
        self._at(self._on_working_day(now, 1), lambda: self._decide(case))

    def _decide(self, case: _Case) -> None:
        now = self.clock.now()
        case.examined_at = now
        late = self._chance("late_result")
        at = self._on_working_day(now, self.rng.randint(2, 3) if late else self.rng.randint(0, 1))
        self._at(at, lambda: self._result(case))

    def _result(self, case: _Case) -> None:
        now = self.clock.now()
        case.result_at = now
        case.outcome = "result"
        self.stats.results += 1
        assert case.examined_at is not None
        self._check_deadline(Stage.RU_RESULTS_SENT, case.examined_at, now)
        self.open_by_referral.pop((case.referral.local_uid, case.referral.organization_oid), None)
        self._notice(case, NoticeType.RESULT, case.examined_at, document="result", final=True, sent_at=now)
        if self._chance("appeal"):
            self._at(
                self._on_working_day(now, 10),
                lambda: self._notice(case, NoticeType.APPEAL_REGISTERED, self.clock.now()),
            )

    def _check_deadline(self, stage: Stage, start: datetime, done: datetime) -> None:
        if done > deadline_for(stage, start, self.calendar):
            self.stats.late[stage.value] += 1

    # -- notices ---------------------------------------------------------------------------------

    def _notice(
        self,
        case: _Case,
        notice_type: NoticeType,
        event_at: datetime,
        *,
        received_at: datetime | None = None,
        reasons: tuple[Reason, ...] = (),
        appointment: Appointment | None = None,
        text: str = "",
        document: str | None = None,
        final: bool = False,
        sent_at: datetime | None = None,
        why: Sequence[str] = (),
    ) -> None:
        r = case.referral
        doc: bytes | None = None
        doc_kind: str | None = None
        signatures: tuple[tuple[str, bytes], ...] = ()
        if document is not None and self.documents and self.signers_dir is not None:
            wrong = document == "result" and self._chance("wrong_result_signer")
            issued = issue_document(
                document,
                r,
                self.signers_dir,
                sent_at or event_at,
                reasons=why,
                group=self.rng.choice("123"),
                protocol_number=case.registration.rsplit("-", 1)[-1],
                wrong_signer=wrong,
            )
            if issued is not None:
                doc, doc_kind, sigs, submission = issued
                signatures = tuple(sigs)
                self.stats.documents[doc_kind] += 1
                self.stats.wrong_signer += wrong
                if self._publish is not None:
                    self.stats.published_to_remd += 1
                    self._publish(
                        {
                            "local_uid": submission["local_uid"],
                            "kind": doc_kind,
                            "organization": submission["organization_oid"],  # the bureau, its author
                            "recipient": r.organization_oid,  # the MO that sent the referral
                            "document": submission["document"],
                            "signatures": submission["signatures"],
                        }
                    )
        notice = Notice(
            notice_id=str(uuid.uuid4()),
            notice_type=notice_type,
            local_uid=r.local_uid,
            organization_oid=r.organization_oid,
            bureau_code=self.profile.code,
            region=case.region,
            event_at=event_at,
            registration_number=case.registration or None,
            bureau_name=self.profile.name,
            received_at=received_at,
            reasons=reasons,
            appointment=appointment,
            text=text,
            document=doc,
            document_mime="application/x-hl7-cda+xml" if doc is not None else "",
            document_kind=doc_kind,
            signatures=signatures,
        )
        content = notice_content(notice, namespace=self.namespace, root=self.notice_root)
        case.notices.append(notice_type.value)
        self.stats.notices[notice_type.value] += 1
        if self._chance("lost_notice"):
            self.stats.lost_notices += 1
            if not final:
                return  # a progress notice lost for good: its KSI milestone is never reported
            resend = timedelta(hours=self.profile.lost_final_resend_hours).total_seconds()

            def again() -> None:
                self.stats.resent_notices += 1
                self._send(case.message_id, content)

            self._schedule(resend, again)
            return
        self._send(case.message_id, content)
        if self._chance("duplicate_notice"):
            self.stats.duplicate_notices += 1
            self._send(case.message_id, content)

    # -- reporting -------------------------------------------------------------------------------

    def stats_json(self) -> dict[str, Any]:
        s = self.stats
        outcomes = Counter(c.outcome or "open" for c in self.cases.values())
        return {
            "received": s.received,
            "unreadable": s.unreadable,
            "duplicates_at_bureau": s.duplicates_at_bureau,
            "registered": s.registered,
            "returned": dict(sorted(s.returned.items())),
            "scheduled": s.scheduled,
            "results": s.results,
            "notices": dict(sorted(s.notices.items())),
            "lost_notices": s.lost_notices,
            "resent_notices": s.resent_notices,
            "duplicate_notices": s.duplicate_notices,
            "late_by_stage": dict(sorted(s.late.items())),
            "documents": dict(sorted(s.documents.items())),
            "wrong_signer": s.wrong_signer,
            "published_to_remd": s.published_to_remd,
            "outcomes": dict(sorted(outcomes.items())),
        }


def _reason(category: str) -> Coded:
    from gateway.flk.decisions import REASONS

    return REASONS[category]  # type: ignore[index,unused-ignore]


def _signatures_match(referral: ReferralRequest) -> bool:
    """Every detached signature parses and its messageDigest is the document's digest, and there
    is at least one (the bureau's integrity check; chains are the gateway's business)."""
    from gateway.signatures.algorithms import digest_by_oid
    from gateway.signatures.cms import parse_cms

    if not referral.signatures:
        return False
    for _, cms in referral.signatures:
        try:
            parsed = parse_cms(cms)
        except Exception:  # any parse failure is an invalid signature to the bureau
            return False
        for signer in parsed.signers:
            try:
                digest = digest_by_oid(signer.digest_oid).hash(referral.document)
            except Exception:
                return False
            if signer.message_digest is not None and signer.message_digest != digest:
                return False
    return True


def default_signers_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="sandbox-eaviias-pki-"))
