"""Rule kind-validity: a document is accepted only when created while its kind's edition was in
force (NSI 1520 dates in the kind table); older editions stay accepted for documents of their time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from flk.helpers import NOW, canonical, replace, run_check
from gateway.documents.kinds import KIND_TABLE, current_edition, in_force, validity_problem
from gateway.documents.model import DocumentKind
from gateway.flk.checker import FullChecker
from gateway.flk.codes import REMD_NSI_IDS
from gateway.flk.rules import kind_validity_findings

MSK = timezone(timedelta(hours=3))


def _at(kind: str, moment: datetime, valid: Callable[..., dict[str, Any]]) -> Any:
    sub = canonical(valid("121", 71))
    return replace(sub, kind=kind, creation_datetime=moment)


@pytest.mark.parametrize(
    ("kind", "moment", "accepted"),
    [
        ("109", datetime(2022, 1, 1, 0, 0, tzinfo=MSK), True),  # first day of edition 5
        ("109", datetime(2023, 3, 15, 23, 59, tzinfo=MSK), True),  # its last day, Moscow time
        ("109", datetime(2023, 3, 15, 21, 30, tzinfo=UTC), False),  # 16.03.2023 00:30 in Moscow
        ("109", datetime(2026, 3, 17, 12, 0, tzinfo=UTC), False),
        ("121", datetime(2022, 11, 23, 12, 0, tzinfo=MSK), False),  # before edition 6
        ("121", datetime(2026, 3, 17, 12, 0, tzinfo=UTC), True),
        ("187", datetime(2023, 8, 13, 23, 0, tzinfo=MSK), False),
        ("187", datetime(2023, 8, 14, 0, 0, tzinfo=MSK), True),
        ("130", datetime(2023, 8, 13, 12, 0, tzinfo=MSK), False),
        ("130", datetime(2023, 8, 14, 12, 0, tzinfo=MSK), True),
        ("35", datetime(2026, 3, 17, 12, 0, tzinfo=UTC), True),  # NSI 1520 sets no end date for edition 2
        ("108", datetime(2026, 3, 17, 12, 0, tzinfo=UTC), True),
        ("35", datetime(2018, 10, 15, 12, 0, tzinfo=MSK), False),
        ("kz-031u", datetime(2001, 1, 1, tzinfo=UTC), True),  # not an NSI kind: no period
    ],
)
def test_edition_periods(valid: Callable[..., dict[str, Any]], kind: str, moment: datetime, accepted: bool) -> None:
    assert in_force(KIND_TABLE[DocumentKind(kind)], moment) is accepted
    found = kind_validity_findings(_at(kind, moment, valid))
    if accepted:
        assert found == []
    else:
        assert [(f.rule, f.code, f.category, f.field) for f in found] == [
            ("kind-validity", "NO_DOCUMENT_KIND_ON_DATE", "other", "creation_datetime")
        ]


def test_the_message_names_the_period_and_the_current_edition() -> None:
    text = validity_problem("109", datetime(2026, 3, 17, tzinfo=UTC))
    assert text is not None
    assert "17.03.2026" in text and "01.01.2022" in text and "15.03.2023" in text and "видом 121" in text
    assert validity_problem("999", NOW) is None  # an unknown code is the schema's business


def test_table_editions() -> None:
    table = {k.value: (v.edition, v.current) for k, v in KIND_TABLE.items()}
    assert table["187"] == (3, True) and table["35"] == (2, False)
    assert table["130"] == (2, True) and table["108"] == (1, False)
    assert {k.code for k in KIND_TABLE.values() if not k.current} == {"109", "35", "108"}
    assert [current_edition(KIND_TABLE[DocumentKind(c)]).code for c in ("109", "35", "108")] == [  # type: ignore[union-attr]
        "121",
        "187",
        "130",
    ]
    assert REMD_NSI_IDS["NO_DOCUMENT_KIND_ON_DATE"] == 17


def test_a_fresh_edition_5_referral_is_refused_by_the_checker(
    base_checker: FullChecker, valid: Callable[..., dict[str, Any]]
) -> None:
    report = run_check(base_checker, valid("109", 72))
    assert [f.code for f in report.findings] == ["NO_DOCUMENT_KIND_ON_DATE"]


def test_the_rule_can_be_switched_off(
    make_checker: Callable[..., FullChecker], valid: Callable[..., dict[str, Any]]
) -> None:
    report = run_check(make_checker(rules={"kind-validity": False}), valid("109", 73))
    assert report.passed, report.to_dict()["flk"]
