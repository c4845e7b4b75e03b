"""The canonical model: the one definition of a submission, its states and the codes the gateway speaks.

Adapters translate peer envelopes to and from these types and never define their own. The state
machine lives in :mod:`gateway.journal.states`; this module only names the states.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "FINAL_STATES",
    "RESUBMITTABLE_STATES",
    "EnvelopeIn",
    "ErrorCode",
    "PendingNotice",
    "State",
    "Submission",
    "SubmissionDraft",
]


class State(enum.StrEnum):
    """Where a submission stands. Values are stored in the journal: never rename one."""

    RECEIVED = "RECEIVED"  # durable, acknowledged to the sender, not yet checked
    VALIDATED = "VALIDATED"  # signatures, roles and FLK passed
    REJECTED = "REJECTED"  # failed validation or routing; final, the report says why
    QUEUED = "QUEUED"  # waiting for the delivery worker
    SENT = "SENT"  # the peer accepted it; awaiting its answer until answer_deadline
    RETRY_WAIT = "RETRY_WAIT"  # a transient failure; next try at next_attempt_at
    RECONCILING = "RECONCILING"  # no answer in time: asking the peer what it knows
    REGISTERED = "REGISTERED"  # the peer registered it (peer_registration_id); final
    FAILED = "FAILED"  # the peer refused it with a permanent code; final
    DEAD = "DEAD"  # the gateway gave up; an operator must act
    CANCELLED = "CANCELLED"  # an operator withdrew it before delivery; final, never sent again


FINAL_STATES: frozenset[State] = frozenset({State.REJECTED, State.REGISTERED, State.FAILED, State.CANCELLED})
# Final and negative: the document can never be registered under this submission, so the sender may
# correct it and resend it under the same localUid (a new version). DEAD is not here: the peer may
# still have registered it.
RESUBMITTABLE_STATES: frozenset[State] = frozenset({State.REJECTED, State.FAILED})


class ErrorCode(enum.StrEnum):
    """Every code the gateway itself answers with. Peer codes (REMD, SMEV, ШЭП) are carried
    verbatim in a submission's ``outcome_code``; these are the gateway's own, stable for clients."""

    CONFIG_INVALID = "CONFIG_INVALID"
    DUPLICATE_CONFLICT = "DUPLICATE_CONFLICT"
    ILLEGAL_TRANSITION = "ILLEGAL_TRANSITION"
    CONCURRENT_UPDATE = "CONCURRENT_UPDATE"
    NOT_FOUND = "NOT_FOUND"
    XML_FORBIDDEN_CONSTRUCT = "XML_FORBIDDEN_CONSTRUCT"
    XML_MALFORMED = "XML_MALFORMED"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNAUTHORIZED = "UNAUTHORIZED"
    FORBIDDEN = "FORBIDDEN"
    SCHEMA_INVALID = "SCHEMA_INVALID"
    STORE_UNAVAILABLE = "STORE_UNAVAILABLE"
    MALFORMED_JSON = "MALFORMED_JSON"
    NO_ROUTE = "NO_ROUTE"
    DOCUMENT_UNREADABLE = "DOCUMENT_UNREADABLE"
    CALLBACK_NOT_ALLOWED = "CALLBACK_NOT_ALLOWED"
    # Refusals at the edge (issue 14): input the gateway cannot store or put into XML, JSON beyond
    # its limits, a body in a media type the endpoint does not speak, and load shedding.
    INVALID_CHARACTER = "INVALID_CHARACTER"
    JSON_LIMIT_EXCEEDED = "JSON_LIMIT_EXCEEDED"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    OVERLOADED = "OVERLOADED"
    INTERNAL_ERROR = "INTERNAL_ERROR"


@dataclass(frozen=True, slots=True)
class SubmissionDraft:
    """What intake hands to the journal. ``payload`` is the canonical submission as received
    (document and signatures included); it is stored compressed and encrypted, never logged."""

    source_system: str
    local_uid: str
    kind: str
    organization_oid: str
    content_hash: str
    payload: bytes
    patient_id: str | None = None  # SNILS or IIN as given; only its keyed hash is stored
    region: str | None = None
    destination: str | None = None
    callback_url: str | None = None
    origin: str = "rest"  # the intake channel: "rest", "remd-soap", ...
    origin_ref: str | None = None  # the sender's message id on that channel


@dataclass(frozen=True, slots=True)
class Submission:
    """A submission as the journal knows it."""

    id: str
    source_system: str
    local_uid: str
    kind: str
    organization_oid: str
    patient_key: str | None
    region: str | None
    destination: str | None
    state: State
    attempts: int
    next_attempt_at: datetime | None
    answer_deadline: datetime | None
    outcome_code: str | None
    outcome_message: str | None
    peer_registration_id: str | None
    content_hash: str
    callback_url: str | None
    created_at: datetime
    updated_at: datetime
    origin: str = "rest"
    origin_ref: str | None = None
    outcome_source: str | None = None
    reconcile_attempts: int = 0
    resubmits: int = 0
    flagged: bool = False
    lease_owner: str | None = None
    lease_until: datetime | None = None
    version: int = 1  # 2, 3 ...: resent under the same localUid after a final refusal
    supersedes: str | None = None  # the id of the version before
    # The outcome message in both languages, {"ru": …, "en": …}, when the gateway wrote it (an FLK
    # rejection, no route, an operator's cancel); None for a peer's own words and rows journalled
    # before the column existed, which show ``outcome_message`` as it is (docs/languages.md).
    outcome_text: Mapping[str, str] | None = None

    @property
    def is_final(self) -> bool:
        return self.state in FINAL_STATES

    def outcome_in(self, language: str) -> str | None:
        """The outcome message in ``language`` ("ru" or "en") when it was journalled in both, else as
        journalled."""
        return text_in(self.outcome_text, language, self.outcome_message)


def text_in(stored: object, language: str, fallback: str | None) -> str | None:
    """``stored[language]`` when the gateway journalled a message in both languages (``{"ru": …,
    "en": …}``: an outcome's ``outcome_text``, an event's ``details["text"]``), else ``fallback``,
    the message as journalled (a peer's own words, rows older than the two-language column)."""
    if isinstance(stored, Mapping):
        value = stored.get(language)
        if isinstance(value, str) and value:
            return value
    return fallback


@dataclass(frozen=True, slots=True)
class EnvelopeIn:
    """One wire message exchanged with a peer about a submission, as the journal keeps it."""

    direction: str  # "out" | "in"
    peer: str
    content_type: str
    body: bytes


@dataclass(frozen=True, slots=True)
class PendingNotice:
    """A notice owed to a sender (callback or SOAP notify), claimed from the outbox."""

    id: int
    submission_id: str
    client_id: str | None
    channel: str
    url: str
    body: bytes
    attempts: int
    created_at: datetime
