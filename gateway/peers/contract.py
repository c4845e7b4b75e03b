"""The contract between the core and a peer plug-in.

A plug-in (one per ``adapters/<protocol>/`` package) brings everything a protocol needs: its
settings model, how to build its adapter, its HTTP routes (callbacks, files served to the peer, a
front door), its error-code table, its sandbox twin and its notice channels. The core knows
states, retries, deadlines, reconciliation and the journal; it discovers plug-ins through
:mod:`gateway.peers.installed` and never names a protocol.

Two styles of peer share one adapter contract:

- **push** (REMD, a regional GIS, ШЭП SyncChannel): ``send`` answers synchronously; asynchronous
  answers arrive on the plug-in's routes and are handed to the :class:`PeerSink`;
- **polling** (SMEV 3 GetResponse/Ack, ШЭП AsyncChannel): the adapter also implements
  :class:`PollingAdapter`; one leased receiver per instance calls ``receive``, which hands each
  message to the sink and acknowledges it to the peer only after the sink has returned (the sink
  returns only once the message is durable, and raises otherwise).

An adapter reports *what the peer said*, raw (codes, texts, HTTP status, the exact envelopes); the
core classifies it with the plug-in's code table and decides what happens next.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import aiohttp
from aiohttp import web

from gateway.common.clock import Clock
from gateway.inbound.contract import InboundPort
from gateway.journal.peer_requests import (
    AnswerRefused,
    OwedAnswer,
    PeerRequest,
    RecordedRequest,
    RequestReceipt,
    Settlement,
)
from gateway.model import EnvelopeIn, Submission
from gateway.peers.auth import PeerGuard, Refusal
from gateway.peers.codes import CodeClass, CodeRule, CodeTable
from gateway.peers.settings import PeerSettings
from gateway.signatures.certificates import Certificate
from gateway.signatures.keys import PrivateKey

if TYPE_CHECKING:
    from gateway.intake.clients import Client
    from gateway.intake.submission import CanonicalSubmission
    from gateway.model import PendingNotice

__all__ = [
    "KSI_MILESTONES",
    "AddressedRegistryTwin",
    "Answer",
    "AnswerKind",
    "AnswerRefused",
    "CallbackSink",
    "Capabilities",
    "ChannelSender",
    "CodeClass",
    "CodeRule",
    "CodeTable",
    "DeliveryAdapter",
    "DocumentSource",
    "EnvelopeBuilder",
    "EnvelopeInspector",
    "IntakePort",
    "LookupResult",
    "OwedAnswer",
    "PeerContext",
    "PeerOutcome",
    "PeerPlugin",
    "PeerRequest",
    "PeerSettings",
    "PeerSink",
    "PollingAdapter",
    "Progress",
    "RecordedRequest",
    "RefusalLog",
    "RequestPort",
    "RequestReceipt",
    "SandboxConfigurer",
    "Settlement",
    "StageMark",
    "TwinContext",
]


class AnswerKind(enum.StrEnum):
    ACCEPTED = "accepted"  # taken for asynchronous processing: await a callback or a polled answer
    REGISTERED = "registered"  # registered synchronously (ШЭП SCSS001)
    REFUSED = "refused"  # the peer answered with error codes; classification decides
    NO_ANSWER = "no_answer"  # network error, timeout, HTTP 5xx, unparseable answer


@dataclass(frozen=True, slots=True)
class Answer:
    """What one send attempt produced."""

    kind: AnswerKind
    codes: tuple[tuple[str, str], ...] = ()  # (code, message) as the peer spelled them
    http_status: int | None = None
    peer_registration_id: str | None = None
    error: str | None = None  # transport-level description for NO_ANSWER
    envelopes: Sequence[EnvelopeIn] = field(default_factory=tuple)
    retry_after_seconds: float | None = None  # the peer's own hint (Retry-After), if any
    # The peer refused the message id as stale (SMEV StaleMessageId): the next attempt must carry
    # a new one. The core retires the persisted id; the verdict still comes from ``codes``, unless
    # a send under the old id may have arrived: then no new id (a second message), the submission
    # waits in SENT (STALE_ID_MAY_HAVE_ARRIVED).
    renew_message_id: bool = False


@dataclass(frozen=True, slots=True)
class LookupResult:
    """What reconciliation learned from the peer about one submission."""

    found: bool | None  # True registered, False the peer does not have it, None could not ask
    peer_registration_id: str | None = None
    registered_at: datetime | None = None
    error: str | None = None
    envelopes: Sequence[EnvelopeIn] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class StageMark:
    """A milestone of the MSE process a peer's message reports (gateway.monitoring.ksi measures
    the bureau's KSI between them): ``name`` is one of ``KSI_MILESTONES``; ``at`` when it
    happened by the peer's account, None for "when the gateway records this message" (the result
    reaching the MO's side). ``bureau``/``region``: who is measured."""

    name: str
    at: datetime | None
    bureau: str | None = None
    region: str | None = None


