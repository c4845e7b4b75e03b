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

The result and return documents come from :func:`issue_document` — the kind 35/108 sample
builders until kinds 187/130 exist (one function to switch).
"""

from __future__ import annotations

import hashlib
import itertools
import random
import tempfile
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final

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

__all__ = ["RETURN_REASONS", "Bureau", "BureauProfile", "issue_document"]

_log: Final = get_logger(__name__)

# The sandbox's return reasons (a paraphrase of the grounds of order 360n for the stand-in schema;
# the official code list belongs with the official schema).
RETURN_REASONS: Final[dict[str, str]] = {
    "R-DUPLICATE": "Повторное направление при наличии незавершённого по тому же гражданину",
    "R-LATE": "Направление поступило позднее срока его действия",
    "R-SIGNATURE": "Электронная подпись направления недействительна или отсутствует",
    "R-REGION": "Гражданин не относится к зоне обслуживания бюро",
    "R-CITIZEN": "Недостаточно сведений о гражданине",
    "R-EXAMS": "Не проведены обязательные медицинские обследования (приказ 360н)",
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


_SIGNERS_LOCK: Final = threading.Lock()


def issue_document(
    kind: str, seed: int, signers_dir: Path, now: datetime
) -> tuple[bytes, str, list[tuple[str, bytes]]]:
    """A signed MSE document the bureau issues — ``"result"`` or ``"return"`` — as (document,
    its kind code, [(signature type, CMS)]). Kinds 35 and 108 (the sample builders the project
    has) stand in for the current editions 187 and 130 until their builders exist: change the
    kind codes here and nothing else."""
    import base64

    from gateway.flk.sample_pki import SampleSigners
    from gateway.flk.samples import make_submission

    code = {"result": "35", "return": "108"}[kind]
    with _SIGNERS_LOCK:
        signers = SampleSigners.open_or_create(signers_dir, seed=0)
    sub = make_submission(code, seed, signers, now=now, source_system="sandbox-eaviias")
    signatures = [(s["type"], base64.b64decode(s["cms"])) for s in sub["signatures"]]
    return base64.b64decode(sub["document"]), code, signatures


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
            reasons.append("R-DUPLICATE")
        created = r.created_at if r.created_at.tzinfo else r.created_at.replace(tzinfo=UTC)
        if case.received_at - created > timedelta(days=self.profile.max_referral_age_days):
            reasons.append("R-LATE")
        if not _signatures_match(r):
            reasons.append("R-SIGNATURE")
        if self.profile.regions and case.region not in self.profile.regions:
            reasons.append("R-REGION")
        if _SNILS_ROOT not in r.document:
            reasons.append("R-CITIZEN")
        if not reasons and self._chance("rejection"):
            reasons.append("R-EXAMS")
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
        listed = tuple(Reason(code, RETURN_REASONS[code]) for code in reasons)
        self._notice(case, NoticeType.RETURNED, now, reasons=listed, document="return", final=True)

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
    ) -> None:
        r = case.referral
        doc: bytes | None = None
        doc_kind: str | None = None
        signatures: tuple[tuple[str, bytes], ...] = ()
        if document is not None and self.documents and self.signers_dir is not None:
            seed = int(hashlib.sha256(case.message_id.encode()).hexdigest()[:8], 16)
            data, doc_kind, sigs = issue_document(document, seed, self.signers_dir, sent_at or event_at)
            doc, signatures = data, tuple(sigs)
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
            "outcomes": dict(sorted(outcomes.items())),
        }


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
