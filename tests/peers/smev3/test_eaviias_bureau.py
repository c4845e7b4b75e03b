"""The simulated ЕАВИИАС behind the SMEV 3 twin, driven directly on a fake clock: its preliminary
FLK (duplicate, late arrival, invalid signature, wrong region, insufficient citizen data) returns
with the coded reasons; a good referral is registered, scheduled and gets its result, each step on
the working-day calendar (KSI 2, 3, 6 kept when the profile is punctual); lost and duplicate
notices as the profile says."""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.smev3.eaviias.content import parse_notice, referral_request
from adapters.smev3.eaviias.notices import NoticeType
from adapters.smev3.sandbox.bureau import Bureau, BureauProbabilities, BureauProfile
from gateway.common.workdays import Stage, deadline_for
from gateway.flk.sample_pki import SampleSigners
from gateway.flk.samples import make_submission
from gateway.intake.submission import CanonicalSubmission, parse_submission


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.t = now

    def now(self) -> datetime:
        return self.t


class Driver:
    """Runs the bureau's scheduled actions in time order, moving the clock to each."""

    def __init__(self, profile: BureauProfile, start: datetime, seed: int = 3) -> None:
        self.clock = FakeClock(start)
        self.queue: list[tuple[datetime, int, Callable[[], None]]] = []
        self.seq = itertools.count()
        self.sent: list[tuple[str, bytes]] = []
        self.bureau = Bureau(
            profile, self.clock, random.Random(seed), schedule=self.schedule, send=self.send, signers_dir=None
        )

    def schedule(self, seconds: float, action: Callable[[], None]) -> None:
        heapq.heappush(self.queue, (self.clock.now() + timedelta(seconds=seconds), next(self.seq), action))

    def send(self, message_id: str, content: bytes) -> None:
        self.sent.append((message_id, content))

    def run(self) -> None:
        while self.queue:
            at, _, action = heapq.heappop(self.queue)
            self.clock.t = max(self.clock.t, at)
            action()

    def notices(self, message_id: str) -> list[tuple[NoticeType, datetime, tuple[str, ...]]]:
        out = []
        for mid, content in self.sent:
            if mid == message_id:
                n = parse_notice(content)
                out.append((n.notice_type, n.event_at, tuple(r.code for r in n.reasons)))
        return out


@pytest.fixture(scope="module")
def referral(tmp_path_factory: pytest.TempPathFactory) -> CanonicalSubmission:
    signers = SampleSigners.open_or_create(tmp_path_factory.mktemp("pki"))
    return parse_submission(make_submission("121", 52_001, signers, now=datetime(2025, 3, 10, 9, 0, tzinfo=UTC)))


PUNCTUAL = BureauProfile(probabilities=BureauProbabilities(absentee=0.0, programme=0.0, appeal=0.0))
FRIDAY = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)  # 15:00 in Moscow


def test_a_good_referral_is_registered_scheduled_and_answered_within_the_ksi(referral: CanonicalSubmission) -> None:
    d = Driver(PUNCTUAL, FRIDAY)
    d.bureau.take("m-1", referral_request(referral))
    d.run()
    got = d.notices("m-1")
    assert [t for t, _, _ in got] == [NoticeType.REGISTERED, NoticeType.INVITATION, NoticeType.RESULT]
    (_, registered, _), (_, scheduled, _), (_, decided, _) = got
    assert registered <= deadline_for(Stage.RU_REGISTRATION, FRIDAY)  # by the end of Monday
    assert scheduled <= deadline_for(Stage.RU_APPOINTMENT_OR_RETURN, registered)
    assert decided > scheduled  # the decision is taken at the examination, after the invitation
    assert d.bureau.stats_json()["late_by_stage"] == {} and d.bureau.stats_json()["results"] == 1


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda c: replace(c, creation_datetime=FRIDAY - timedelta(days=45)), "7"),  # late arrival
        (lambda c: replace(c, signatures=()), "4"),  # no detached signature
        (lambda c: replace(c, signatures=(replace(c.signatures[0], cms=b"\x30\x03\x02\x01\x00"),)), "4"),
        (lambda c: replace(c, document=c.document.replace(b"1.2.643.100.3", b"1.2.643.100.9")), "3"),  # no SNILS
    ],
    ids=["late", "unsigned", "bad-signature", "no-snils"],
)
def test_the_preliminary_flk_returns_with_the_reason(
    referral: CanonicalSubmission, change: Callable[[CanonicalSubmission], CanonicalSubmission], code: str
) -> None:
    d = Driver(PUNCTUAL, FRIDAY)
    d.bureau.take("m-1", referral_request(change(referral)))
    d.run()
    got = d.notices("m-1")
    assert [t for t, _, _ in got] == [NoticeType.REGISTERED, NoticeType.RETURNED]
    assert code in got[1][2]


