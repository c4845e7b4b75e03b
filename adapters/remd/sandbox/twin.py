"""The REMD sandbox twin: a simulated REMD EGISZ speaking the same SOAP, with fault injection.

It validates every request against the reconstructed XSD (so the gateway's client is held to the
WSDL), enforces NOT_UNIQUE_PROVIDED_ID per (organisation, localUid), optionally pulls documents
with getDocumentFile, registers, and sends registerDocumentResult callbacks to each request's
ReplyTo — on the injected clock, so with a fast simulated clock days of REMD behaviour pass in
seconds. What it did is visible at ``GET /_sandbox/stats`` and ``GET /_sandbox/registrations/{uid}``.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import heapq
import itertools
import random
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Final

import aiohttp
from aiohttp import web
from lxml import etree

from adapters.remd import codec
from adapters.remd.mapping import build_register_document_result_envelope, canonical_from_request
from adapters.remd.messages import (
    DocumentFile,
    DocumentRegisteredNotification,
    GetDocumentFileRequest,
    GetDocumentFileResponse,
    RegisterDocumentRequest,
    RegisterDocumentResult,
    RegistryItem,
    RegistryMatch,
    SearchRegistryItemResponse,
    StatusResponse,
    checksum,
)
from adapters.remd.sandbox.addressed import AddressedDocument, AddressedRegistry
from adapters.remd.sandbox.profile import Fate, FaultProfile, SyncFault
from adapters.remd.soap import (
    Addressing,
    Envelope,
    EnvelopeError,
    SoapFault,
    build_envelope,
    child_text,
    parse_envelope,
)
from adapters.remd.webutil import fault_response, read_body, soap_response
from adapters.remd.wsdl import service_schema
from gateway.common.clock import Clock
from gateway.common.logs import get_logger
from gateway.common.pii import normalise_person_id
from gateway.common.twin_profile import add_profile_route
from gateway.documents.kinds import validity_problem
from gateway.errors import GatewayError
from gateway.intake.submission import CanonicalSubmission, parse_submission
from gateway.signatures.certificates import Certificate
from gateway.signatures.keys import PrivateKey
from gateway.signatures.xml.soap_body import sign_soap_body
from gateway.wire.safexml import DEFAULT_MAX_BYTES
from gateway.wire.transport import TransportError, post_soap

__all__ = [
    "NOT_UNIQUE_MESSAGE",
    "RATE_LIMIT_MESSAGE",
    "TIMEOUT_MESSAGE",
    "TWIN_KEY",
    "Registration",
    "RemdTwin",
    "Verifier",
    "create_twin",
]

TIMEOUT_MESSAGE: Final = "Не удалось зарегистрировать документ за отведенное время"
RATE_LIMIT_MESSAGE: Final = "Достигнут защитный лимит, просьба повторить через минуту или позже"
NOT_UNIQUE_MESSAGE: Final = "Документ с указанным идентификатором (в РМИС/МИС) уже зарегистрирован"
POLL_SECONDS: Final = 0.02
SERVICE_PATH: Final = "/remd/service"

Verifier = Callable[[CanonicalSubmission], Awaitable[Sequence[tuple[str, str]]]]
"""Checks signatures/roles of a registered document's canonical form; returns REMD error codes
(e.g. SIGNATURE_VERIFICATION_ERROR, POSITION_TO_ROLE_MISMATCH) or nothing."""

_log: Final = get_logger(__name__)
Key = tuple[str, str]  # (organisation, lower-case localUid)


@dataclass(frozen=True, slots=True)
class Registration:
    local_uid: str
    organization: str
    kind: str
    emdr_id: str
    registered_at: datetime
    created_at: datetime
    patient_snils: str | None
    message_id: str
    document_sha256: str


@dataclass(slots=True)
class _Job:
    request: RegisterDocumentRequest
    message_id: str
    reply_to: str | None
    client_entity_id: str
    accepted_at: datetime
    fate: Fate
    late_delay: float


@dataclass(slots=True)
class _Stats:
    requests: int = 0
    register_requests: int = 0
    search_requests: int = 0
    accepted: int = 0
    registrations: int = 0
    duplicates_at_peer: int = 0
    callbacks_sent: int = 0
    callbacks_late: int = 0
    callbacks_lost: int = 0
    callbacks_failed: int = 0
    document_pulls: int = 0
    slow_answers: int = 0
    errors: Counter[str] = field(default_factory=Counter)


class RemdTwin:
    """State and behaviour of one simulated REMD. Built by :func:`create_twin`."""

    def __init__(
        self,
        profile: FaultProfile,
        clock: Clock,
        *,
        session: aiohttp.ClientSession | None = None,
        verifier: Verifier | None = None,
        seed: int | None = None,
        pull_url: str | None = None,
        callback_timeout: float = 10.0,
        identity: tuple[PrivateKey, Certificate] | None = None,
    ) -> None:
        self.identity = identity
        self.profile = profile
        self.clock = clock
        self.session = session
        self.verifier = verifier
        self.rng = random.Random(seed)
        self.seed = seed
        self.calls_by_key: Counter[str] = Counter()  # draw key -> calls so far (see _draws)
        self.pull_url = pull_url
        self.callback_timeout = callback_timeout
        self.stats = _Stats()
        self.registrations: dict[Key, Registration] = {}
        self.history: list[Registration] = []
        self.requests_by_uid: Counter[str] = Counter()
        self._processing: set[Key] = set()
        self._documents: dict[tuple[str, str], str] = {}  # (organisation, sha256) -> localUid
        self._queue: list[tuple[datetime, int, Callable[[], Awaitable[None]]]] = []
        self._seq = itertools.count(1)
        self._emdr_seq = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        # Documents other systems registered for an MO (discovered with searchBy=recipient).
        self.addressed = AddressedRegistry(clock, lambda doc, url: self._spawn(self._notify_addressed(doc, url)))
        self.notifications_sent = 0

    def _signed(self, envelope: bytes) -> bytes:
        """What the twin sends the gateway, signed with its identity when it has one (the
        sandbox pins the twin's certificate, so peer authentication is exercised)."""
        if self.identity is None:
            return envelope
        key, cert = self.identity
        return sign_soap_body(envelope, key, cert)

    # -- scheduling ------------------------------------------------------------------------------

    def _schedule(self, due: datetime, action: Callable[[], Awaitable[None]]) -> None:
        heapq.heappush(self._queue, (due, next(self._seq), action))

    def _spawn(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._error("TWIN_INTERNAL_ERROR")
            _log.error("REMD twin: scheduled action failed", error=repr(task.exception())[:300])

    async def run_scheduler(self) -> None:
        """Fire due actions; polls the (possibly simulated) clock every POLL_SECONDS real time."""
        while True:
            now = self.clock.now()
            while self._queue and self._queue[0][0] <= now:
                _, _, action = heapq.heappop(self._queue)
                self._spawn(action())
            await asyncio.sleep(POLL_SECONDS)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def stats_json(self) -> dict[str, Any]:
        s = self.stats
        return {
            "profile": self.profile.name,
            "requests": s.requests,
            "register_requests": s.register_requests,
            "search_requests": s.search_requests,
            "accepted": s.accepted,
            "registrations": s.registrations,
            "duplicates_at_peer": s.duplicates_at_peer,
            "callbacks_sent": s.callbacks_sent,
            "callbacks_late": s.callbacks_late,
            "callbacks_lost": s.callbacks_lost,
            "callbacks_failed": s.callbacks_failed,
            "document_pulls": s.document_pulls,
            "addressed_documents": len(self.addressed.documents),
            "addressed_searches": self.addressed.searches,
            "addressed_file_requests": self.addressed.file_requests,
            "addressed_notifications_sent": self.notifications_sent,
            "slow_answers": s.slow_answers,
            "processing": len(self._processing),
            "scheduled": len(self._queue),
            "errors": dict(sorted(s.errors.items())),
        }

    # -- HTTP ------------------------------------------------------------------------------------

    def _error(self, code: str) -> None:
        self.stats.errors[code] += 1

    async def handle_service(self, request: web.Request) -> web.StreamResponse:
        self.stats.requests += 1
        try:
            raw = await read_body(request, DEFAULT_MAX_BYTES)
            env = parse_envelope(raw)
        except EnvelopeError as exc:
            self._error(exc.code)
            return fault_response(exc)
        if env.operation not in {"registerDocumentRequest", "searchRegistryItemRequest", "getDocumentFileRequest"}:
            self._error("UNKNOWN_OPERATION")
            return fault_response(
                SoapFault("Sender", f"unknown operation {env.operation!r}", subcode="UNKNOWN_OPERATION")
            )
        if env.client_entity_id is None:
            self._error("NO_RMIS")
            message = "РМИС/МИС не зарегистрирована в РЭМД: нет clientEntityId"
            return fault_response(SoapFault("Sender", message, subcode="NO_RMIS", errors=(("NO_RMIS", message),)))
        rng = self._draws(env)
        sync_fault = self.profile.draw_sync_fault(rng)
        slow = self.profile.draw_slow(rng)
        if sync_fault is SyncFault.HTTP_5XX:
            status = self.profile.http_5xx_status
            self._error(f"HTTP_{status}")
            return web.Response(
                status=status, text="<html><body>Service Unavailable</body></html>", content_type="text/html"
            )
        if slow > 0:
            self.stats.slow_answers += 1
            await asyncio.sleep(slow)
        invalid = self._validate(env)
        if invalid is not None:
            self._error("VALIDATION_ERROR")
            return fault_response(
                SoapFault("Sender", invalid, subcode="SCHEMA_INVALID", errors=(("VALIDATION_ERROR", invalid),)),
                relates_to=env.addressing.message_id,
            )
        if env.operation == "searchRegistryItemRequest":
            # Searches for documents addressed to an MO (inbound discovery) are counted apart, so
            # the reconciliation figures stay what they were.
            if env.body is not None and child_text(env.body, "searchBy") == "recipient":
                self.addressed.searches += 1
            else:
                self.stats.search_requests += 1
            if sync_fault is SyncFault.RATE_LIMIT:
                self._error("RATE_LIMIT")
                body = codec.build_search_response(
                    SearchRegistryItemResponse(False, errors=(("RATE_LIMIT", RATE_LIMIT_MESSAGE),))
                )
                return soap_response(body, action="searchRegistryItemResponse", relates_to=env.addressing.message_id)
            return self._search(env)
        if env.operation == "getDocumentFileRequest":
            return self._file(env)
        self.stats.register_requests += 1
        if sync_fault is SyncFault.RATE_LIMIT:
            return self._refuse(env, "RATE_LIMIT", RATE_LIMIT_MESSAGE)
        return self._register(env, rng)

    def _draws(self, env: Envelope) -> random.Random:
        """The generator for one call's fault draws. Seeded (``simulate``), each call draws from
        its own generator keyed by the seed, what the call is about (the document's localUid; a
        search's organisation, kind and patient) and how many such calls came before: a document
        meets the same faults whatever order concurrent submissions reach the twin in, so two runs
        with one seed agree (docs/remd.md). Unseeded (the sandbox), one stream for all calls."""
        if self.seed is None or env.body is None:
            return self.rng
        body = env.body
        subject = "|".join(
            child_text(body, name) or ""
            for name in ("localUid", "searchBy", "organization", "kind", "patientSnils", "emdrId")
        )
        key = f"{env.operation}:{subject.lower()}"
        self.calls_by_key[key] += 1
        return random.Random(f"{self.seed}:{key}:{self.calls_by_key[key]}")

    def _validate(self, env: Envelope) -> str | None:
        assert env.body is not None
        try:
            service_schema().assertValid(etree.ElementTree(copy.deepcopy(env.body)))
        except etree.DocumentInvalid as exc:
            return f"XSD: {exc}"[:500]
        return None

    def _refuse(self, env: Envelope, code: str, message: str) -> web.Response:
        self._error(code)
        body = codec.build_register_document_response(StatusResponse(False, ((code, message),)))
        return soap_response(body, action="registerDocumentResponse", relates_to=env.addressing.message_id)

    def _register(self, env: Envelope, rng: random.Random) -> web.Response:
        assert env.body is not None and env.client_entity_id is not None
        try:
            req = codec.parse_register_document_request(env.body)
        except codec.MessageError as exc:
            return self._refuse(env, "VALIDATION_ERROR", exc.message)
        if not env.addressing.message_id:
            return self._refuse(env, "WRONG_MESSAGE_ID", "нет wsa:MessageID")
        self.requests_by_uid[req.local_uid.lower()] += 1
        key = (req.organization, req.local_uid.lower())
        if key in self.registrations or key in self._processing:
            return self._refuse(env, "NOT_UNIQUE_PROVIDED_ID", NOT_UNIQUE_MESSAGE)
        now = self.clock.now()
        fate = self.profile.draw_fate(rng)
        delay = self.profile.callback_delay.draw(rng)
        late = self.profile.late_callback_delay.draw(rng) if fate is Fate.LATE else 0.0
        job = _Job(req, env.addressing.message_id, env.addressing.reply_to, env.client_entity_id, now, fate, late)
        self._processing.add(key)
        self.stats.accepted += 1
        self._schedule(now + timedelta(seconds=delay), lambda: self._process(job))
        body = codec.build_register_document_response(StatusResponse(True))
        return soap_response(body, action="registerDocumentResponse", relates_to=env.addressing.message_id)

    def _search(self, env: Envelope) -> web.Response:
        assert env.body is not None
        try:
            req = codec.parse_search_request(env.body)
        except codec.MessageError as exc:
            self._error("VALIDATION_ERROR")
            body = codec.build_search_response(
                SearchRegistryItemResponse(False, errors=(("VALIDATION_ERROR", exc.message),))
            )
            return soap_response(body, action="searchRegistryItemResponse", relates_to=env.addressing.message_id)
        now = self.clock.now()
        if req.search_by == "recipient":
            found = SearchRegistryItemResponse(True, matches=self.addressed.search(req, now))
            body = codec.build_search_response(found)
            return soap_response(body, action="searchRegistryItemResponse", relates_to=env.addressing.message_id)
        snils = normalise_person_id(req.patient_snils) if req.patient_snils else None
        matches = tuple(
            RegistryMatch(r.local_uid, r.emdr_id, r.registered_at, kind=r.kind, organization=r.organization)
            for r in self.registrations.values()
            if r.organization == req.organization
            and r.kind == req.kind
            and req.begin <= r.registered_at <= min(req.end, now)
            and (snils is None or r.patient_snils == snils)
        )
        body = codec.build_search_response(SearchRegistryItemResponse(True, matches=matches))
        return soap_response(body, action="searchRegistryItemResponse", relates_to=env.addressing.message_id)

    def _file(self, env: Envelope) -> web.Response:
        """getDocumentFile on the service port: a recipient fetches a document registered for it."""
        assert env.body is not None
        try:
            req = codec.parse_get_document_file_request(env.body)
        except codec.MessageError as exc:
            self._error("VALIDATION_ERROR")
            answer = GetDocumentFileResponse(False, errors=(("VALIDATION_ERROR", exc.message),))
        else:
            answer = self.addressed.file(req)
        body = codec.build_get_document_file_response(answer)
        return soap_response(body, action="getDocumentFileResponse", relates_to=env.addressing.message_id)

    async def handle_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats_json())

    def switch_profile(self, name: str) -> None:
        """Run under another fault profile from now on (the vendor page's switch); documents
        already accepted keep the fate they drew."""
        self.profile = FaultProfile.load(name)

    async def handle_registration(self, request: web.Request) -> web.Response:
        uid = request.match_info["local_uid"].lower()
        found = [r for r in self.history if r.local_uid.lower() == uid]
        requests = self.requests_by_uid.get(uid, 0)
        if not found and not requests:
            return web.json_response({"error": {"code": "NOT_FOUND", "message": "no such localUid"}}, status=404)
        return web.json_response(
            {
                "local_uid": request.match_info["local_uid"],
                "register_requests": requests,
                "registrations": [
                    {
                        "local_uid": r.local_uid,
                        "organization": r.organization,
                        "kind": r.kind,
                        "emdr_id": r.emdr_id,
                        "registered_at": r.registered_at.isoformat(),
                        "creation_datetime": r.created_at.isoformat(),
                        "message_id": r.message_id,
                        "document_sha256": r.document_sha256,
                    }
                    for r in found
                ],
            }
        )

    # -- asynchronous processing -----------------------------------------------------------------

    async def _process(self, job: _Job) -> None:
        req = job.request
        key = (req.organization, req.local_uid.lower())
        try:
            data, errors = await self._document(job)
            if not errors:
                assert data is not None
                errors = self._check_structure(req, data)
            if not errors and self.verifier is not None:
                assert data is not None
                errors = await self._verify(job, data)
            if not errors and job.fate is Fate.TIMEOUT:
                errors = [("ASYNC_RESPONSE_TIMEOUT", TIMEOUT_MESSAGE)]
            registration = self._record(job, data) if not errors and data is not None else None
        finally:
            # Settled before any callback goes out: a resend prompted by the callback must not
            # meet NOT_UNIQUE_PROVIDED_ID for a document REMD did not register.
            self._processing.discard(key)
        if registration is None:
            for code, _ in errors:
                self._error(code)
            result = RegisterDocumentResult(
                job.message_id, False, req.kind, req.organization, req.local_uid, errors=tuple(errors)
            )
            await self._send_callback(job, result, attempt=1, late=False)
            return
        result = RegisterDocumentResult(
            job.message_id,
            True,
            req.kind,
            req.organization,
            req.local_uid,
            registry_item=RegistryItem(registration.emdr_id, registration.registered_at, req.creation_datetime),
        )
        if job.fate is Fate.LOST:
            self.stats.callbacks_lost += 1
        elif job.fate is Fate.LATE:
            due = self.clock.now() + timedelta(seconds=job.late_delay)
            self._schedule(due, lambda: self._send_callback(job, result, attempt=1, late=True))
        else:
            await self._send_callback(job, result, attempt=1, late=False)

    def _record(self, job: _Job, data: bytes) -> Registration:
        req = job.request
        digest = hashlib.sha256(data).hexdigest()
        key = (req.organization, req.local_uid.lower())
        now = self.clock.now()
        registration = Registration(
            local_uid=req.local_uid,
            organization=req.organization,
            kind=req.kind,
            emdr_id=f"SBX-{now:%Y%m%d}-{next(self._emdr_seq):08d}",
            registered_at=now,
            created_at=req.creation_datetime,
            patient_snils=normalise_person_id(req.patient.snils) if req.patient and req.patient.snils else None,
            message_id=job.message_id,
            document_sha256=digest,
        )
        # The gateway-quality figure: the same document registered twice, under the same localUid
        # (impossible while NOT_UNIQUE_PROVIDED_ID holds) or under a new one (a resend that forgot
        # its localUid).
        doc_key = (req.organization, digest)
        if key in self.registrations or self._documents.get(doc_key, key[1]) != key[1]:
            self.stats.duplicates_at_peer += 1
        self._documents.setdefault(doc_key, key[1])
        self.registrations[key] = registration
        self.history.append(registration)
        self.stats.registrations += 1
        return registration

    async def _document(self, job: _Job) -> tuple[bytes | None, list[tuple[str, str]]]:
        """The document bytes: inline, or pulled with getDocumentFile (always, when the profile
        says so). Errors are REMD's codes for a pull that failed or does not match."""
        req = job.request
        if req.document.data is not None and not self.profile.pull_document:
            return req.document.data, []
        url = self._pull_url(job.reply_to)
        if url is None:
            return None, [("GET_DOCUMENT_FILE_ERROR", "не задан адрес getDocumentFile предоставляющей системы")]
        self.stats.document_pulls += 1
        envelope = build_envelope(
            codec.build_get_document_file_request(GetDocumentFileRequest(req.local_uid, req.organization, req.kind)),
            addressing=Addressing(message_id=str(uuid.uuid4()), action="getDocumentFile", to=url),
        )
        envelope = self._signed(envelope)
        try:
            reply = await post_soap(
                self._http(), url, envelope, action="getDocumentFile", timeout_seconds=self.callback_timeout
            )
            env = parse_envelope(reply.body)
            if env.body is None:
                return None, [("RMIS_ERROR", "SOAP fault в ответе getDocumentFile")]
            answer = codec.parse_get_document_file_response(env.body)
        except (TransportError, EnvelopeError, codec.MessageError) as exc:
            return None, [("GET_DOCUMENT_FILE_ERROR", f"getDocumentFile: {exc}"[:300])]
        if not answer.success or answer.document is None or answer.document.data is None:
            return None, list(answer.errors) or [("FILE_WAS_NOT_SENT", "ИС не передала файл ЭМД")]
        if checksum(answer.document.data) != req.document.checksum:
            return None, [("DIGEST_MISMATCH", "контрольная сумма полученного файла не совпадает с переданной")]
        return answer.document.data, []

    def _pull_url(self, reply_to: str | None) -> str | None:
        if self.pull_url:
            return self.pull_url
        if not reply_to:
            return None
        # The gateway serves getDocumentFile beside the callback of the same peer instance
        # (/remd/callback → /remd/getDocumentFile, /gis-77/callback → /gis-77/getDocumentFile).
        suffix = "/callback"
        return reply_to[: -len(suffix)] + "/getDocumentFile" if reply_to.endswith(suffix) else reply_to

    @staticmethod
    def _check_structure(req: RegisterDocumentRequest, data: bytes) -> list[tuple[str, str]]:
        errors: list[tuple[str, str]] = []
        if checksum(data) != req.document.checksum:
            errors.append(("DIGEST_MISMATCH", "контрольная сумма документа не совпадает с переданной"))
        if not req.personal_signatures and req.org_signature is None:
            errors.append(("NO_SIGNATURE", "Отсутствуют подписи документа"))
        signatures = [ps.signature for ps in req.personal_signatures]
        if req.org_signature is not None:
            signatures.append(req.org_signature)
        if any(checksum(s.data) != s.checksum for s in signatures):
            errors.append(("SIGNATURE_DECODING_ERROR", "контрольная сумма подписи не совпадает с переданной"))
        # REMD registers a kind only for documents created in its edition's period (NSI 1520).
        problem = validity_problem(req.kind, req.creation_datetime)
        if problem is not None:
            errors.append(("NO_DOCUMENT_KIND_ON_DATE", problem))
        return errors

    async def _verify(self, job: _Job, data: bytes) -> list[tuple[str, str]]:
        assert self.verifier is not None
        req = replace(job.request, document=DocumentFile(data, checksum(data)))
        try:
            canonical = parse_submission(
                canonical_from_request(req, source_system=f"remd:{job.client_entity_id}", callback_url=None)
            )
        except GatewayError as exc:
            return [("VALIDATION_ERROR", exc.message[:300])]
        try:
            return list(await self.verifier(canonical))
        except Exception as exc:
            _log.error("REMD twin: verifier failed", error=f"{type(exc).__name__}: {exc}"[:300])
            return [("VALSYS_INTERNAL_ERROR", "Внутренняя ошибка при проверке ЭМД в проверяющей системе")]

    async def _send_callback(self, job: _Job, result: RegisterDocumentResult, *, attempt: int, late: bool) -> None:
        if not job.reply_to:
            self.stats.callbacks_failed += 1
            return
        body = build_register_document_result_envelope(
            result, message_id=str(uuid.uuid4()), to=job.reply_to, relates_to=job.message_id
        )
        body = self._signed(body)
        try:
            reply = await post_soap(
                self._http(),
                job.reply_to,
                body,
                action="sendRegisterDocumentResult",
                timeout_seconds=self.callback_timeout,
            )
            delivered = 200 <= reply.status < 300
        except TransportError:
            delivered = False
        if delivered:
            self.stats.callbacks_sent += 1
            if late:
                self.stats.callbacks_late += 1
            return
        if attempt < self.profile.callback_attempts:
            due = self.clock.now() + timedelta(seconds=self.profile.callback_retry_seconds)
            self._schedule(due, lambda: self._send_callback(job, result, attempt=attempt + 1, late=late))
        else:
            self.stats.callbacks_failed += 1

    async def _notify_addressed(self, doc: AddressedDocument, url: str) -> None:
        """Tell a recipient that a document addressed to it was registered (reconstructed)."""
        notice = DocumentRegisteredNotification(
            doc.emdr_id, doc.local_uid, doc.kind, doc.organization, doc.recipient, doc.registered_at
        )
        addressing = Addressing(message_id=str(uuid.uuid4()), action="documentRegisteredNotification", to=url)
        envelope = self._signed(
            build_envelope(codec.build_document_registered_notification(notice), addressing=addressing)
        )
        try:
            reply = await post_soap(
                self._http(),
                url,
                envelope,
                action="documentRegisteredNotification",
                timeout_seconds=self.callback_timeout,
            )
        except TransportError:
            self._error("NOTIFICATION_NOT_DELIVERED")
            return
        if 200 <= reply.status < 300:
            self.notifications_sent += 1
        else:
            self._error("NOTIFICATION_NOT_DELIVERED")

    def _http(self) -> aiohttp.ClientSession:
        if self.session is None:
            raise RuntimeError("the REMD twin has no HTTP session (the app is not started)")
        return self.session


TWIN_KEY: Final = web.AppKey("remd_twin", RemdTwin)


def create_twin(
    profile: FaultProfile,
    clock: Clock,
    *,
    session: aiohttp.ClientSession | None = None,
    verifier: Verifier | None = None,
    seed: int | None = None,
    pull_url: str | None = None,
    identity: tuple[PrivateKey, Certificate] | None = None,
) -> web.Application:
    """An aiohttp application simulating REMD: ``POST /remd/service`` (registerDocument,
    searchRegistryItem), ``GET /_sandbox/stats``, ``GET /_sandbox/registrations/{local_uid}``.

    ``session`` sends callbacks and getDocumentFile requests (one is created when not given).
    ``verifier`` checks signatures and roles (without it only the structure is checked). ``seed``
    makes the fault draws reproducible. ``pull_url`` overrides where documents are pulled from
    (default: the request's ReplyTo with /remd/callback replaced by /remd/getDocumentFile).
    """
    twin = RemdTwin(profile, clock, session=session, verifier=verifier, seed=seed, pull_url=pull_url, identity=identity)
    app = web.Application(client_max_size=DEFAULT_MAX_BYTES)
    app[TWIN_KEY] = twin
    app.router.add_post(SERVICE_PATH, twin.handle_service)
    app.router.add_get("/_sandbox/stats", twin.handle_stats)
    add_profile_route(app, what="remd", current=lambda: twin.profile.name, switch=twin.switch_profile)
    app.router.add_get("/_sandbox/registrations/{local_uid}", twin.handle_registration)
    app.router.add_post("/_sandbox/addressed", twin.addressed.handle_register)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        own_session = None
        if twin.session is None:
            own_session = aiohttp.ClientSession()
            twin.session = own_session
        scheduler = asyncio.create_task(twin.run_scheduler())
        _log.info("REMD twin started", profile=profile.name)
        try:
            yield
        finally:
            scheduler.cancel()
            await asyncio.gather(scheduler, return_exceptions=True)
            await twin.close()
            if own_session is not None:
                await own_session.close()
                twin.session = None

    app.cleanup_ctx.append(lifecycle)
    return app
