"""What each notice of ФГИС ЕАВИИАС means to the journal — the ONE place that says it.

The bureau answers a referral with a series of notices through SMEV 3 (GetResponse). Each notice
type is either *progress* (a timeline entry with a status code, never a state change) or *final*
(the submission's outcome: the result, or the return of the referral with the reasons of the
Ministry of Labour's order of 20 June 2022 No. 360n). Each may also mark a KSI milestone
(gateway.monitoring.ksi): stage 2 runs from ``received`` to ``registered``, stage 3 from
``registered`` to ``returned`` or ``scheduled``, stage 6 from ``decided`` to ``result_delivered``.

The notice types are the ones the MSE system is known to send (issue 16); their wire names are
the project's stand-in schema's (eaviias-sandbox-1.0.xsd), not an official list.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

__all__ = [
    "NOTICE_RULES",
    "RESULT_CODE",
    "RETURNED_CODE",
    "Milestone",
    "NoticeRule",
    "NoticeType",
    "rule_for",
]


class NoticeType(enum.StrEnum):
    REGISTERED = "REGISTERED"  # the referral is registered in ЕАВИИАС (KSI stage 2 ends)
    RETURNED = "RETURNED"  # returned to the MO with reasons (360n) — final
    APPEAL_REGISTERED = "APPEAL_REGISTERED"  # an appeal against a decision is registered
    INVITATION = "INVITATION"  # invitation to an in-person examination (KSI stage 3 ends)
    ABSENTEE_SCHEDULED = "ABSENTEE_SCHEDULED"  # date/time of an absentee or at-home examination (stage 3 ends)
    PROGRAMME_ASSIGNED = "PROGRAMME_ASSIGNED"  # programme of additional examinations assigned
    PROGRAMME_ANSWER = "PROGRAMME_ANSWER"  # the answer about that programme
    RESULT = "RESULT"  # the examination's result (kind 187 / 35) — final


class Milestone(enum.StrEnum):
    """KSI milestones a notice can mark (names shared with gateway.monitoring.ksi)."""

    RECEIVED = "received"
    REGISTERED = "registered"
    RETURNED = "returned"
    SCHEDULED = "scheduled"
    DECIDED = "decided"
    RESULT_DELIVERED = "result_delivered"


RETURNED_CODE: Final = "EAVIIAS_RETURNED"  # the outcome code of a returned referral (FAILED)
RESULT_CODE: Final = "success"


@dataclass(frozen=True, slots=True)
class NoticeRule:
    """How a notice type is applied.

    ``final``: None for progress; "success" (REGISTERED state, the result) or "failure" (FAILED
    with ``code``: the return). ``status``: the progress status code on the timeline (also the
    one for final notices, kept in the details). ``milestones``: what the notice marks, each
    timed by the notice's own timestamps (see :mod:`adapters.smev3.eaviias.content`)."""

    final: str | None
    status: str
    code: str
    text: str
    milestones: tuple[Milestone, ...] = ()


M = Milestone
NOTICE_RULES: Final[Mapping[NoticeType, NoticeRule]] = MappingProxyType(
    {
        NoticeType.REGISTERED: NoticeRule(
            None, "eaviias-registered", "EAVIIAS_REGISTERED", "Направление зарегистрировано в ЕАВИИАС",
            (M.RECEIVED, M.REGISTERED),
        ),
        NoticeType.RETURNED: NoticeRule(
            "failure", "eaviias-returned", RETURNED_CODE, "Направление возвращено в МО (причины по приказу 360н)",
            (M.RETURNED,),
        ),
        NoticeType.APPEAL_REGISTERED: NoticeRule(
            None, "eaviias-appeal-registered", "EAVIIAS_APPEAL_REGISTERED", "Зарегистрировано обжалование решения",
        ),
        NoticeType.INVITATION: NoticeRule(
            None, "eaviias-invited", "EAVIIAS_INVITED", "Приглашение на очную медико-социальную экспертизу",
            (M.SCHEDULED,),
        ),
        NoticeType.ABSENTEE_SCHEDULED: NoticeRule(
            None, "eaviias-absentee-scheduled", "EAVIIAS_ABSENTEE_SCHEDULED",
            "Назначены дата и время заочной (на дому) экспертизы", (M.SCHEDULED,),
        ),
        NoticeType.PROGRAMME_ASSIGNED: NoticeRule(
            None, "eaviias-programme-assigned", "EAVIIAS_PROGRAMME_ASSIGNED",
            "Назначена программа дополнительного обследования",
        ),
        NoticeType.PROGRAMME_ANSWER: NoticeRule(
            None, "eaviias-programme-answer", "EAVIIAS_PROGRAMME_ANSWER",
            "Ответ о выполнении программы дополнительного обследования",
        ),
        NoticeType.RESULT: NoticeRule(
            "success", "eaviias-result", RESULT_CODE, "Результат медико-социальной экспертизы",
            (M.DECIDED, M.RESULT_DELIVERED),
        ),
    }
)  # fmt: skip


def rule_for(notice_type: NoticeType | str) -> NoticeRule:
    """The rule of a notice type (KeyError/ValueError for a type the mapping does not know)."""
    return NOTICE_RULES[NoticeType(notice_type)]
