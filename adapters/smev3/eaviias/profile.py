"""The ЕАВИИАС content profile of an SMEV 3 instance: what SendRequest carries for a referral,
and what a bureau's notice in GetResponse becomes for the core (an outcome or a progress status,
with its KSI milestones), as :mod:`adapters.smev3.eaviias.notices` says."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from adapters.smev3.eaviias.content import (
    STANDIN_NAMESPACE,
    STANDIN_NOTICE_ROOT,
    EaviiasContentError,
    Notice,
    parse_notice,
    referral_request,
)
from adapters.smev3.eaviias.notices import Milestone, NoticeRule, rule_for
from adapters.smev3.settings import EaviiasSettings
from gateway.delivery.routing import region_from_org_oid
from gateway.inbound.contract import CDA_MIME, InboundDocument, InboundSignature
from gateway.intake.submission import CanonicalSubmission
from gateway.model import EnvelopeIn
from gateway.peers.contract import PeerOutcome, Progress, StageMark

__all__ = ["NOTICE_INVALID", "EaviiasProfile", "NoticeRejected"]

# The code an unreadable or schema-invalid notice is recorded under (unattributed, for operators).
NOTICE_INVALID: Final = "EAVIIAS_NOTICE_INVALID"


class NoticeRejected(Exception):
    """A business message that is not a usable notice: recorded unattributed with ``code``."""

    def __init__(self, code: str, text: str) -> None:
        super().__init__(f"{code}: {text}")
        self.code = code
        self.text = text


@dataclass(frozen=True, slots=True)
class _Common:
    peer: str
    relates_to: str | None
    peer_message_id: str
    envelopes: tuple[EnvelopeIn, ...]


class EaviiasProfile:
    def __init__(self, settings: EaviiasSettings) -> None:
        self.settings = settings
        self.validate = settings.validate_schema and (settings.namespace, settings.notice_root) == (
            STANDIN_NAMESPACE,
            STANDIN_NOTICE_ROOT,
        )

    @property
    def notice_type(self) -> tuple[str, str]:
        """(namespace, root) of the notices: the instance's MessageTypeSelector when none is set."""
        return self.settings.namespace, self.settings.notice_root

    def request_content(self, canonical: CanonicalSubmission) -> bytes:
        s = self.settings
        region = s.region or region_from_org_oid(canonical.organization_oid)
        return referral_request(
            canonical, namespace=s.namespace, root=s.referral_root, region=region, bureau_code=s.bureau_code
        )

    def read(self, content: bytes) -> Notice:
        try:
            return parse_notice(
                content, namespace=self.settings.namespace, root=self.settings.notice_root, validate=self.validate
            )
        except EaviiasContentError as exc:
            raise NoticeRejected(NOTICE_INVALID, f"{exc.code}: {exc.message}") from None

    def apply(
        self,
        content: bytes,
        *,
        peer: str,
        relates_to: str | None,
        peer_message_id: str,
        envelopes: tuple[EnvelopeIn, ...],
        delivered_at: datetime | None,
    ) -> PeerOutcome | Progress:
        """The notice in ``content`` as the core's outcome or progress (NoticeRejected when it is
        not a usable notice)."""
        notice = self.read(content)
        return self.answer(
            notice, peer=peer, relates_to=relates_to, peer_message_id=peer_message_id, envelopes=envelopes,
            delivered_at=delivered_at,
        )  # fmt: skip

    def inbound_document(
        self, notice: Notice, *, peer: str, peer_message_id: str, envelopes: tuple[EnvelopeIn, ...]
    ) -> InboundDocument | None:
        """The signed document a final notice carries (the kind-187 result, the kind-130 return),
        addressed to the referral's MO, for the core's inbound path; None for progress and for a
        notice without a document.

        ``peer_document_id`` is the bureau's NoticeId, which is the same in every copy of one
        notice (SMEV redelivery, a duplicate or resent notice under another MessageID), so the
        document is recorded once; the SMEV MessageID of the copy is kept among ``peer_ids``."""
        rule: NoticeRule = rule_for(notice.notice_type)
        if rule.final is None or notice.document is None or not notice.document_kind:
            return None
        signatures = tuple(InboundSignature(kind, cms) for kind, cms in notice.signatures)
        peer_ids = {"NoticeId": notice.notice_id, "MessageID": peer_message_id}
        if notice.registration_number:
            peer_ids["RegistrationNumber"] = notice.registration_number
        return InboundDocument(
            peer=peer,
            peer_document_id=f"notice:{notice.notice_id}" if notice.notice_id else f"message:{peer_message_id}",
            recipient_oid=notice.organization_oid,
            kind=notice.document_kind,
            document=notice.document,
            signatures=signatures,
            document_mime=notice.document_mime or CDA_MIME,
            referral_local_uid=notice.local_uid or None,
            peer_ids=peer_ids,
            registered_at=notice.event_at,
            final=True,
            envelopes=envelopes,
        )

    def answer(
        self,
        notice: Notice,
        *,
        peer: str,
        relates_to: str | None,
        peer_message_id: str,
        envelopes: tuple[EnvelopeIn, ...],
        delivered_at: datetime | None,
    ) -> PeerOutcome | Progress:
        """A parsed notice as the core's outcome or progress, as the one mapping says."""
        rule = rule_for(notice.notice_type)
        marks = tuple(_mark(m, notice) for m in rule.milestones)
        details: dict[str, Any] = {
            "notice_type": notice.notice_type.value,
            "notice_id": notice.notice_id,
            "bureau": notice.bureau_code,
            "region": notice.region,
            "event_at": notice.event_at.isoformat(),
        }
        if notice.registration_number:
            details["registration_number"] = notice.registration_number
        if notice.reasons:
            details["reasons"] = [{"code": r.code, "text": r.text} for r in notice.reasons]
        if notice.appointment is not None:
            details["appointment"] = {
                "at": notice.appointment.at.isoformat(),
                "form": notice.appointment.form,
                "place": notice.appointment.place,
            }
        if notice.document_kind:
            details["document_kind"] = notice.document_kind
        if rule.final is None:
            return Progress(
                peer=peer,
                local_uid=notice.local_uid,
                organization_oid=notice.organization_oid or None,
                status=rule.status,
                message=notice.text or rule.text,
                relates_to=relates_to,
                peer_message_id=peer_message_id,
                details=details,
                envelopes=envelopes,
                marks=marks,
            )
        success = rule.final == "success"
        codes: tuple[tuple[str, str], ...] = ()
        if not success:
            reasons = "; ".join(f"{r.code}: {r.text}" for r in notice.reasons) or notice.text or rule.text
            codes = ((rule.code, reasons[:1000]),)
        return PeerOutcome(
            peer=peer,
            local_uid=notice.local_uid,
            organization_oid=notice.organization_oid or None,
            success=success,
            codes=codes,
            peer_registration_id=notice.registration_number if success else None,
            registered_at=(notice.event_at or delivered_at) if success else None,
            relates_to=relates_to,
            envelopes=envelopes,
            peer_message_id=peer_message_id,
            details={"status": rule.status, **details},
            marks=marks,
        )


def _mark(milestone: Milestone, notice: Notice) -> StageMark:
    at: datetime | None
    if milestone is Milestone.RECEIVED:
        at = notice.received_at or notice.event_at
    elif milestone is Milestone.RESULT_DELIVERED:
        at = None  # when the gateway records it: the result has reached the MO's side
    else:
        at = notice.event_at
    return StageMark(milestone.value, at, notice.bureau_code or None, notice.region or None)
