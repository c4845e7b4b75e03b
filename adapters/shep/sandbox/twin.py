"""The ШЭП twin with the АИС ЦБДИ twin behind it: ``POST /shep/ws`` speaks SyncChannel and
AsyncChannel v10 (the codec of the adapter), ``GET /_sandbox/stats`` says what happened.

Every call is checked as ШЭП checks it, in this order: the envelope (a ШЭП message, else
INVALID_MESSAGE); the WS-Security signature over the Body (with the instance's pinned
certificate when the sandbox gives one, else the certificate the message carries) →
SIGNATURE_INVALID; the sender's credentials ``sender{senderId, password}`` → SCSE001 ›
SENDER_AUTH_FAILED; then the fault profile's ШЭП error draw. ``sendMessage`` payloads are
validated against the vendored XSDs (``wsdl/shep/all.xsd``); a messageId seen before is answered
DUPLICATE_MESSAGE (ШЭП's duplicate detection, which makes the adapter's resends safe).

ШЭП relays an accepted message to ЦБДИ after ``relay_delay`` (simulated clock): ЦБДИ checks it
(:mod:`adapters.shep.sandbox.cbdi`), refuses it (RESPONSE ``Refusal``), or registers the draft
act (NOTIFICATION ``DraftActRegistered`` — lost or duplicated per profile) and concludes on time
or late (RESPONSE ``MseConclusion``, signed by the test expert's key). A second draft with a
LocalUid ЦБДИ already registered is counted in ``duplicates_at_cbdi`` and not registered again.
Answers wait in the sender's queue for ``getMessages``; a message delivered and not notified by
``sendDeliveryNotification`` within ``redelivery_seconds`` is delivered again. What the twin
sends is signed with its identity (WS-Security).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
import secrets
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Final

from aiohttp import web
from lxml import etree

from adapters.shep import messages as m
from adapters.shep import payload as p
from adapters.shep.codec import Message, ShepCodec, ShepFormatError, new_session_id
from adapters.shep.pilot import conclusion_deadline
from adapters.shep.sandbox.cbdi import EXPERTS, check_draft, decide
from adapters.shep.sandbox.profile import PREFIX as PROFILE_PREFIX
from adapters.shep.sandbox.profile import FaultProfile
from gateway.common.clock import Clock
from gateway.common.logs import get_logger
from gateway.common.shipped import shipped
from gateway.common.twin_profile import add_profile_route, profile_key
from gateway.signatures.certificates import Certificate
from gateway.signatures.keys import PrivateKey, generate_key
from gateway.signatures.pki.builder import build_certificate, build_name
from gateway.signatures.xml.sign import sign_xml
from gateway.signatures.xml.wssecurity import sign_wssecurity, verify_wssecurity_body
from gateway.signatures.xml.xmldsig import find_signatures, key_info_certificates
from gateway.wire.safexml import make_parser, parse_xml

__all__ = ["SERVICE_PATH", "ShepTwin", "create_twin", "shep_schema", "twin_of"]

SERVICE_PATH: Final = "/shep/ws"
_TWIN_KEY: Final = web.AppKey("shep_twin", object)
_log: Final = get_logger(__name__)
_OPERATIONS: Final = {
    m.SyncSendMessage: "SendMessage",
    m.AsyncMessage: "sendMessage",
    m.GetMessages: "getMessages",
    m.GetMessageStatus: "getMessageStatus",
    m.SendDeliveryNotification: "sendDeliveryNotification",
}


@cache
def shep_schema() -> etree.XMLSchema:
    path = shipped("wsdl/shep/all.xsd")
    if path is None:
        raise FileNotFoundError("wsdl/shep/all.xsd")
    return etree.XMLSchema(etree.parse(str(path), parser=make_parser()))


class _Refusal(Exception):
    def __init__(self, operation: str, code: str, text: str, sub: tuple[str, str] | None = None) -> None:
        super().__init__(text)
        self.operation, self.code, self.text, self.sub = operation, code, text, sub


@dataclass(slots=True)
class _Queued:
    message_id: str
    due: datetime
    message: m.AsyncMessage
    leased_until: datetime | None = None


@dataclass(slots=True)
class _Draft:
    local_uid: str
    act_number: str
    arrived_at: datetime
    region: str
    organization_oid: str = ""


ExpertIdentity = tuple[PrivateKey, Certificate, Sequence[Certificate]]  # key, certificate, its chain


@dataclass(frozen=True, slots=True)
class _Expert:
    key: PrivateKey
    certificate: Certificate
    chain: tuple[Certificate, ...]
    named: tuple[str, str] | None  # (name, IIN) the conclusion names


@dataclass(slots=True)
class Stats:
    calls: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    accepted: int = 0
    duplicates_at_shep: int = 0
    dropped_responses: int = 0
    slow_answers: int = 0
    registered: int = 0
    duplicates_at_cbdi: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    concluded: int = 0
    concluded_late: int = 0
    lost_statuses: int = 0
    duplicated_statuses: int = 0
    delivered: int = 0
    redelivered: int = 0
    notified: int = 0
    lost_notifications: int = 0
    bad_expert_signatures: int = 0


class ShepTwin:
    def __init__(
        self,
        profile: FaultProfile,
        clock: Clock,
        *,
        seed: int | None = None,
        identity: tuple[PrivateKey, Certificate] | None = None,
        sender: tuple[str, str] | None = None,
        sender_certificate: Certificate | None = None,
        service_id: str = "MZ_CBDI_MSE_031U",
        expert: ExpertIdentity | None = None,
        expert_named: tuple[str, str] | None = None,
        expert_source: Callable[[], ExpertIdentity | None] | None = None,
    ) -> None:
        self.profile = profile
        self.profile_key = profile_key(profile.name, PROFILE_PREFIX)
        self.clock = clock
        self.rng = random.Random(seed)
        self.sender = sender  # (senderId, password); None: any sender
        self.sender_certificate = sender_certificate
        self.service_id = service_id
        key, cert = identity or _self_signed("sandbox ШЭП")
        self.codec = ShepCodec(signer=lambda data: sign_wssecurity(data, key, cert))
        # The expert signs conclusions with an individual's NCA certificate: ``expert``, or what
        # ``expert_source`` gives once it can (the sandbox's test PKI — KZ GOST 2015-512 with an
        # IIN — exists only after the twin is planned); without either, a self-signed key no
        # gateway trusts. ``expert_named``: the (name, IIN) the conclusion names, by default the
        # certificate's holder (tests name someone else to see the role policy flag it).
        self._expert_given = expert
        self._expert_source = expert_source
        self._expert_named = expert_named
        self._expert: _Expert | None = None
        self._untrusted_expert: _Expert | None = None
        self.stats = Stats()
        self.seen: dict[str, str] = {}  # ШЭП messageId → sender
        self.drafts: dict[str, _Draft] = {}  # LocalUid → draft
        self.queues: dict[str, list[_Queued]] = {}
        self.events: list[tuple[datetime, int, Callable[[datetime], None]]] = []
        self.counter = itertools.count()
        self.acts = itertools.count(1)

    def switch_profile(self, name: str) -> None:
        """ШЭП and ЦБДИ run under another fault profile from now on (the vendor page's switch):
        drafts already registered keep the conclusion they drew."""
        self.profile = FaultProfile.load(name)
        self.profile_key = profile_key(name, PROFILE_PREFIX)

    # -- the simulated ЦБДИ ---------------------------------------------------------------------

    def expert(self) -> _Expert:
        """The expert who signs (resolved once a trusted identity is available)."""
        if self._expert is not None:
            return self._expert
        given = self._expert_given or (self._expert_source() if self._expert_source is not None else None)
        if given is None:
            if self._untrusted_expert is None:
                key, cert = _self_signed("Эксперт МСЭ ЦБДИ (sandbox)")
                self._untrusted_expert = _Expert(key, cert, (), self._expert_named)
            return self._untrusted_expert
        key, cert, chain = given
        holder = cert.identity()
        named = self._expert_named or (holder.common_name or EXPERTS[0], holder.iin or "")
        self._expert = _Expert(key, cert, tuple(chain), named)
        return self._expert

    def _at(self, when: datetime, action: Callable[[datetime], None]) -> None:
        """Run ``action(when)`` once the simulated clock passes ``when`` (lazily, at the next call:
        each action acts at its own instant, not at the moment it happens to run)."""
        heapq.heappush(self.events, (when, next(self.counter), action))

    def run_due(self) -> None:
        now = self.clock.now()
        while self.events and self.events[0][0] <= now:
            when, _, action = heapq.heappop(self.events)
            action(when)

    def _enqueue(
        self, sender: str, kind: m.MessageType, correlation_id: str, data: etree._Element, due: datetime, region: str
    ) -> None:
        message_id = str(uuid.uuid4())
        info = m.AsyncMessageInfo(
            self.service_id,
            kind,
            due,
            m.Sender("CBDI"),
            message_id,
            correlation_id,
            properties=(m.Property("region", region),),
        )
        self.queues.setdefault(sender, []).append(_Queued(message_id, due, m.AsyncMessage(info, data)))

    def _relay(self, sender: str, message_id: str, msg: m.AsyncMessage | m.SyncSendMessage, now: datetime) -> None:
        try:
            sub = p.read_submission(msg.data) if msg.data is not None else None
        except p.PayloadError:
            sub = None
        if sub is None:
            refusal = p.Refusal("", "INVALID_MESSAGE", {"ru": "Нет формы 031/у", "kk": "031/у нысаны жоқ"}, now)
            self.stats.refused["INVALID_MESSAGE"] += 1
            self._enqueue(sender, m.MessageType.RESPONSE, message_id, p.build_refusal(refusal), now, "")
            return
        if sub.local_uid in self.drafts:
            self.stats.duplicates_at_cbdi += 1  # the gateway sent one document twice: never registered twice
            return
        check = check_draft(sub.document, sub.signatures)
        if check.code is not None:
            self.stats.refused[check.code] += 1
            refusal = p.Refusal(sub.local_uid, check.code, {"ru": check.ru, "kk": check.kk}, now)
            self._enqueue(sender, m.MessageType.RESPONSE, message_id, p.build_refusal(refusal), now, sub.region)
            return
        draft = _Draft(sub.local_uid, f"MSE-{now:%Y}-{next(self.acts):07d}", now, sub.region, sub.organization_oid)
        self.drafts[sub.local_uid] = draft
        self.stats.registered += 1
        named = self.expert().named
        expert = named[0] if named else self.rng.choice(EXPERTS)
        notice = p.build_registered(p.DraftRegistered(draft.local_uid, draft.act_number, draft.arrived_at, expert))
        if self.profile.chance(self.rng, "lost_status"):
            self.stats.lost_statuses += 1
        else:
            copies = 2 if self.profile.chance(self.rng, "duplicate_status") else 1
            self.stats.duplicated_statuses += copies - 1
            for _ in range(copies):
                self._enqueue(sender, m.MessageType.NOTIFICATION, message_id, notice, now, draft.region)
        deadline = conclusion_deadline(now)
        late = self.profile.chance(self.rng, "late_conclusion")
        if late:
            decided = deadline + timedelta(seconds=max(1.0, self.profile.late_by.draw(self.rng)))
        else:
            decided = min(
                now + timedelta(seconds=self.profile.decision_delay.draw(self.rng)), deadline - timedelta(seconds=1)
            )
            decided = max(decided, now)
        refuse = self.profile.chance(self.rng, "refusal_decision")
        self._at(decided, lambda at: self._conclude(sender, message_id, draft, expert, at, late, refuse))

    def _conclude(
        self, sender: str, message_id: str, draft: _Draft, expert: str, decided: datetime, late: bool, refuse: bool
    ) -> None:
        d = decide(self.rng, refuse)
        signer = self.expert()
        element = p.build_conclusion(
            p.Conclusion(
                local_uid=draft.local_uid,
                act_number=draft.act_number,
                decision=d.decision,
                decided_at=decided,
                expert=expert,
                disability_group=d.group,
                lost_capacity_percent=d.percent,
                texts=d.texts,
                reasons=d.reasons,
                arrived_at=draft.arrived_at,
                region=draft.region,
                organization_oid=draft.organization_oid,
                expert_iin=signer.named[1] if signer.named else "",
            )
        )
        signed = sign_xml(
            etree.tostring(element),
            signer.key,
            signer.certificate,
            style="enveloped",
            reference_id=element.get("Id"),
            chain=signer.chain,
        )
        if self.profile.chance(self.rng, "bad_expert_signature"):
            self.stats.bad_expert_signatures += 1
            signed = signed.replace(b"</cbdi:Expert>", " (изм.)</cbdi:Expert>".encode(), 1)
        self.stats.concluded += 1
        self.stats.concluded_late += int(late)
        self._enqueue(sender, m.MessageType.RESPONSE, message_id, parse_xml(signed), decided, draft.region)

    # -- ШЭП ------------------------------------------------------------------------------------

    def _check(self, operation: str, raw: bytes, sender: m.Sender | None) -> None:
        root = parse_xml(raw)
        pins = [self.sender_certificate] if self.sender_certificate is not None else []
        if not pins:  # no pinned certificate: the message must at least verify with its own token
            pins = [c for s in find_signatures(root) for c in key_info_certificates(s)]
        why = verify_wssecurity_body(root, pins)
        if why is not None:
            raise _Refusal(operation, "SIGNATURE_INVALID", f"WS-Security: {why}")
        if self.sender is not None:
            expected_id, expected_password = self.sender
            if sender is None or sender.sender_id != expected_id or (sender.password or "") != expected_password:
                raise _Refusal(
                    operation,
                    "SCSE001",
                    "Ошибка обработки сообщения",
                    ("SENDER_AUTH_FAILED", "Неверный логин или пароль отправителя"),
                )
        if self.profile.chance(self.rng, "gateway_error"):
            raise _Refusal(
                operation, "SCSE001", "Ошибка обработки сообщения", ("SHEP_INTERNAL", "Внутренняя ошибка ШЭП")
            )

    def _fault(self, refusal: _Refusal) -> bytes:
        now = self.clock.now()
        sub = m.ErrorInfo(refusal.sub[0], refusal.sub[1], now) if refusal.sub else None
        error = m.ErrorInfo(refusal.code, refusal.text, now, sub_error=sub, session_id=new_session_id())
        self.stats.faults[refusal.sub[0] if refusal.sub else refusal.code] += 1
        return self.codec.fault(m.ShepFault("soap:Server", refusal.text, error, refusal.operation))

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        self.run_due()
        if self.profile.chance(self.rng, "slow_answer"):
            self.stats.slow_answers += 1
            await asyncio.sleep(self.profile.slow_answer_delay.draw(self.rng))
        try:
            body, drop = self._call(raw)
        except _Refusal as refusal:
            return web.Response(status=500, body=self._fault(refusal), content_type="text/xml", charset="utf-8")
        except Exception as exc:  # a twin bug: a ШЭП fault, never a bare 500 page
            _log.error("ШЭП twin: call failed", error=f"{type(exc).__name__}: {exc}"[:300])
            return web.Response(
                status=500,
                body=self._fault(_Refusal("SendMessage", "SHEP_INTERNAL", "twin error")),
                content_type="text/xml",
                charset="utf-8",
            )
        if drop:
            self.stats.dropped_responses += 1
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        return web.Response(status=200, body=body, content_type="text/xml", charset="utf-8")

    def _call(self, raw: bytes) -> tuple[bytes, bool]:
        try:
            msg = ShepCodec.parse(raw)
        except ShepFormatError as exc:
            self.stats.calls["?"] += 1
            raise _Refusal("SendMessage", "INVALID_MESSAGE", f"{exc.code}: {exc}"[:300]) from None
        operation = _OPERATIONS.get(type(msg))
        if operation is None:
            self.stats.calls["?"] += 1
            raise _Refusal("SendMessage", "INVALID_MESSAGE", f"{type(msg).__name__} is not a request")
        self.stats.calls[operation] += 1
        now = self.clock.now()
        if isinstance(msg, m.AsyncMessage | m.SyncSendMessage):
            sender = msg.info.sender
            self._check(operation, raw, sender)
            element = parse_xml(raw).find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
            assert element is not None
            doc = etree.ElementTree(etree.fromstring(etree.tostring(element[0])))
            if not shep_schema().validate(doc):
                raise _Refusal(operation, "INVALID_MESSAGE", str(shep_schema().error_log)[:300])
            message_id = msg.info.message_id or ""
            if not message_id:
                raise _Refusal(operation, "INVALID_MESSAGE", "messageId is required")
            if message_id in self.seen:
                self.stats.duplicates_at_shep += 1
                raise _Refusal(operation, "DUPLICATE_MESSAGE", f"Сообщение {message_id} уже принято")
            self.seen[message_id] = sender.sender_id
            self.stats.accepted += 1
            delay = timedelta(seconds=self.profile.relay_delay.draw(self.rng))
            self._at(now + delay, lambda at: self._relay(sender.sender_id, message_id, msg, at))
            drop = isinstance(msg, m.AsyncMessage) and self.profile.chance(self.rng, "dropped_response")
            if isinstance(msg, m.SyncSendMessage):
                status = m.StatusInfo("SCSS001", "Сообщение принято")
                answer: Message = m.SyncSendMessageResponse(
                    m.SyncResponseInfo(message_id, now, status, message_id, new_session_id())
                )
            else:
                answer = m.SendMessageResponse(message_id, msg.info.correlation_id or message_id, now, new_session_id())
            return self.codec.build(answer), drop
        if isinstance(msg, m.GetMessages):
            self._check(operation, raw, msg.sender)
            assert msg.sender is not None
            return self.codec.build(self._get_messages(msg.sender.sender_id, msg.amount or 10, now)), False
        if isinstance(msg, m.SendDeliveryNotification):
            self._check(operation, raw, msg.sender)
            assert msg.sender is not None
            self._notified(msg.sender.sender_id, msg.notification.message_id)
            return self.codec.build(m.SendDeliveryNotificationResponse(str(uuid.uuid4()), now, new_session_id())), False
        assert isinstance(msg, m.GetMessageStatus)
        self._check(operation, raw, msg.sender)
        if msg.message_id not in self.seen:
            raise _Refusal(operation, "MESSAGE_NOT_FOUND", f"Сообщение {msg.message_id} не найдено")
        answer = m.GetMessageStatusResponse(
            m.MessageState.DELIVERED, "DELIVERED", "Доставлено", now, now, new_session_id()
        )
        return self.codec.build(answer), False

    def _get_messages(self, sender: str, amount: int, now: datetime) -> m.GetMessagesResponse:
        out: list[m.AsyncMessage] = []
        lease = timedelta(seconds=self.profile.redelivery_seconds)
        for item in self.queues.get(sender, []):
            if len(out) >= amount:
                break
            if item.due > now or (item.leased_until is not None and item.leased_until > now):
                continue
            if item.leased_until is not None:
                self.stats.redelivered += 1
            item.leased_until = now + lease
            self.stats.delivered += 1
            out.append(item.message)
        return m.GetMessagesResponse(now, new_session_id(), tuple(out))

    def _notified(self, sender: str, message_id: str) -> None:
        if self.profile.chance(self.rng, "lost_notification"):
            self.stats.lost_notifications += 1
            return
        queue = self.queues.get(sender, [])
        before = len(queue)
        self.queues[sender] = [q for q in queue if q.message_id != message_id]
        self.stats.notified += before - len(self.queues[sender])

    def stats_json(self) -> dict[str, object]:
        s = self.stats
        return {
            "calls": dict(s.calls),
            "faults": dict(s.faults),
            "accepted": s.accepted,
            "duplicates_at_shep": s.duplicates_at_shep,
            "dropped_responses": s.dropped_responses,
            "slow_answers": s.slow_answers,
            "registered": s.registered,
            "duplicates_at_cbdi": s.duplicates_at_cbdi,
            "refused": dict(s.refused),
            "concluded": s.concluded,
            "concluded_late": s.concluded_late,
            "lost_statuses": s.lost_statuses,
            "duplicated_statuses": s.duplicated_statuses,
            "delivered": s.delivered,
            "redelivered": s.redelivered,
            "notified": s.notified,
            "lost_notifications": s.lost_notifications,
            "bad_expert_signatures": s.bad_expert_signatures,
            "waiting": sum(len(q) for q in self.queues.values()),
            # due now: given out or to be given out at the next getMessages (the rest are
            # conclusions the expert has not made yet)
            "ready": sum(1 for q in self.queues.values() for item in q if item.due <= self.clock.now()),
            "pending_events": len(self.events),
            "expert_certificate": self._expert.certificate.serial_hex if self._expert is not None else None,
        }


def _self_signed(name: str) -> tuple[PrivateKey, Certificate]:
    key = generate_key("ecdsa")
    now = datetime.now(UTC)
    cert = build_certificate(
        subject=build_name([("2.5.4.3", name), ("2.5.4.10", "mse-gateway sandbox")]),
        subject_key=key.public,
        issuer_key=key,
        issuer=None,
        serial=secrets.randbits(63),
        not_before=now - timedelta(days=1),
        not_after=now + timedelta(days=3650),
    )
    return key, cert


def create_twin(
    profile: FaultProfile,
    clock: Clock,
    *,
    seed: int | None = None,
    identity: tuple[PrivateKey, Certificate] | None = None,
    sender: tuple[str, str] | None = None,
    sender_certificate: Certificate | None = None,
    service_id: str = "MZ_CBDI_MSE_031U",
    expert: ExpertIdentity | None = None,
    expert_named: tuple[str, str] | None = None,
    expert_source: Callable[[], ExpertIdentity | None] | None = None,
) -> web.Application:
    twin = ShepTwin(
        profile,
        clock,
        seed=seed,
        identity=identity,
        sender=sender,
        sender_certificate=sender_certificate,
        service_id=service_id,
        expert=expert,
        expert_named=expert_named,
        expert_source=expert_source,
    )
    app = web.Application(client_max_size=32 * 1024 * 1024)
    app[_TWIN_KEY] = twin

    async def stats(_: web.Request) -> web.Response:
        twin.run_due()
        return web.json_response(twin.stats_json())

    app.router.add_post(SERVICE_PATH, twin.handle)
    app.router.add_post("/", twin.handle)  # the sandbox points an instance at the twin's base URL
    app.router.add_get("/_sandbox/stats", stats)
    add_profile_route(app, what="shep", current=lambda: twin.profile_key, switch=twin.switch_profile)
    return app


def twin_of(app: web.Application) -> ShepTwin:
    twin = app[_TWIN_KEY]
    assert isinstance(twin, ShepTwin)
    return twin
