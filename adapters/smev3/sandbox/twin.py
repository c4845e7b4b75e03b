"""The SMEV 3 sandbox twin: a simulated SMEV 3 node with real queue semantics, and a simulated
provider behind it.

One SOAP 1.1 endpoint (``POST /smev3/ws`` by default) answers SendRequest, GetResponse, Ack,
GetStatus and, for an information system acting as a provider, GetRequest and SendResponse. Every
envelope is parsed and built with :class:`~adapters.smev3.codec.Smev3Codec`. Each call is checked
as SMEV checks it, in this order:

1. the SOAP envelope (no Header, no Body → SignatureVerificationFault/PoorSOAPEnvelopeFormat);
2. the fault profile's SMEVFailure draw;
3. the payload against the vendored 1.1 XSDs (``wsdl/smev3/1.1``) → InvalidContent with the
   error positions (line numbers of the envelope);
4. the information system's signature (CallerInformationSystemSignature) with the project's
   verifier → SignatureVerificationFault (NoSignatureFound, IncorrectSignatureTarget,
   SignatureIsInvalid, CertificateIsNotFound, CertificateIsExpired); a valid signer that is not
   among ``registered_senders`` → SenderIsNotRegistered;
5. for SendRequest/SendResponse, the MessageID: not a lower-case UUID v1 → InvalidMessageIdFormat,
   its time older than ``stale_after_seconds`` or in the future → StaleMessageId (before the
   duplicate check, as the pain point "resent messages rejected as stale" shows), already
   accepted → MessageIsAlreadySent;
6. for SendRequest: an EOL already passed → EndOfLifeReached; a business namespace not in
   ``known_types`` → BusinessDataTypeIsNotSupported, not in the sender's ``access`` →
   AccessDenied; attachment headers and contents that do not match →
   AttachmentContentMiscoordination, above ``attachment_size_limit_bytes`` →
   AttachmentSizeLimitExceeded, beyond the sender's ``attachment_quota_bytes`` →
   QuoteLimitExceeded; the profile's ``send_faults`` draw (any other fault code);
7. the recipient's incoming queue quota → DestinationOverflow.

Queues: one incoming queue per recipient (the simulated provider's, and one per information
system taking requests with GetRequest), one response queue per sender. A delivered message stays
in its queue until Acked; not Acked within ``redelivery_seconds`` (simulated) it is delivered
again. What the twin puts in a queue is signed with its identity (ЭП-СМЭВ, ``SIGNED_BY_SMEV``).

Who calls is the common name of the certificate of the caller's signature: per-sender queues are
keyed by it (``provider_namespaces`` maps a business namespace to the name of the information
system that takes those requests with GetRequest; other requests go to the simulated provider).

What happened is visible at ``GET /_sandbox/stats`` and ``GET /_sandbox/messages/{id}``.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import heapq
import itertools
import random
import shutil
import tempfile
import time
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Final, cast

from aiohttp import web
from lxml import etree

from adapters.smev3 import messages as m
from adapters.smev3.codec import VOID_FAULTS, Smev3Codec, Smev3FormatError
from adapters.smev3.identity import MessageIdError, message_id_time, new_message_id
from adapters.smev3.mtom import XOP_NS, MtomError, is_multipart, resolve, unpack
from adapters.smev3.sandbox.addressed import AddressedPublisher
from adapters.smev3.sandbox.attachments import check_request_attachments
from adapters.smev3.sandbox.bureau import Bureau, BureauProfile
from adapters.smev3.sandbox.filestore import FileStore
from adapters.smev3.sandbox.profile import PREFIX as PROFILE_PREFIX
from adapters.smev3.sandbox.profile import SIGNATURE_REASONS, FaultProfile
from adapters.smev3.settings import DEFAULT_ATTACHMENT_THRESHOLD
from adapters.smev3.signing import Signer, verify_incoming
from gateway.common.clock import Clock
from gateway.common.logs import get_logger
from gateway.common.shipped import search_bases
from gateway.common.twin_profile import add_profile_route, profile_key
from gateway.signatures.certificates import Certificate
from gateway.signatures.keys import PrivateKey
from gateway.signatures.xml.verify import XmlVerifier
from gateway.wire import soap11
from gateway.wire.safexml import DEFAULT_MAX_BYTES, make_parser, parse_xml

__all__ = [
    "ANSWER_NAMESPACE",
    "PROVIDER",
    "SERVICE_PATH",
    "TWIN_KEY",
    "Smev3Twin",
    "create_twin",
    "smev3_schema",
]

SERVICE_PATH: Final = "/smev3/ws"
PROVIDER: Final = "SANDBOX_PROVIDER"  # the simulated provider's recipient name
SIMULATED_CONSUMER: Final = "SANDBOX_CONSUMER"  # the sender of injected requests
ANSWER_NAMESPACE: Final = "urn://x-artefacts-mse/sandbox/answer/1.0.0"
BROKER: Final = "sandbox-smev3-broker"
POLL_SECONDS: Final = 0.02
# How long the scheduler runs due actions before it lets the event loop serve requests again.
SCHEDULER_SLICE_SECONDS: Final = 0.02
_HOLDER: Final = "CallerInformationSystemSignature"
_DS: Final = "http://www.w3.org/2000/09/xmldsig#"
_SOAP: Final = "http://schemas.xmlsoap.org/soap/envelope/"
_OPERATIONS: Final = {
    "SendRequestRequest": "SendRequest",
    "GetResponseRequest": "GetResponse",
    "AckRequest": "Ack",
    "GetStatusRequest": "GetStatus",
    "GetRequestRequest": "GetRequest",
    "SendResponseRequest": "SendResponse",
}
_ENVELOPE_ERRORS: Final = frozenset({"NOT_SOAP11", "NO_BODY", "EMPTY_BODY"})
# Faults SMEV answers as soap:Server (its own state, not the request's fault).
_SERVER_FAULTS: Final = frozenset({"SMEVFailure", "DestinationOverflow", "EndOfLifeReached"})

_log: Final = get_logger(__name__)


_MIME_PATTERN: Final = "[a-zA-Z0-9-+.]"


def _java_reading(folder: Path) -> Path:
    """The vendored XSDs as SMEV's (Java) validator reads them. RFC2046MimeTypesType's pattern
    ``[a-zA-Z0-9-+.]*`` means letters, digits, ``-``, ``+`` and ``.`` to Java; libxml2 reads
    ``9-+`` as a range and then refuses every hyphen (``application/x-hl7-cda-level-one+xml``,
    ``application/octet-stream``). A copy with the hyphen escaped (kept for the process) is what
    the twin validates with; the vendored files stay unchanged."""
    basic = folder / "smev-message-exchange-basic-1.1.xsd"
    text = basic.read_text("utf-8")
    if _MIME_PATTERN not in text:
        return folder
    target = Path(tempfile.mkdtemp(prefix="smev3-xsd-"))
    for xsd in folder.glob("*.xsd"):
        shutil.copyfile(xsd, target / xsd.name)
    (target / basic.name).write_text(text.replace(_MIME_PATTERN, "[a-zA-Z0-9+.\\-]"), "utf-8")
    return target


@cache
def smev3_schema() -> etree.XMLSchema:
    """The 1.1 types and faults schemas (``wsdl/smev3/1.1``) as one lxml schema."""
    for base in search_bases():
        folder = base / "wsdl" / "smev3" / "1.1"
        if (folder / "smev-message-exchange-types-1.1.xsd").is_file():
            break
    else:
        raise FileNotFoundError("wsdl/smev3/1.1 not found")
    ns = m.Namespaces.for_version("1.1")
    folder = _java_reading(Path(folder))
    wrapper = etree.Element("{http://www.w3.org/2001/XMLSchema}schema")
    for namespace, name in ((ns.types, "types"), (ns.faults, "faults")):
        item = etree.SubElement(wrapper, "{http://www.w3.org/2001/XMLSchema}import")
        item.set("namespace", namespace)
        item.set("schemaLocation", (Path(folder) / f"smev-message-exchange-{name}-1.1.xsd").as_uri())
    # the wrapper's imports are re-read with the safe parser (no network, no entities)
    return etree.XMLSchema(etree.fromstring(etree.tostring(wrapper), parser=make_parser()))


class _Refusal(Exception):
    """A call answered with an SMEV fault."""

    def __init__(self, fault: m.Fault) -> None:
        super().__init__(fault.code)
        self.fault = fault


def _fault(code: str, message: str, *, client: bool = True, **extra: Any) -> _Refusal:
    return _Refusal(m.Fault(code=code, message=message, faultcode="soap:Client" if client else "soap:Server", **extra))


def _signature_fault(reason: str, message: str) -> _Refusal:
    return _fault("SignatureVerificationFault", message, description=message, subcode=reason)


@dataclass(slots=True)
class _Queued:
    """A message waiting in a queue until Acked."""

    message_id: str  # what the Ack names
    envelope: bytes  # the GetResponseResponse / GetRequestResponse, built and signed once
    type_ns: str  # the (request's) business type, for MessageTypeSelector
    type_name: str
    kind: str
    request_id: str
    enqueued_at: datetime
    delivered_at: datetime | None = None
    deliveries: int = 0
    acked: bool = False


@dataclass(slots=True)
class _Record:
    """An accepted request and what became of it."""

    message_id: str
    sender: str
    recipient: str
    type_ns: str
    type_name: str
    digest: str
    accepted_at: datetime
    reply_to: str
    state: str = "queued"
    send_attempts: int = 1  # SendRequests carrying this id (duplicates included)
    answer_dropped: bool = False
    provider_deliveries: int = 0
    responses: list[str] = field(default_factory=list)
    content: bytes | None = None  # kept for the simulated bureau until it takes the request
    registration: str | None = None  # the simulated provider's number, given once per request


@dataclass(slots=True)
class _Stats:
    calls: Counter[str] = field(default_factory=Counter)
    accepted: int = 0
    responses_accepted: int = 0
    duplicates_refused: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    dropped_responses: int = 0
    slow_answers: int = 0
    deliveries: int = 0
    redeliveries: int = 0
    empty_polls: int = 0
    acks: int = 0
    acks_rejected: int = 0  # accepted="false"
    acks_unknown: int = 0
    lost_acks: int = 0
    async_rejections: int = 0
    provider_deliveries: int = 0
    enqueued: Counter[str] = field(default_factory=Counter)  # by kind: request, business, status, ...
    responses_recorded: int = 0  # responses to the simulated consumer (not queued)


class _Queue:
    def __init__(self) -> None:
        self.items: OrderedDict[str, _Queued] = OrderedDict()

    def __len__(self) -> int:
        return len(self.items)

    def next_visible(self, now: datetime, redelivery: timedelta, selector: m.MessageTypeSelector) -> _Queued | None:
        wanted = (selector.namespace_uri, selector.root_element_local_name)
        for item in self.items.values():
            if wanted[0] and wanted[1] and (item.type_ns, item.type_name) != wanted:
                continue
            if item.delivered_at is None or now >= item.delivered_at + redelivery:
                return item
        return None


class Smev3Twin:
    """State and behaviour of one simulated SMEV 3 node. Built by :func:`create_twin`."""

    def __init__(
        self,
        profile: FaultProfile,
        clock: Clock,
        *,
        seed: int | None = None,
        identity: Signer | tuple[PrivateKey, Certificate] | None = None,
        verifier: XmlVerifier | None = None,
        pinned: Certificate | None = None,
        version: str = "1.1",
        provider_namespaces: Mapping[str, str] | None = None,
        queue_quota: int | None = None,
        validate_xsd: bool | None = None,
        registered_senders: Iterable[str] | None = None,
        access: Mapping[str, Iterable[str]] | None = None,
        known_types: Iterable[str] | None = None,
        bureau_dir: Path | None = None,
        bureau_default: BureauProfile | None = None,
        addressed_registry_url: str | None = None,
    ) -> None:
        self.profile = profile
        self.profile_key = profile_key(profile.name, PROFILE_PREFIX)
        # Who SMEV knows (certificate common names; None: whoever signs validly), which business
        # namespaces a sender may send (a sender not named: any), which namespaces SMEV routes.
        self.registered_senders = frozenset(registered_senders) if registered_senders is not None else None
        self.access = {name: frozenset(spaces) for name, spaces in (access or {}).items()}
        self.known_types = frozenset(known_types) if known_types is not None else None
        self.attachment_bytes: Counter[str] = Counter()  # sender -> attachment bytes accepted
        self.clock = clock
        self.rng = random.Random(seed)
        if isinstance(identity, tuple):
            identity = Signer(*identity)
        self.codec = Smev3Codec(version, smev_signer=identity)
        self.verifier = verifier
        self.pinned = pinned
        # without a trust store, integrity and coverage are checked and (pinned) the certificate
        self._integrity_only = XmlVerifier()
        self.provider_namespaces = dict(provider_namespaces or {})
        self._queue_quota = queue_quota  # the caller's, over any profile's
        self.queue_quota = queue_quota if queue_quota is not None else profile.queue_quota
        self.validate_xsd = (version == "1.1") if validate_xsd is None else validate_xsd
        self.redelivery = timedelta(seconds=profile.redelivery_seconds)
        self.stats = _Stats()
        self.records: dict[str, _Record] = {}
        self.by_reply_to: dict[str, str] = {}
        self.incoming: dict[str, _Queue] = {}  # recipient -> requests (PROVIDER: waiting for the provider)
        self.responses: dict[str, _Queue] = {}  # sender -> responses
        self.statuses: dict[str, list[m.AsyncProcessingStatus]] = {}  # sender -> GetStatus messages
        self.ids: set[str] = set()  # every MessageID SMEV accepted (requests and responses)
        self.deliveries: Counter[str] = Counter()  # queued message id -> deliveries
        self.content_deliveries: Counter[str] = Counter()  # digest of business content -> provider takes
        self.where: dict[str, str] = {}  # queued message id -> "responses:<sender>" / "incoming:<recipient>"
        self._registration = itertools.count(1)
        self._schedule_queue: list[tuple[datetime, int, Callable[[], None]]] = []
        self._seq = itertools.count(1)
        # attachments: MTOM up to the limit, the file store above it (adapters/smev3/sandbox/filestore.py)
        self.filestore = FileStore()
        self.attachment_limit = DEFAULT_ATTACHMENT_THRESHOLD
        self.bureau: Bureau | None = None
        self._seed = seed
        self._bureau_dir = bureau_dir
        # An ЕАВИИАС instance keeps a bureau behind its twin under every profile (the plug-in
        # passes a punctual one for profiles that name none).
        self._bureau_default = bureau_default
        # The bureau also registers what it issues in the REMD twin, when the sandbox runs one.
        self.addressed: AddressedPublisher | None = (
            AddressedPublisher(addressed_registry_url) if addressed_registry_url else None
        )
        self._apply_bureau(profile.bureau or bureau_default)

    def _apply_bureau(self, wanted: BureauProfile | None) -> None:
        if wanted is None:
            # referrals the bureau already holds still run to their end: their steps are scheduled
            self.bureau = None
        elif self.bureau is not None:
            self.bureau.profile = wanted  # the cases it holds stay; what it draws next follows the new profile
        else:
            self.bureau = Bureau(
                wanted,
                self.clock,
                random.Random(f"bureau:{self._seed}"),
                schedule=self._schedule,
                send=self._bureau_sends,
                signers_dir=self._bureau_dir,
                publish=self.addressed.submit if self.addressed is not None else None,
            )

    def switch_profile(self, name: str) -> None:
        """Run under another fault profile from now on (the vendor page's switch): the draws of
        every request after this one follow it; what was accepted keeps what it drew."""
        profile = FaultProfile.load(name)
        self.profile = profile
        self.profile_key = profile_key(name, PROFILE_PREFIX)
        self.queue_quota = self._queue_quota if self._queue_quota is not None else profile.queue_quota
        self.redelivery = timedelta(seconds=profile.redelivery_seconds)
        self._apply_bureau(profile.bureau or self._bureau_default)

    # -- scheduling (on the injected clock) -----------------------------------------------------

    def _schedule(self, seconds: float, action: Callable[[], None]) -> None:
        due = self.clock.now() + timedelta(seconds=seconds)
        heapq.heappush(self._schedule_queue, (due, next(self._seq), action))

    def run_due(self, budget_seconds: float | None = None) -> int:
        """Run every scheduled action that is due — or, with ``budget_seconds``, those that fit in
        about that much time (the rest stay due for the next turn); how many ran."""
        ran = 0
        stop_at = None if budget_seconds is None else time.monotonic() + budget_seconds
        while self._schedule_queue and self._schedule_queue[0][0] <= self.clock.now():
            if stop_at is not None and ran and time.monotonic() >= stop_at:
                break
            _, _, action = heapq.heappop(self._schedule_queue)
            try:
                action()
            except Exception as exc:  # a twin bug must not stop the scheduler
                self.stats.faults["TWIN_INTERNAL_ERROR"] += 1
                _log.error("SMEV 3 twin: scheduled action failed", error=repr(exc)[:300])
            ran += 1
        return ran

    async def run_scheduler(self) -> None:
        while True:
            # Due actions in slices, the event loop between them: the simulated bureau's actions
            # sign documents (tens of ms each on a loaded machine), and a burst of them run in one
            # go left SMEV unanswered — GetResponse and Ack waited while the bureau signed
            # (docs/benchmarks.md, "Run 4").
            self.run_due(budget_seconds=SCHEDULER_SLICE_SECONDS)
            due = bool(self._schedule_queue) and self._schedule_queue[0][0] <= self.clock.now()
            await asyncio.sleep(0 if due else POLL_SECONDS)

    # -- HTTP ----------------------------------------------------------------------------------

    async def handle_service(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        parts: Mapping[str, memoryview] = {}
        if is_multipart(request.headers.get("Content-Type")):
            try:  # MTOM: the envelope is the root part, attachments the others
                raw, parts = unpack(request.headers["Content-Type"], raw)
            except MtomError as exc:
                fault = m.Fault("SOAP_CLIENT", f"{exc.code}: {exc}", faultcode="soap:Client")
                self.stats.faults[exc.code] += 1
                return web.Response(status=500, body=self.codec.fault(fault), content_type="text/xml", charset="utf-8")
        if self.profile.chance(self.rng, "slow_answer"):
            self.stats.slow_answers += 1
            await asyncio.sleep(self.profile.slow_answer_delay.draw(self.rng))
        try:
            body, drop = self._call(raw, parts)
        except _Refusal as refusal:
            fault = refusal.fault
            self.stats.faults[fault.subcode or fault.code] += 1
            return web.Response(status=500, body=self.codec.fault(fault), content_type="text/xml", charset="utf-8")
        except Exception as exc:  # a twin bug: a SOAP server fault, never a bare 500 page
            self.stats.faults["TWIN_INTERNAL_ERROR"] += 1
            _log.error("SMEV 3 twin: call failed", error=f"{type(exc).__name__}: {exc}"[:300])
            fault = m.Fault(code="SOAP_SERVER", message="sandbox twin internal error", faultcode="soap:Server")
            return web.Response(status=500, body=self.codec.fault(fault), content_type="text/xml", charset="utf-8")
        if drop:
            # accepted and enqueued, but the answer never reaches the client
            self.stats.dropped_responses += 1
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        return web.Response(status=200, body=body, content_type="text/xml", charset="utf-8")

    def _call(self, raw: bytes, parts: Mapping[str, memoryview] | None = None) -> tuple[bytes, bool]:
        try:
            env = soap11.parse_envelope(raw)
        except soap11.Soap11Error as exc:
            self.stats.calls["?"] += 1
            if exc.code in _ENVELOPE_ERRORS:
                raise _signature_fault("PoorSOAPEnvelopeFormat", str(exc)) from None
            raise _fault("SOAP_CLIENT", f"{exc.code}: {exc}") from None
        if env.fault is not None or env.payload is None:
            raise _fault("SOAP_CLIENT", "a SOAP fault is not a request")
        payload_name = etree.QName(env.payload).localname
        operation = _OPERATIONS.get(payload_name)
        self.stats.calls[operation or "?"] += 1
        if operation is None:
            raise _fault("SOAP_CLIENT", f"no SMEV 3 operation takes {payload_name}")
        if env.root.find(f"{{{_SOAP}}}Header") is None:
            raise _signature_fault("PoorSOAPEnvelopeFormat", "the envelope has no soap:Header")
        if self.profile.chance(self.rng, "smev_failure"):
            raise _fault("SMEVFailure", "Внутренняя ошибка СМЭВ (sandbox)", client=False)
        if self.validate_xsd:
            self._validate(env.payload)
        try:
            message = resolve(self.codec.parse(raw), raw, parts or {})
        except MtomError as exc:
            raise _fault("AttachmentContentMiscoordination", f"{exc.code}: {exc}") from None
        except Smev3FormatError as exc:
            raise _fault("InvalidContent", str(exc), description=str(exc), validation_errors=((0, str(exc)),)) from None
        caller = self._check_signature(raw, env.payload)
        if self.registered_senders is not None and caller not in self.registered_senders:
            # a valid signature of an information system SMEV has not registered (a renewed
            # certificate with another owner name is the usual case)
            raise _fault("SenderIsNotRegistered", f"отправитель {caller!r} не зарегистрирован в СМЭВ")
        now = self.clock.now()
        if isinstance(message, m.SendRequestRequest):
            return self._send_request(message, caller, raw, now)
        if isinstance(message, m.GetResponseRequest):
            empty = self.codec.get_response_response(m.GetResponseResponse())
            return self._get(self.responses.get(caller), message.selector, now, empty), False
        if isinstance(message, m.GetRequestRequest):
            empty = self.codec.get_request_response(m.GetRequestResponse())
            return self._get(self.incoming.get(caller), message.selector, now, empty), False
        if isinstance(message, m.AckRequest):
            return self._ack(message, caller), False
        if isinstance(message, m.GetStatusRequest):
            queue = self.statuses.get(caller)
            status = queue.pop(0) if queue else None
            return self.codec.get_status_response(m.GetStatusResponse(status)), False
        if isinstance(message, m.SendResponseRequest):
            return self._send_response(message, caller, now), False
        raise _fault("SOAP_CLIENT", f"{operation} is not served")  # pragma: no cover — _OPERATIONS

    def _validate(self, payload: etree._Element) -> None:
        schema = smev3_schema()
        candidate = copy.deepcopy(payload)
        for include in list(candidate.iter(f"{{{XOP_NS}}}Include")):
            # XOP: the infoset to validate has the part's base64 here; an empty value is as valid
            parent = include.getparent()
            assert parent is not None
            parent.remove(include)
        if schema.validate(etree.ElementTree(candidate)):
            return
        log: list[Any] = list(cast(Iterable[Any], schema.error_log))
        errors = tuple((int(e.line), str(e.message)[:300]) for e in log)[:10]
        text = "Сообщение не соответствует XSD СМЭВ 3 (1.1)"
        raise _fault("InvalidContent", text, description=text, validation_errors=errors)

    # -- signatures ----------------------------------------------------------------------------

    def _check_signature(self, raw: bytes, payload: etree._Element) -> str:
        """The caller's name (its certificate's common name) when its ЭП-ОВ is there and valid;
        else a SignatureVerificationFault with the reason."""
        holder = next((c for c in payload if isinstance(c.tag, str) and etree.QName(c).localname == _HOLDER), None)
        if holder is None or holder.find(f"{{{_DS}}}Signature") is None:
            raise _signature_fault("NoSignatureFound", "ЭП-ОВ (CallerInformationSystemSignature) не найдена")
        now = self.clock.now()
        verifier = self.verifier if self.verifier is not None and self.pinned is None else self._integrity_only
        verdicts = verify_incoming(raw, verifier, check_time=now).of(_HOLDER)
        if not verdicts:
            raise _signature_fault("SignatureIsInvalid", "ЭП-ОВ не читается")
        verdict = verdicts[0]
        if verdict.integrity != "valid":
            raise _signature_fault("SignatureIsInvalid", "ЭП-ОВ не соответствует подписанным данным")
        if not verdict.covers_target:
            raise _signature_fault("IncorrectSignatureTarget", "ЭП-ОВ подписывает не тот элемент")
        if self.pinned is not None:
            der = holder.findtext(f".//{{{_DS}}}X509Certificate") or ""
            try:
                presented = base64.b64decode("".join(der.split()))
            except ValueError:
                presented = b""
            if presented != self.pinned.der:
                raise _signature_fault("CertificateIsNotFound", "сертификат ЭП-ОВ не зарегистрирован в СМЭВ")
            if not self.pinned.valid_at(now):
                raise _signature_fault("CertificateIsExpired", "срок действия сертификата ЭП-ОВ истёк")
        elif self.verifier is not None and not verdict.valid:
            if verdict.chain == "expired":
                raise _signature_fault("CertificateIsExpired", "срок действия сертификата ЭП-ОВ истёк")
            if verdict.chain != "trusted":
                reason = f"сертификат ЭП-ОВ не зарегистрирован в СМЭВ ({verdict.chain})"
                raise _signature_fault("CertificateIsNotFound", reason)
            raise _signature_fault("SignatureIsInvalid", "; ".join(verdict.reasons)[:300] or "ЭП-ОВ неверна")
        return verdict.signer or "unknown"

    # -- message ids ---------------------------------------------------------------------------

    def _check_id(self, message_id: str, now: datetime) -> None:
        try:
            made = message_id_time(message_id)
        except MessageIdError as exc:
            raise _fault("InvalidMessageIdFormat", str(exc)) from None
        if made < now - timedelta(seconds=self.profile.stale_after_seconds):
            raise _fault("StaleMessageId", f"MessageID {message_id} устарел ({made.isoformat()})")
        if made > now + timedelta(seconds=self.profile.future_tolerance_seconds):
            raise _fault("StaleMessageId", f"MessageID {message_id} из будущего ({made.isoformat()})")
        if message_id in self.ids:
            self.stats.duplicates_refused += 1
            record = self.records.get(message_id)
            if record is not None:
                record.send_attempts += 1
            raise _fault("MessageIsAlreadySent", f"сообщение {message_id} уже принято")

    # -- consumer side -------------------------------------------------------------------------

    def _send_request(
        self, message: m.SendRequestRequest, caller: str, raw: bytes, now: datetime
    ) -> tuple[bytes, bool]:
        data = message.data
        self._check_id(data.message_id, now)
        if data.eol is not None and data.eol <= now:
            raise _fault("EndOfLifeReached", f"срок жизни сообщения истёк ({data.eol.isoformat()})", client=False)
        if data.attachment_headers or data.ref_attachment_headers or message.attachments:
            cms = (self.verifier or self._integrity_only).verifier
            refused = check_request_attachments(
                data,
                message.attachments,
                self.filestore,
                cms,
                inline_limit=self.attachment_limit,
                require_chain=self.verifier is not None and self.pinned is None,
            )
            if refused is not None:
                raise _Refusal(refused)
        root = parse_xml(data.content)
        qname = etree.QName(root)
        namespace = qname.namespace or ""
        if self.known_types is not None and namespace not in self.known_types:
            raise _fault(
                "BusinessDataTypeIsNotSupported",
                f"вид сведений {{{namespace}}}{qname.localname} не поддерживается",
                description="вид сведений не зарегистрирован в СМЭВ",
                details=(("RootElementLocalName", qname.localname), ("RootElementNamespaceURI", namespace)),
            )
        allowed = self.access.get(caller)
        if allowed is not None and namespace not in allowed:
            raise _fault("AccessDenied", f"у {caller!r} нет доступа к виду сведений {namespace}")
        size = self._check_attachments(data, message.attachments, caller)
        self._forced_fault(qname, size)
        recipient = self.provider_namespaces.get(namespace, PROVIDER)
        queue = self.incoming.setdefault(recipient, _Queue())
        if len(queue) >= self.queue_quota:
            text = f"входящая очередь {recipient} переполнена ({len(queue)} сообщений)"
            raise _fault(
                "DestinationOverflow",
                text,
                client=False,
                description=text,
                details=(("MessageBrokerAddress", BROKER), ("DestinationName", recipient)),
            )
        record = self._accept(data, caller, recipient, namespace, qname.localname, now)
        self.attachment_bytes[caller] += size
        if self.bureau is not None and self.bureau.takes(record.type_ns, record.type_name):
            record.content = data.content
        if self.profile.chance(self.rng, "async_rejection"):
            record.state = "waiting-async-rejection"
            self._schedule(self.profile.async_rejection_delay.draw(self.rng), lambda: self._reject_async(record))
        elif recipient == PROVIDER:
            self._enqueue_for_provider(record)
        else:
            sender_signature = _caller_signature(raw)
            self._enqueue_request(record, data, message.attachments, sender_signature)
        metadata = self._metadata(
            "REQUEST", data.message_id, caller, recipient, now, m.InteractionStatus.REQUEST_IS_QUEUED
        )
        drop = self.profile.chance(self.rng, "dropped_response")
        record.answer_dropped = drop
        return self.codec.send_request_response(m.SendRequestResponse(metadata)), drop

    def _check_attachments(
        self, data: m.SenderProvidedRequestData, attachments: tuple[m.AttachmentContent, ...], caller: str
    ) -> int:
        """The message's attachments as SMEV checks them; their size in bytes."""
        headers = sorted(h.content_id for h in data.attachment_headers)
        if headers != sorted(a.id for a in attachments):
            raise _fault(
                "AttachmentContentMiscoordination",
                f"заголовки вложений {headers} не соответствуют вложениям {sorted(a.id for a in attachments)}",
            )
        size = sum(len(a.content) for a in attachments)
        limit = self.profile.attachment_size_limit_bytes
        if size > limit:
            raise _fault(
                "AttachmentSizeLimitExceeded",
                f"вложения {size} байт, допустимо {limit}",
                description="превышен допустимый размер вложений",
                details=(("PermittedTotalAttachmentSize", str(limit)), ("RealTotalAttachmentSize", str(size))),
            )
        remained = max(0, self.profile.attachment_quota_bytes - self.attachment_bytes[caller])
        if size > remained:
            raise _fault(
                "QuoteLimitExceeded",
                f"квота вложений {caller!r} исчерпана: осталось {remained} байт, нужно {size}",
                description="исчерпана квота на вложения",
                details=(("RemainedTotalQuoteSize", str(remained)), ("RealTotalAttachmentSize", str(size))),
            )
        return size

    def _forced_fault(self, qname: etree.QName, size: int) -> None:
        """The profile's ``send_faults`` draw: one fault, with the details its XSD type wants."""
        for code, p in self.profile.send_faults.items():
            if not (p > 0 and self.rng.random() < p):
                continue
            text = f"{code} (sandbox: профиль отказов)"
            if code in SIGNATURE_REASONS or code == "SignatureVerificationFault":
                reason = code if code in SIGNATURE_REASONS else "SignatureIsInvalid"
                raise _signature_fault(reason, text)
            extra: dict[str, Any] = {}
            if code not in VOID_FAULTS:
                extra["description"] = text
            if code == "InvalidContent":
                extra["validation_errors"] = ((1, "содержимое не соответствует схеме вида сведений (sandbox)"),)
            elif code == "BusinessDataTypeIsNotSupported":
                extra["details"] = (
                    ("RootElementLocalName", qname.localname),
                    ("RootElementNamespaceURI", qname.namespace or ""),
                )
            elif code == "AttachmentSizeLimitExceeded":
                permitted = str(self.profile.attachment_size_limit_bytes)
                extra["details"] = (("PermittedTotalAttachmentSize", permitted), ("RealTotalAttachmentSize", str(size)))
            elif code == "QuoteLimitExceeded":
                extra["details"] = (("RemainedTotalQuoteSize", "0"), ("RealTotalAttachmentSize", str(size)))
            elif code == "DestinationOverflow":
                extra["details"] = (("MessageBrokerAddress", BROKER), ("DestinationName", PROVIDER))
            raise _fault(code, text, client=code not in _SERVER_FAULTS, **extra)

    def _accept(
        self,
        data: m.SenderProvidedRequestData,
        sender: str,
        recipient: str,
        type_ns: str,
        type_name: str,
        now: datetime,
    ) -> _Record:
        record = _Record(
            message_id=data.message_id,
            sender=sender,
            recipient=recipient,
            type_ns=type_ns,
            type_name=type_name,
            digest=hashlib.sha256(data.content).hexdigest(),
            accepted_at=now,
            reply_to=f"sandbox-reply-to:{data.message_id}",
        )
        self.ids.add(data.message_id)
        self.records[data.message_id] = record
        self.by_reply_to[record.reply_to] = data.message_id
        self.stats.accepted += 1
        return record

    def _metadata(
        self, kind: str, message_id: str, sender: str, recipient: str, now: datetime, status: str
    ) -> m.MessageMetadata:
        return m.MessageMetadata(
            message_type=kind,
            sender=m.Party(sender[:100] or "unknown", sender or "unknown"),
            sending_timestamp=now,
            destination_name=recipient,
            interaction_type="OIV2OIV",
            message_id=message_id,
            message_broker=BROKER,
            recipient=m.Party(recipient[:100], recipient),
            delivery_timestamp=now,
            status=str(status),
        )

    def _enqueue_for_provider(self, record: _Record) -> None:
        """The request waits in the simulated provider's incoming queue until it takes it."""
        queue = self.incoming.setdefault(PROVIDER, _Queue())
        queue.items[record.message_id] = _Queued(
            record.message_id, b"", record.type_ns, record.type_name, "request", record.message_id, record.accepted_at
        )
        self._schedule(self.profile.provider_delay.draw(self.rng), lambda: self._provider_takes(record))

    def _enqueue_request(
        self,
        record: _Record,
        data: m.SenderProvidedRequestData,
        attachments: tuple[m.AttachmentContent, ...],
        sender_signature: bytes | None,
    ) -> None:
        now = self.clock.now()
        metadata = self._metadata(
            "REQUEST", record.message_id, record.sender, record.recipient, now, m.InteractionStatus.UNDER_PROCESSING
        )
        request = m.Request(data, metadata, record.reply_to, sender_signature=sender_signature)
        envelope = self.codec.get_request_response(m.GetRequestResponse(request=request, attachments=attachments))
        item = _Queued(record.message_id, envelope, record.type_ns, record.type_name, "request", record.message_id, now)
        self._put(self.incoming.setdefault(record.recipient, _Queue()), f"incoming:{record.recipient}", item)

    def _put(self, queue: _Queue, where: str, item: _Queued) -> None:
        queue.items[item.message_id] = item
        self.where[item.message_id] = where
        self.stats.enqueued[item.kind] += 1

    def _respond(self, record: _Record, data: m.SenderProvidedResponseData, provider: str) -> None:
        """A response to ``record`` in its sender's response queue (or, for an injected request,
        only recorded)."""
        record.responses.append(data.message_id)
        kind = str(data.kind)
        if record.sender == SIMULATED_CONSUMER:
            self.stats.responses_recorded += 1
            return
        now = self.clock.now()
        status = m.InteractionStatus.RESPONSE_IS_DELIVERED
        if data.kind is m.ResponseKind.ASYNC_STATUS:
            status = m.InteractionStatus.REQUEST_IS_REJECTED_BY_SMEV
        metadata = self._metadata("RESPONSE", data.message_id, provider, record.sender, now, status)
        response = m.Response(
            data, metadata, original_message_id=record.message_id, reference_message_id=record.message_id
        )
        envelope = self.codec.get_response_response(m.GetResponseResponse(response))
        item = _Queued(data.message_id, envelope, record.type_ns, record.type_name, kind, record.message_id, now)
        self._put(self.responses.setdefault(record.sender, _Queue()), f"responses:{record.sender}", item)

    def _reject_async(self, record: _Record) -> None:
        record.state = "rejected-by-smev"
        self.stats.async_rejections += 1
        status = m.AsyncProcessingStatus(
            original_message_id=record.message_id,
            category=m.InteractionStatus.REQUEST_IS_REJECTED_BY_SMEV.value,
            details="Запрос отклонён СМЭВ после приёма (sandbox)",
            fault_code="SMEV-100",
            fault_description="Маршрут для вида сведений не найден (sandbox)",
            has_fault=True,
        )
        self.statuses.setdefault(record.sender, []).append(status)
        del self.statuses[record.sender][:-1000]  # GetStatus keeps the newest 1,000
        data = m.SenderProvidedResponseData(new_message_id(self.clock.now()), record.reply_to, async_status=status)
        self._respond(record, data, "SMEV")

    # -- the simulated provider ----------------------------------------------------------------

    def _provider_takes(self, record: _Record) -> None:
        queue = self.incoming.get(PROVIDER)
        if queue is not None:
            queue.items.pop(record.message_id, None)
        record.provider_deliveries += 1
        self.content_deliveries[record.digest] += 1
        self.stats.provider_deliveries += 1
        record.state = "at-provider"
        if self.bureau is not None and record.content is not None:
            content, record.content = record.content, None
            record.state = "at-bureau"
            self.bureau.take(record.message_id, content)
            return
        if self.profile.chance(self.rng, "provider_status"):
            delay = 0.0
            for n in range(1, self.profile.status_count + 1):
                self._schedule(delay, lambda n=n: self._provider_status(record, n))  # type: ignore[misc]
                delay += self.profile.status_interval.draw(self.rng)
            self._schedule(delay, lambda: self._provider_answer(record))
        else:
            self._provider_answer(record)

    def _bureau_sends(self, message_id: str, content: bytes) -> None:
        """A notice of the simulated bureau about the request ``message_id``."""
        record = self.records[message_id]
        data = m.SenderProvidedResponseData(new_message_id(self.clock.now()), record.reply_to, content=content)
        self._respond(record, data, PROVIDER)

    def _registration_of(self, record: _Record) -> str:
        """The request's registration number at the simulated provider: the same in every status
        and in the answer."""
        if record.registration is None:
            record.registration = f"SBX-{next(self._registration):08d}"
        return record.registration

    def _provider_status(self, record: _Record, n: int) -> None:
        registration = self._registration_of(record)
        status = m.RequestStatus(
            100 + n,
            "Зарегистрировано в бюро МСЭ" if n == 1 else f"На рассмотрении (этап {n})",
            (("registrationNumber", registration), ("stage", str(n))),
        )
        data = m.SenderProvidedResponseData(new_message_id(self.clock.now()), record.reply_to, status=status)
        self._respond(record, data, PROVIDER)

    def _provider_answer(self, record: _Record) -> None:
        message_id = new_message_id(self.clock.now())
        if self.profile.chance(self.rng, "provider_rejection"):
            record.state = "rejected-by-provider"
            rejection = m.RequestRejected("NO_DATA", "Сведения не найдены (sandbox)")
            data = m.SenderProvidedResponseData(message_id, record.reply_to, rejections=(rejection,))
        else:
            record.state = "answered"
            data = m.SenderProvidedResponseData(message_id, record.reply_to, content=self._answer(record))
        self._respond(record, data, PROVIDER)

    def _answer(self, record: _Record) -> bytes:
        """The business answer: ``<{record's root}Response>`` in the sandbox namespace with a
        registration number."""
        root = etree.Element(f"{{{ANSWER_NAMESPACE}}}{record.type_name}Response", nsmap={"sbx": ANSWER_NAMESPACE})
        root.set("requestNamespace", record.type_ns)
        etree.SubElement(root, f"{{{ANSWER_NAMESPACE}}}RequestMessageID").text = record.message_id
        etree.SubElement(root, f"{{{ANSWER_NAMESPACE}}}RegistrationNumber").text = self._registration_of(record)
        return etree.tostring(root, encoding="UTF-8")

    # -- queues --------------------------------------------------------------------------------

    def _get(
        self,
        queue: _Queue | None,
        selector: m.MessageTypeSelector,
        now: datetime,
        empty: bytes,
    ) -> bytes:
        item = queue.next_visible(now, self.redelivery, selector) if queue is not None else None
        if item is None:
            self.stats.empty_polls += 1
            return empty
        item.deliveries += 1
        item.delivered_at = now
        self.deliveries[item.message_id] += 1
        self.stats.deliveries += 1
        if item.deliveries > 1:
            self.stats.redeliveries += 1
        return item.envelope

    def _ack(self, message: m.AckRequest, caller: str) -> bytes:
        target = message.message_id
        for queue in (self.responses.get(caller), self.incoming.get(caller)):
            if queue is not None and target in queue.items:
                item = queue.items[target]
                if item.delivered_at is None:
                    break  # not delivered yet: nothing to acknowledge
                if self.profile.chance(self.rng, "lost_ack"):
                    self.stats.lost_acks += 1
                    return self.codec.ack_response()
                del queue.items[target]
                item.acked = True
                self.stats.acks += 1
                if not message.accepted:
                    self.stats.acks_rejected += 1
                return self.codec.ack_response()
        self.stats.acks_unknown += 1
        raise _fault("TargetMessageIsNotFound", f"сообщение {target} не найдено в очереди")

    # -- provider side -------------------------------------------------------------------------

    def _send_response(self, message: m.SendResponseRequest, caller: str, now: datetime) -> bytes:
        data = message.data
        request_id = self.by_reply_to.get(data.to)
        record = self.records.get(request_id) if request_id else None
        if record is None or record.recipient != caller:
            raise _fault("RequestIsNotFound", f"запрос для ответа {data.to!r} не найден")
        self._check_id(data.message_id, now)
        self.ids.add(data.message_id)
        self.stats.responses_accepted += 1
        record.state = "answered" if data.kind is not m.ResponseKind.STATUS else record.state
        self._respond(record, data, caller)
        metadata = self._metadata(
            "RESPONSE", data.message_id, caller, record.sender, now, m.InteractionStatus.RESPONSE_IS_ACCEPTED_BY_SMEV
        )
        return self.codec.send_response_response(m.SendResponseResponse(metadata))

    def inject_request(self, content: bytes, recipient: str) -> str:
        """A request from the simulated consumer to ``recipient`` (an information system taking
        requests with GetRequest); its responses are recorded, not queued. Returns its MessageID."""
        message_id = new_message_id(self.clock.now())
        root = etree.QName(parse_xml(content))
        data = m.SenderProvidedRequestData(message_id, content)
        record = self._accept(
            data, SIMULATED_CONSUMER, recipient, root.namespace or "", root.localname, self.clock.now()
        )
        self._enqueue_request(record, data, (), None)
        return message_id

    # -- observability -------------------------------------------------------------------------

    def unacked(self) -> dict[str, int]:
        """Messages waiting in each queue (the simulated provider's: requests it has not taken)."""
        sizes = {f"incoming:{name}": len(q) for name, q in self.incoming.items() if len(q)}
        sizes.update({f"responses:{name}": len(q) for name, q in self.responses.items() if len(q)})
        return sizes

    def stats_json(self) -> dict[str, Any]:
        s = self.stats
        twice = sorted(r.message_id for r in self.records.values() if r.provider_deliveries > 1)
        content_twice = sum(1 for n in self.content_deliveries.values() if n > 1)
        queues = self.unacked()
        return {
            "profile": self.profile.name,
            "calls": dict(sorted(s.calls.items())),
            "accepted": s.accepted,
            "responses_accepted": s.responses_accepted,
            "duplicates_refused": s.duplicates_refused,
            "faults": dict(sorted(s.faults.items())),
            "dropped_responses": s.dropped_responses,
            "slow_answers": s.slow_answers,
            "deliveries": s.deliveries,
            "redeliveries": s.redeliveries,
            "empty_polls": s.empty_polls,
            "acks": s.acks,
            "acks_rejected": s.acks_rejected,
            "acks_unknown": s.acks_unknown,
            "lost_acks": s.lost_acks,
            "async_rejections": s.async_rejections,
            "enqueued": dict(sorted(s.enqueued.items())),
            "responses_recorded": s.responses_recorded,
            "unacked": sum(n for name, n in queues.items() if not name.startswith(f"incoming:{PROVIDER}")),
            "waiting_for_provider": len(self.incoming.get(PROVIDER, ())),
            "queues": queues,
            "provider_deliveries": s.provider_deliveries,
            "delivered_twice_to_provider": len(twice),
            "same_content_delivered_twice_to_provider": content_twice,
            "deliveries_per_message": dict(self.deliveries),
            "filestore": self.filestore.stats(),
            "scheduled": len(self._schedule_queue),
            "bureau": self.bureau.stats_json() if self.bureau is not None else None,
            "addressed": self.addressed.stats() if self.addressed is not None else None,
        }

    def message_json(self, message_id: str) -> dict[str, Any] | None:
        record = self.records.get(message_id)
        if record is not None:
            return {
                "message_id": record.message_id,
                "kind": "request",
                "sender": record.sender,
                "recipient": record.recipient,
                "type": {"namespace": record.type_ns, "root": record.type_name},
                "accepted_at": record.accepted_at.isoformat(),
                "state": record.state,
                "send_attempts": record.send_attempts,
                "answer_dropped": record.answer_dropped,
                "provider_deliveries": record.provider_deliveries,
                "deliveries": self.deliveries.get(message_id, 0),
                "responses": [
                    {"message_id": r, "deliveries": self.deliveries.get(r, 0), "queue": self.where.get(r)}
                    for r in record.responses
                ],
            }
        where = self.where.get(message_id)
        if where is None:
            return None
        kind, _, name = where.partition(":")
        queue = (self.responses if kind == "responses" else self.incoming).get(name)
        item = queue.items.get(message_id) if queue is not None else None
        return {
            "message_id": message_id,
            "kind": "queued",
            "queue": where,
            "acked": item is None,
            "deliveries": self.deliveries.get(message_id, 0),
            "response_kind": item.kind if item is not None else None,
            "request": item.request_id if item is not None else None,
        }

    async def handle_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats_json())

    async def handle_message(self, request: web.Request) -> web.Response:
        found = self.message_json(request.match_info["message_id"])
        if found is None:
            return web.json_response({"error": {"code": "NOT_FOUND", "message": "no such MessageID"}}, status=404)
        return web.json_response(found)