def test_a_referral_from_another_region_and_a_duplicate_are_returned(referral: CanonicalSubmission) -> None:
    d = Driver(BureauProfile(regions=["01"], probabilities=PUNCTUAL.probabilities), FRIDAY)
    d.bureau.take("m-1", referral_request(referral))
    d.run()
    assert d.notices("m-1")[-1][2] == ("6",)  # wrong region
    d = Driver(PUNCTUAL, FRIDAY)
    d.bureau.take("m-1", referral_request(referral))
    d.bureau.take("m-2", referral_request(referral))  # the same referral again, another SMEV message
    d.run()
    assert d.notices("m-1")[-1][0] is NoticeType.RESULT
    assert d.notices("m-2")[-1][:1] == (NoticeType.RETURNED,) and "2" in d.notices("m-2")[-1][2]
    assert d.bureau.stats_json()["duplicates_at_bureau"] == 1


def test_lost_and_duplicate_notices(referral: CanonicalSubmission) -> None:
    always = BureauProbabilities(lost_notice=1.0, absentee=0.0, programme=0.0, appeal=0.0)
    d = Driver(BureauProfile(probabilities=always), FRIDAY)
    d.bureau.take("m-1", referral_request(referral))
    d.run()
    # every progress notice lost for good; the final one sent again lost_final_resend_hours later
    assert [t for t, _, _ in d.notices("m-1")] == [NoticeType.RESULT]
    assert d.bureau.stats_json()["resent_notices"] == 1
    twice = BureauProbabilities(duplicate_notice=1.0, absentee=0.0, programme=0.0, appeal=0.0)
    d = Driver(BureauProfile(probabilities=twice), FRIDAY)
    d.bureau.take("m-1", referral_request(referral))
    d.run()
    assert [t for t, _, _ in d.notices("m-1")] == [t for t in (NoticeType.REGISTERED, NoticeType.INVITATION,
                                                               NoticeType.RESULT) for _ in (1, 2)]  # fmt: skip


def test_late_stages_are_late_on_the_working_day_calendar(referral: CanonicalSubmission) -> None:
    late = BureauProbabilities(late_registration=1.0, late_decision=1.0, late_result=1.0, absentee=0.0,
                               programme=0.0, appeal=0.0)  # fmt: skip
    d = Driver(BureauProfile(probabilities=late), FRIDAY)
    d.bureau.take("m-1", referral_request(referral))
    d.run()
    assert d.bureau.stats_json()["late_by_stage"] == {
        "ru_appointment_or_return": 1,
        "ru_registration": 1,
        "ru_results_sent": 1,
    }


def test_documents_need_a_pki_directory(referral: CanonicalSubmission, tmp_path: Path) -> None:
    d = Driver(PUNCTUAL, FRIDAY)
    d.bureau.signers_dir = tmp_path / "bureau-pki"
    d.bureau.take("m-1", referral_request(referral))
    d.run()
    result = parse_notice(d.sent[-1][1])
    assert result.notice_type is NoticeType.RESULT and result.document_kind == "187"
    assert result.document and {t for t, _ in result.signatures} == {"personal", "organization"}
