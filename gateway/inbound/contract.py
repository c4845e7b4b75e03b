"""What a peer adapter hands the core when a document addressed to one of our organisations
arrives, and what it gets back. The one inbound path: REMD discovery, ЕАВИИАС over SMEV 3 and
ЦБДИ over ШЭП all call :meth:`InboundPort.receive` with an :class:`InboundDocument`.

This module sits at the bottom of the import layers (it imports nothing of the gateway but the
model), so the plug-in contract and the journal can both name its types.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Protocol, runtime_checkable

from gateway.model import EnvelopeIn

__all__ = [
    "CDA_MIME",
    "DiscoveryBatch",
    "DiscoveryQuery",
    "InboundDiscovery",
    "InboundDocument",
    "InboundPort",
    "InboundReason",
    "InboundReceipt",
    "InboundSignature",
    "InboundState",
]

CDA_MIME: Final = "application/x-hl7-cda-level-one+xml"


class InboundState(enum.StrEnum):
    """Where an inbound document stands. Values are stored: never rename one."""

    ACCEPTED = "ACCEPTED"  # verified and linked: offered to the MIS (pull API, webhook)
    FLAGGED = "FLAGGED"  # kept with its bytes, held for an operator (reason_code says why)
    RELEASED = "RELEASED"  # flagged, then released by an operator: offered like ACCEPTED
    DISMISSED = "DISMISSED"  # flagged, then dismissed by an operator: kept, never offered


OFFERED_STATES: Final = frozenset({InboundState.ACCEPTED, InboundState.RELEASED})


class InboundReason(enum.StrEnum):
    """Why a document was flagged. Stable codes shown in the UI and the API."""

    DOCUMENT_INVALID = "INBOUND_DOCUMENT_INVALID"  # unreadable, wrong structure or schema
    KIND_UNKNOWN = "INBOUND_KIND_UNKNOWN"  # not a kind of the kind table
    SIGNATURE_INVALID = "INBOUND_SIGNATURE_INVALID"  # missing or failing signatures
    ROLE_POLICY = "INBOUND_ROLE_POLICY"  # signed by someone the kind's role policy does not allow
    UNKNOWN_REFERRAL = "INBOUND_UNKNOWN_REFERRAL"  # names no referral of the recipient we know
    CONTRADICTS_OUTCOME = "INBOUND_CONTRADICTS_OUTCOME"  # disagrees with an earlier final outcome
    # another document under the localUid of one already offered (from the same author): never
    # offered a second time (docs/inbound.md, "One document, two routes")
    SAME_ID_OTHER_BYTES = "INBOUND_SAME_ID_OTHER_BYTES"
    TOO_LARGE = "INBOUND_TOO_LARGE"  # larger than the size limit: kept whole, not parsed


@dataclass(frozen=True, slots=True)
class InboundSignature:
    """One detached CMS signature over the document, as the peer delivered it."""

    type: str  # "personal" | "organization"
    cms: bytes
    signer: Mapping[str, str] = field(default_factory=dict)  # snils, local_id, position_code as given


@dataclass(frozen=True, slots=True)
class InboundDocument:
    """A document addressed to organisation ``recipient_oid``, as one peer delivered it.

    ``peer_document_id`` is the peer's own id of the document or message (REMD emdrId, SMEV
    MessageID, ШЭП messageId): the same (peer, id) is recorded once. The same bytes for the same
    recipient from another peer are recorded once too (REMD discovery and ЕАВИИАС both bring
    each result and return), and other bytes under the localUid of a document already offered
    are flagged, never offered twice. ``referral_local_uid`` is what the peer says the document answers; the signed
    document's own reference wins when it has one.
    """

    peer: str
    peer_document_id: str
    recipient_oid: str
    kind: str
    document: bytes
    signatures: tuple[InboundSignature, ...]
    document_mime: str = CDA_MIME
    referral_local_uid: str | None = None
    # Other ids the peer gave (REMD: {"emdrId": …, "localUid": …}; SMEV: {"OriginalMessageId": …}).
    peer_ids: Mapping[str, str] = field(default_factory=dict)
    registered_at: datetime | None = None  # when the peer registered it, if it says
    # A final outcome for the referral (a result, a return): a second, different final document
    # for the same referral is a contradiction. False for progress documents.
    final: bool = True
    envelopes: Sequence[EnvelopeIn] = ()  # the exchange that brought it, kept with it (sealed)


@dataclass(frozen=True, slots=True)
class InboundReceipt:
    """What :meth:`InboundPort.receive` did: ``created`` False when it was already recorded
    (then ``id`` is the earlier record)."""

    id: str
    created: bool
    state: InboundState
    reason_code: str | None = None
    submission_id: str | None = None  # the referral it was linked to


@runtime_checkable
class InboundPort(Protocol):
    """The core's entry for inbound documents. ``receive`` returns only once the document is
    durable (acknowledge it to the peer after that) and raises only when it could not be stored;
    a document that fails any check is stored and flagged, never refused."""

    async def receive(self, document: InboundDocument) -> InboundReceipt: ...

    async def known(self, peer: str, peer_document_id: str) -> bool:
        """Whether (peer, id) is already recorded: a discoverer skips fetching it again."""
        ...


# -- discovery: a peer the core asks, on a schedule, for documents addressed to an organisation --


@dataclass(frozen=True, slots=True)
class DiscoveryQuery:
    recipient_oid: str
    kind: str
    begin: datetime  # registered at or after
    end: datetime  # registered before


@dataclass(frozen=True, slots=True)
class DiscoveryBatch:
    """What one discovery round brought. ``complete`` False (the search failed, or some document
    could not be fetched): the core does not advance its cursor past ``query.begin``, so the
    window is searched again next round (documents already recorded are skipped by id)."""

    documents: tuple[InboundDocument, ...] = ()
    complete: bool = True
    error: str | None = None
    found: int = 0  # how many the peer listed, fetched or not


@runtime_checkable
class InboundDiscovery(Protocol):
    """Optional on a built adapter: the peer can be searched for documents addressed to an
    organisation (REMD searchRegistryItem + getDocumentFile)."""

    async def discover(self, query: DiscoveryQuery, port: InboundPort) -> DiscoveryBatch:
        """Search the window and fetch what ``port.known`` does not know yet. Never raises for
        peer or transport problems (``complete=False`` and ``error`` instead)."""
        ...