# Stage 2 runs received → registered, stage 3 registered → returned | scheduled, stage 6
# decided → result_delivered (docs/metrics.md, "KSI").
KSI_MILESTONES = ("received", "registered", "returned", "scheduled", "decided", "result_delivered")


@dataclass(frozen=True, slots=True)
class PeerOutcome:
    """A peer's final answer about one submission (callback or polled message), in canonical terms."""

    peer: str
    local_uid: str
    organization_oid: str | None
    success: bool
    codes: tuple[tuple[str, str], ...] = ()
    peer_registration_id: str | None = None
    registered_at: datetime | None = None
    relates_to: str | None = None  # the message id of our request, when the peer echoes it
    envelopes: Sequence[EnvelopeIn] = field(default_factory=tuple)
    peer_message_id: str | None = None  # the id of the peer's own message (dedup of redeliveries)
    details: Mapping[str, Any] = field(default_factory=dict)  # kept on the timeline event
    marks: Sequence[StageMark] = field(default_factory=tuple)
    # The id of the inbound document (gateway.inbound) this outcome stands on, when that document
    # was not offered to the MIS (flagged: a result signed by someone who is not the bureau head,
    # a broken signature): the core then does not apply the outcome but holds it, with
    # ``held_reason``, until an operator releases the document (the outcome is applied in the same
    # transaction) or dismisses it (the referral keeps waiting for a valid answer).
    held_by: str | None = None
    held_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Progress:
    """An intermediate status from a peer (queued at SMEV, registered at the MSE bureau, invited):
    recorded on the timeline and shown, never final."""

    peer: str
    local_uid: str
    organization_oid: str | None
    status: str  # the peer's status code, e.g. "queued", "registered-at-bureau"
    message: str = ""
    relates_to: str | None = None
    peer_message_id: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    envelopes: Sequence[EnvelopeIn] = field(default_factory=tuple)
    marks: Sequence[StageMark] = field(default_factory=tuple)


class CallbackSink(Protocol):
    """Where an adapter hands a peer's final answer. Returns once the answer is durable."""

    async def __call__(self, outcome: PeerOutcome) -> None: ...


@runtime_checkable
class PeerSink(CallbackSink, Protocol):
    """The core's sink for everything a peer sends back: final outcomes and progress. Both
    return only after the journal has committed what they were given, and raise otherwise; an
    adapter acknowledges a message to its peer only after the sink returned."""

    async def progress(self, progress: Progress) -> None: ...