def _caller_signature(raw: bytes) -> bytes | None:
    """The sender's ЭП-ОВ, forwarded to the provider as SenderInformationSystemSignature."""
    env = soap11.parse_envelope(raw)
    assert env.payload is not None
    signature = env.payload.find(f".//{{*}}{_HOLDER}/{{{_DS}}}Signature")
    if signature is None:
        return None
    alone = copy.deepcopy(signature)
    alone.tail = None
    return etree.tostring(alone, encoding="UTF-8")


TWIN_KEY: Final = web.AppKey("smev3_twin", Smev3Twin)


def create_twin(
    profile: FaultProfile | str,
    clock: Clock,
    *,
    seed: int | None = None,
    identity: Signer | tuple[PrivateKey, Certificate] | None = None,
    verifier: XmlVerifier | None = None,
    pinned: Certificate | None = None,
    path: str = SERVICE_PATH,
    version: str = "1.1",
    provider_namespaces: Mapping[str, str] | None = None,
    queue_quota: int | None = None,
    registered_senders: Iterable[str] | None = None,
    access: Mapping[str, Iterable[str]] | None = None,
    known_types: Iterable[str] | None = None,
    bureau_dir: Path | None = None,
    bureau_default: BureauProfile | None = None,
    addressed_registry_url: str | None = None,
) -> web.Application:
    """An aiohttp application simulating SMEV 3: ``POST <path>`` and ``POST /`` (every operation),
    ``GET /_sandbox/stats``, ``GET /_sandbox/messages/{message_id}``.

    ``profile``: a :class:`FaultProfile` or its name/path. ``identity`` (a Signer, or
    ``(TwinContext.key, TwinContext.certificate)``) signs what the twin puts in queues and its
    answers (ЭП-СМЭВ); without it they are unsigned. The callers' ЭП-ОВ is checked against the
    one ``pinned`` certificate when given (the instance's signing_certificate_file), else with
    ``verifier`` (its trust store: the sandbox test PKI); with neither, integrity and coverage
    only. ``seed`` makes the fault draws reproducible. ``provider_namespaces`` maps a
    business namespace to the information system (its certificate's common name) that takes such
    requests with GetRequest; others go to the simulated provider. ``queue_quota`` overrides the
    profile's. ``registered_senders`` (certificate common names) makes any other validly signed
    caller SenderIsNotRegistered; ``access`` (caller → business namespaces) makes a request of
    another namespace AccessDenied; ``known_types`` (business namespaces) makes a request of
    another BusinessDataTypeIsNotSupported. A profile with a ``[bureau]`` puts a simulated ФГИС ЕАВИИАС behind the node
    (:mod:`adapters.smev3.sandbox.bureau`); ``bureau_dir`` holds its test PKI (the signers of its
    result and return documents; without it the notices carry no document).
    ``addressed_registry_url``: the bureau also registers each of those documents there (the
    sandbox REMD twin's registry of documents addressed to MOs, adapters/smev3/sandbox/addressed.py).
    """
    if not isinstance(profile, FaultProfile):
        profile = FaultProfile.load(profile)
    twin = Smev3Twin(
        profile,
        clock,
        seed=seed,
        identity=identity,
        verifier=verifier,
        pinned=pinned,
        version=version,
        provider_namespaces=provider_namespaces,
        queue_quota=queue_quota,
        registered_senders=registered_senders,
        access=access,
        known_types=known_types,
        bureau_dir=bureau_dir,
        bureau_default=bureau_default,
        addressed_registry_url=addressed_registry_url,
    )
    app = web.Application(client_max_size=DEFAULT_MAX_BYTES)
    app[TWIN_KEY] = twin
    app.router.add_post(path, twin.handle_service)
    if path != "/":
        # The sandbox points an instance's url at the twin's base URL (``plan_twins``): the
        # service answers there too.
        app.router.add_post("/", twin.handle_service)
    twin.filestore.add_routes(app)
    app.router.add_get("/_sandbox/stats", twin.handle_stats)
    app.router.add_get("/_sandbox/messages/{message_id}", twin.handle_message)
    add_profile_route(app, what="smev3", current=lambda: twin.profile_key, switch=twin.switch_profile)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        if twin.addressed is not None:
            await twin.addressed.start()
        scheduler = asyncio.create_task(twin.run_scheduler())
        _log.info("SMEV 3 twin started", profile=profile.name, path=path)
        try:
            yield
        finally:
            scheduler.cancel()
            await asyncio.gather(scheduler, return_exceptions=True)
            if twin.addressed is not None:
                await twin.addressed.stop()

    app.cleanup_ctx.append(lifecycle)
    return app
