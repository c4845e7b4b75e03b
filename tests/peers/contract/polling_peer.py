"""A polling peer written only against gateway.peers.contract (the shape of SMEV 3
GetResponse/Ack): ``send`` only queues the request; the peer's answers — progress, then the
final outcome — wait in its queue until the core's leased receiver takes them. ``receive`` hands
each message to the sink and acknowledges it only after the sink returned; the ack can be made
to fail (a crash between "recorded" and "acknowledged")."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from gateway.peers.contract import (
    Answer,
    AnswerKind,
    Capabilities,
    ChannelSender,
    CodeClass,
    CodeRule,
    CodeTable,
    DeliveryAdapter,
    LookupResult,
    PeerContext,
    PeerOutcome,
    PeerSettings,
    PeerSink,
    Progress,
    TwinContext,
)

PROTOCOL = "test-polling"


class PollingSettings(PeerSettings):
    batch: int = 10  # messages per GetResponse round


@dataclass
class Message:
    """One message in the peer's queue, as the peer would send it."""

    id: str
    local_uid: str
    relates_to: str | None
    status: str | None = None  # a progress status; None: the final outcome
    success: bool = True
    codes: tuple[str, ...] = ()


@dataclass
class PeerQueue:
    """The peer's side: what it was sent, what waits for the gateway, what was acknowledged."""

    messages: list[Message] = field(default_factory=list)
    sent: list[tuple[str, str]] = field(default_factory=list)
    acked: list[str] = field(default_factory=list)
    ack_attempts: int = 0
    ack_fails: bool = False  # the ack is lost (the process dies after the sink, before the ack)
    auto_answer: bool = True  # answer every send with "queued" progress and a success
    lose_answers: int = 0  # the next sends time out for the gateway although the peer took them


class PollingAdapter:
    def __init__(self, name: str, queue: PeerQueue, batch: int) -> None:
        self.name = name
        self.queue = queue
        self.batch = batch

    def new_message_id(self) -> str:
        return str(uuid.uuid1())  # SMEV wants a time-based UUID

    async def send(self, sub: Any, canonical: Any, *, message_id: str) -> Answer:
        self.queue.sent.append((canonical.local_uid, message_id))
        if self.queue.auto_answer:
            self.queue.messages.append(Message(f"p-{uuid.uuid4()}", canonical.local_uid, message_id, "queued"))
            self.queue.messages.append(Message(f"r-{uuid.uuid4()}", canonical.local_uid, message_id))
        if self.queue.lose_answers > 0:
            self.queue.lose_answers -= 1
            return Answer(AnswerKind.NO_ANSWER, error="read timeout")
        return Answer(AnswerKind.ACCEPTED)

    async def lookup(self, sub: Any, canonical: Any) -> LookupResult:
        return LookupResult(found=None, error="this peer cannot be asked")

    async def receive(self, sink: PeerSink) -> int:
        taken = 0
        for msg in list(self.queue.messages[: self.batch]):
            common = {
                "peer": self.name,
                "local_uid": msg.local_uid,
                "organization_oid": None,
                "relates_to": msg.relates_to,
                "peer_message_id": msg.id,
            }
            if msg.status is not None:
                await sink.progress(Progress(status=msg.status, **common))
            else:
                codes = tuple((c, "") for c in msg.codes)
                await sink(PeerOutcome(success=msg.success, codes=codes, **common))
            self._ack(msg)  # only after the sink returned: the answer is durable
            taken += 1
        return taken

    def _ack(self, msg: Message) -> None:
        self.queue.ack_attempts += 1
        if self.queue.ack_fails:
            raise ConnectionError("Ack lost on the way to the peer")
        self.queue.messages.remove(msg)
        self.queue.acked.append(msg.id)


class PollingPlugin:
    protocol = PROTOCOL
    settings_model = PollingSettings
    capabilities = Capabilities(lookup=False, idempotent_resend=False, polling=True)
    description = "test polling peer (queue + ack)"

    def __init__(self) -> None:
        self.queues: dict[str, PeerQueue] = {}  # survive a gateway restart: they are the peer's

    def queue(self, name: str) -> PeerQueue:
        return self.queues.setdefault(name, PeerQueue())

    def code_table(self) -> CodeTable:
        return CodeTable(
            codes={"BUSY": CodeRule(CodeClass.TRANSIENT), "BAD": CodeRule(CodeClass.PERMANENT)},
            source="polling_peer.py",
        )

    def build(self, ctx: PeerContext, session: aiohttp.ClientSession, clock: Any) -> DeliveryAdapter:
        settings = ctx.settings
        assert isinstance(settings, PollingSettings)
        return PollingAdapter(ctx.name, self.queue(ctx.name), settings.batch)

    def routes(self, ctx: PeerContext) -> Sequence[web.AbstractRouteDef]:
        return []  # everything comes through the queue

    def notice_channels(self, ctx: PeerContext) -> Mapping[str, ChannelSender]:
        return {}

    def twin(self, ctx: TwinContext) -> web.Application:
        return web.Application()

    def fault_profiles(self) -> Sequence[str]:
        return ("none",)