class RequestPort(Protocol):
    """Where a plug-in acting as a *provider* (SMEV 3 GetRequest/SendResponse) records the
    requests peers send us, and finds the answers owed to them (gateway.journal.peer_requests)."""

    async def record(self, request: PeerRequest) -> RequestReceipt:
        """Durable when it returns (acknowledge to the peer only then); raises otherwise. A
        redelivery (same peer and message id) returns the first row with ``created=False``."""
        ...

    async def owed(self, peer: str, *, limit: int = 50) -> list[OwedAnswer]: ...

    async def message_id(self, request_id: str, new_id: Callable[[], str]) -> str:
        """The answer's message id, committed before this returns (so before the first send)."""
        ...

    async def settle(
        self,
        request_id: str,
        result: Settlement,
        *,
        code: str | None = None,
        text: str | None = None,
        pause_seconds: float | None = None,
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What the core may ask of a protocol."""

    # The peer can be asked about a submission (reconciliation: REMD searchRegistryItem).
    lookup: bool = True
    # Sending the same submission again is safe (REMD: the same localUid is recognised; SMEV 3:
    # the same persisted MessageID is refused as MessageIsAlreadySent, read as accepted). When
    # False, the core never resends a submission whose earlier send may have arrived; it asks
    # (lookup) or waits for an answer, and puts it in front of an operator otherwise.
    idempotent_resend: bool = True
    # Answers come by polling (the adapter is a PollingAdapter): the core runs one leased receiver.
    polling: bool = False
    # The peer's answers name the message they answer (``relates_to``: REMD's relatesToMessage,
    # SMEV's OriginalMessageId). Then an answer without it answers nothing we sent and is stored
    # as unattributed. False only for a peer that cannot echo: its answers are matched by
    # localUid, to a submission routed to it that was actually sent there.
    answers_relate_to: bool = True
    # The peer's answers name the document (localUid), and an answer whose localUid is not the
    # one of the submission its ``relates_to`` names is not ours. False (SMEV 3: a response
    # carries OriginalMessageId, signed by SMEV, and no localUid): an answer with an empty
    # ``local_uid`` is attributed by ``relates_to`` alone; a non-empty one is still compared.
    answers_name_document: bool = True
    # The peer answers a message id once, however often it was sent (SMEV 3: a resend under the
    # same MessageID is refused as MessageIsAlreadySent; ШЭП: DUPLICATE_MESSAGE — neither gets an
    # answer of its own). Then an error answer to the submission's live message id is its
    # outcome even when it arrives while a resend is queued or in flight (the send's own
    # "accepted" not yet committed): no other answer will come, and noting it as late would
    # leave the submission waiting for good. And a transient error answer retires the answered id,
    # so the resend it schedules is a new message (under the old id it would meet "already sent"
    # and no answer). False (REMD): an answer belongs to one attempt and a resend gets its own.
    answers_once_per_message: bool = False
    # The plug-in mounts HTTP endpoints the peer (or MIS) calls. False (SMEV 3: a polling consumer
    # that SMEV never calls): there is nothing to authenticate, so the instance needs no
    # ``auth`` settings to be served.
    endpoints: bool = True


class DeliveryAdapter(Protocol):
    """A built peer instance the gateway delivers to."""

    name: str

    def new_message_id(self) -> str:
        """A fresh id for one outgoing message (REMD: a UUID; SMEV: a UUID version 1). The core
        persists it before the first send and passes it on every resend until renewed."""
        ...

    async def send(self, sub: Submission, canonical: CanonicalSubmission, *, message_id: str) -> Answer:
        """Send (or resend) one submission under ``message_id``. Never raises for peer or
        transport problems: they are answers too."""
        ...

    async def lookup(self, sub: Submission, canonical: CanonicalSubmission) -> LookupResult:
        """Ask the peer whether it registered this submission (reconciliation). Called only when
        the plug-in's capabilities say ``lookup``."""
        ...


class PollingAdapter(DeliveryAdapter, Protocol):
    async def receive(self, sink: PeerSink) -> int:
        """Poll the peer's queue until it is empty (or a batch is done): hand each message to
        ``sink`` and acknowledge it to the peer only after the sink returned. Returns how many
        messages were taken; raises only for what should back the receiver off (transport)."""
        ...


DocumentSource = Callable[[str, str], Awaitable[bytes | None]]
"""(localUid, organisation OID) → the signed document, for a peer that pulls files."""

ChannelSender = Callable[["PendingNotice", aiohttp.ClientSession], Awaitable[None]]
"""Sends one outcome notice to a sender over a protocol's own channel."""


class IntakePort(Protocol):
    """What a plug-in's front door (a peer protocol spoken *towards* MIS) may do with the core."""

    async def by_entity_id(self, entity_id: str) -> Client | None: ...

    async def authenticate(self, token: str) -> Client | None: ...

    async def accept(
        self, client: Client, canonical_json: dict[str, Any], *, envelope: bytes, message_id: str, reply_to: str | None
    ) -> tuple[str, bool]: ...

    async def search(
        self,
        client: Client,
        organization: str,
        kind: str,
        begin: datetime | None,
        end: datetime | None,
        snils: str | None,
    ) -> list[tuple[str, str, datetime]]: ...


@dataclass(frozen=True)
class PeerContext:
    """Everything the core gives a plug-in about one configured instance.

    Routes are mounted when the app is created, before the journal or the HTTP session exist, so
    ``sink``, ``documents`` and ``intake`` forward to the core objects once they do.
    """

    name: str  # the instance name: "remd", "gis-77"
    settings: PeerSettings  # the plug-in's own settings model, validated
    public_url: str  # this gateway's base URL as the peer calls it back
    path_prefix: str  # where this instance's routes live: "/<name>"
    max_body_bytes: int
    sink: PeerSink
    documents: DocumentSource
    intake: IntakePort
    notice_timeout_seconds: float = 15.0
    # Authenticates callers of this instance's endpoints (gateway.peers.auth); plug-ins check
    # every request with it and report refusals to ``on_refusal`` (security events for operators).
    guard: PeerGuard | None = None
    on_refusal: RefusalLog | None = None
    # Where the instance hands documents addressed to our organisations (gateway.inbound): a
    # REMD notification, an ЕАВИИАС notice over SMEV, a ЦБДИ conclusion over ШЭП.
    inbound: InboundPort | None = None
    # Search the peers named in [inbound] discover_peers now rather than at the next scheduled
    # round (a peer's notification said a document addressed to us was registered).
    discover_now: Callable[[], None] | None = None
    # Where a provider instance records requests to us and finds the answers owed (SMEV 3
    # GetRequest/SendResponse).
    requests: RequestPort | None = None


RefusalLog = Callable[[str, str, "str | None", Refusal], Awaitable[None]]
"""(peer, path, remote address, refusal) → recorded as a security event."""


@dataclass(frozen=True)
class TwinContext:
    """What a plug-in's sandbox twin is started with."""

    name: str
    settings: PeerSettings
    clock: Clock
    fault_profile: str  # a profile name or a TOML path, as the plug-in understands it
    seed: int | None = None  # reproducible fault draws (simulate, benchmarks)
    # The twin's own signing identity: it signs what it sends the gateway, and the sandbox pins
    # this certificate in the instance's auth settings, so the sandbox exercises peer auth.
    key: PrivateKey | None = None
    certificate: Certificate | None = None
    # The sandbox's test PKI (gateway.flk.sample_pki.SampleSigners), whose CA the sandbox gateway
    # trusts: a twin that issues signed documents addressed to our MOs (the simulated ЕАВИИАС's
    # results and return notices) signs with it, so they pass the gateway's checks. None: none.
    pki_dir: Path | None = None
    # Where a twin registers documents it issues *addressed to* an MO in the registry the gateway
    # discovers them from (the sandbox REMD twin's ``/_sandbox/addressed``), when such a twin runs
    # in the same sandbox (a plug-in with :class:`AddressedRegistryTwin`). None: no such registry.
    addressed_registry_url: str | None = None


class PeerPlugin(Protocol):
    """One protocol. Exported as ``PLUGIN`` by its ``adapters/<protocol>/`` package."""

    @property
    def protocol(self) -> str:
        """The name configurations use: ``protocol = "remd"``."""
        ...

    @property
    def settings_model(self) -> type[PeerSettings]:
        """The instance settings: :class:`PeerSettings` plus the protocol's own keys."""
        ...

    @property
    def capabilities(self) -> Capabilities: ...

    @property
    def description(self) -> str: ...

    def code_table(self) -> CodeTable:
        """The protocol's error codes and what each means (loaded once; malformed → ConfigError)."""
        ...

    def build(self, ctx: PeerContext, session: aiohttp.ClientSession, clock: Clock) -> DeliveryAdapter:
        """The adapter for one instance (called at start-up, when the HTTP session exists)."""
        ...

    def routes(self, ctx: PeerContext) -> Sequence[web.AbstractRouteDef]:
        """HTTP endpoints of one instance (callbacks, files served to the peer, a front door),
        each under ``ctx.path_prefix``."""
        ...

    def notice_channels(self, ctx: PeerContext) -> Mapping[str, ChannelSender]:
        """Notice channels this protocol offers senders that came in through its front door."""
        ...

    def twin(self, ctx: TwinContext) -> web.Application:
        """The sandbox twin: a simulated peer speaking this protocol, with fault injection."""
        ...

    def fault_profiles(self) -> Sequence[str]:
        """Names of the twin's built-in fault profiles (for help texts and the sandbox page)."""
        ...


@runtime_checkable
class SandboxConfigurer(Protocol):
    """Optional on a :class:`PeerPlugin`: what an instance needs in the sandbox besides its twin's
    URL (a polling peer has no callbacks to pin the twin's certificate for: it signs its own
    requests with a key the twin must know, and trusts the twin's signature on answers)."""

    def sandbox_settings(self, ctx: TwinContext, directory: Path) -> dict[str, Any]:
        """Settings to merge over the instance's own (only where the operator set nothing), for
        the gateway and for the twin built next with them. ``ctx`` carries the twin's identity;
        files (keys, certificates, trust directories) go under ``directory``."""
        ...


@runtime_checkable
class AddressedRegistryTwin(Protocol):
    """Optional on a :class:`PeerPlugin`: its twin keeps a registry of documents addressed to MOs,
    which other twins of the same sandbox register into over HTTP (JSON POST at this path of the
    twin's base URL; REMD: ``/_sandbox/addressed``), and the gateway discovers them from."""

    @property
    def addressed_registry_path(self) -> str: ...


@runtime_checkable
class EnvelopeInspector(Protocol):
    """Optional on a :class:`PeerPlugin`: reads one envelope of its protocol for operators and
    vendors (``mse-gateway envelope inspect``)."""

    def inspect(self, data: bytes) -> dict[str, Any] | None:
        """None: not an envelope of this protocol. Otherwise a JSON-able dict with at least
        ``protocol`` and ``operation``, and what applies of ``message_id``, ``relates_to`` /
        ``original_message_id``, ``response_kind``, ``status``, ``fault_code``, ``fault_class``
        (from the plug-in's code table) and ``signatures`` (verdicts). Never raises for what
        ``data`` contains."""
        ...


@runtime_checkable
class EnvelopeBuilder(Protocol):
    """Optional on a :class:`PeerPlugin`: prints the exact envelope its adapter would send
    (``mse-gateway envelope build``), for vendors comparing with their own."""

    def build_envelope(
        self,
        name: str,
        settings: PeerSettings,
        operation: str,
        canonical: CanonicalSubmission,
        *,
        message_id: str | None = None,
        key_file: str | None = None,
        certificate_file: str | None = None,
    ) -> bytes:
        """The envelope of ``operation`` for one submission, signed as the adapter signs it
        (``key_file``/``certificate_file`` override the instance's). Raises ValueError for an
        operation the plug-in cannot build, ConfigError for an unusable key."""
        ...
