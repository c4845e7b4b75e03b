"""Composition of peer instances into the gateway app: each configured instance's routes are
mounted under ``/<name>``, its adapter built at start-up, its notice channels collected — all
through the :class:`~gateway.peers.contract.PeerPlugin` contract, without naming a protocol.

Endpoints must be mounted when the app is created, while the journal and HTTP session exist only
after start-up; the small forwarding objects below bridge that gap.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from typing import Any, Final

from aiohttp import web

from gateway.appkeys import (
    CALLBACK_POLICY_KEY,
    CLIENTS_KEY,
    CLOCK_KEY,
    CONFIG_KEY,
    DISCOVERY_KEY,
    HTTP_KEY,
    INBOUND_KEY,
    JOURNAL_KEY,
    PEERS_KEY,
    WORKERS_KEY,
)
from gateway.common.logs import get_logger
from gateway.config import GatewayConfig
from gateway.delivery.outcomes import CallbackRecorder
from gateway.delivery.peer import Peer
from gateway.inbound.contract import InboundDocument, InboundReceipt
from gateway.intake.clients import Client
from gateway.intake.frontdoor import FrontDoorService
from gateway.intake.submission import parse_submission
from gateway.journal.peer_messages import PeerMessages
from gateway.journal.peer_requests import OwedAnswer, PeerRequest, PeerRequests, RequestReceipt, Settlement
from gateway.monitoring.counters import record_peer_refusal
from gateway.peers.auth import PeerGuard, Refusal
from gateway.peers.contract import (
    ChannelSender,
    DocumentSource,
    PeerContext,
    PeerOutcome,
    Progress,
    RefusalLog,
)
from gateway.peers.registry import PeerInstance
from gateway.ui.schema import ui_audit

__all__ = [
    "INSTANCES_KEY",
    "PEERS_KEY",
    "RECORDER_KEY",
    "mount_peers",
    "notice_channels",
    "peer_context",
    "peers_ctx",
    "public_url",
]

INSTANCES_KEY: Final = web.AppKey("peer_instances", dict[str, PeerInstance])
RECORDER_KEY: Final = web.AppKey("callback_recorder", CallbackRecorder)
_CONTEXTS_KEY: Final = web.AppKey("peer_contexts", dict[str, PeerContext])
_log: Final = get_logger(__name__)


def public_url(config: GatewayConfig) -> str:
    """This gateway's base URL as peers should call it back."""
    if config.server.public_url:
        return config.server.public_url.rstrip("/")
    host = "127.0.0.1" if config.server.host in ("0.0.0.0", "::", "") else config.server.host  # noqa: S104
    return f"http://{host}:{config.server.port}"


class _Sink:
    """The core's PeerSink, forwarding to the recorder once the journal exists."""

    def __init__(self, app: web.Application) -> None:
        self.app = app

    async def __call__(self, outcome: PeerOutcome) -> None:
        await self.app[RECORDER_KEY](outcome)
        self._wake_notifier()

    async def progress(self, progress: Progress) -> None:
        await self.app[RECORDER_KEY].progress(progress)

    def _wake_notifier(self) -> None:
        notifier = self.app[WORKERS_KEY].get("notifier")
        if notifier is not None:
            notifier.wake()


class _Intake:
    """The core's IntakePort for plug-ins' front doors."""

    def __init__(self, app: web.Application) -> None:
        self.app = app

    async def by_entity_id(self, entity_id: str) -> Client | None:
        return await self.app[CLIENTS_KEY].by_entity_id(entity_id)

    async def authenticate(self, token: str) -> Client | None:
        return await self.app[CLIENTS_KEY].authenticate(token)

    def _service(self) -> FrontDoorService:
        return FrontDoorService(self.app[JOURNAL_KEY], self.app[WORKERS_KEY], callbacks=self.app[CALLBACK_POLICY_KEY])

    async def accept(
        self, client: Client, canonical_json: dict[str, Any], *, envelope: bytes, message_id: str, reply_to: str | None
    ) -> tuple[str, bool]:
        return await self._service().accept(
            client, canonical_json, envelope=envelope, message_id=message_id, reply_to=reply_to
        )

    async def search(
        self,
        client: Client,
        organization: str,
        kind: str,
        begin: datetime | None,
        end: datetime | None,
        snils: str | None,
    ) -> list[tuple[str, str, datetime]]:
        return await self._service().search(client, organization, kind, begin, end, snils)


class _Inbound:
    """The core's InboundPort for plug-ins, forwarding once the receiver exists."""

    def __init__(self, app: web.Application) -> None:
        self.app = app

    async def receive(self, document: InboundDocument) -> InboundReceipt:
        return await self.app[INBOUND_KEY].receive(document)

    async def known(self, peer: str, peer_document_id: str) -> bool:
        return await self.app[INBOUND_KEY].known(peer, peer_document_id)


class _Requests:
    """The core's RequestPort for provider plug-ins, forwarding once the journal exists."""

    def __init__(self, app: web.Application) -> None:
        self.app = app

    def _journal(self) -> PeerRequests:
        return PeerRequests(self.app[JOURNAL_KEY])

    async def record(self, request: PeerRequest) -> RequestReceipt:
        return await self._journal().record(request)

    async def owed(self, peer: str, *, limit: int = 50) -> list[OwedAnswer]:
        return await self._journal().owed(peer, limit=limit)

    async def message_id(self, request_id: str, new_id: Callable[[], str]) -> str:
        return await self._journal().message_id(request_id, new_id)

    async def settle(
        self,
        request_id: str,
        result: Settlement,
        *,
        code: str | None = None,
        text: str | None = None,
        pause_seconds: float | None = None,
    ) -> None:
        await self._journal().settle(request_id, result, code=code, text=text, pause_seconds=pause_seconds)


def _discover_now(app: web.Application) -> Callable[[], None]:
    def wake() -> None:
        discovery = app.get(DISCOVERY_KEY)
        if discovery is not None:
            discovery.wake()
        else:
            _log.info("a peer announced an inbound document, but no discovery runs here ([inbound] discover_peers)")

    return wake


def _document_source(app: web.Application, peer: str) -> DocumentSource:
    async def source(local_uid: str, organization: str) -> bytes | None:
        journal = app[JOURNAL_KEY]
        sub = await journal.find_by_peer(peer, local_uid, organization or None)
        # Only a document this instance was sent (its message id was recorded before the send):
        # knowing a localUid and an organisation is not enough to download a signed document.
        if sub is None or not await PeerMessages(journal).sent(sub.id, peer):
            _log.warning(
                "security: a document asked for by a peer it was not sent to",
                security_event="DOCUMENT_NOT_SENT_TO_PEER",
                peer=peer,
                known=sub is not None,
            )
            return None
        return parse_submission(json.loads(await journal.payload(sub.id))).document

    return source


def _refusal_log(app: web.Application) -> RefusalLog:
    async def record(peer: str, path: str, remote: str | None, refusal: Refusal) -> None:
        """A refused peer call is a security event: counted, and written to the audit log that
        operators read (by the peer's name, never with the message's content)."""
        record_peer_refusal(peer, refusal.code)
        try:
            async with app[JOURNAL_KEY].engine.begin() as conn:
                await conn.execute(
                    ui_audit.insert().values(
                        at=app[CLOCK_KEY].now(),
                        username=f"peer:{peer}",
                        action="peer-call-refused",
                        outcome=refusal.code,
                        comment=f"{path} from {remote}: {refusal.reason}"[:500],
                    )
                )
        except Exception:
            _log.exception("security event not recorded", peer=peer, code=refusal.code)

    return record


def peer_context(app: web.Application, instance: PeerInstance) -> PeerContext:
    """One context per instance (its guard reads pinned certificates once)."""
    contexts = app.get(_CONTEXTS_KEY)
    if contexts is None:
        contexts = app[_CONTEXTS_KEY] = {}
    if instance.name not in contexts:
        contexts[instance.name] = _new_context(app, instance)
    return contexts[instance.name]


def _new_context(app: web.Application, instance: PeerInstance) -> PeerContext:
    config = app[CONFIG_KEY]
    guard = PeerGuard(instance.name, instance.settings.auth)
    if guard.unauthenticated and instance.plugin.capabilities.endpoints:
        _log.warning(
            "peer endpoints accept unauthenticated calls: configure peers.<name>.auth",
            peer=instance.name,
            allowed_explicitly=instance.settings.auth.allow_unauthenticated,
        )
    return PeerContext(
        name=instance.name,
        settings=instance.settings,
        public_url=(instance.settings.public_url or public_url(config)).rstrip("/"),
        path_prefix=f"/{instance.name}",
        max_body_bytes=config.server.max_body_bytes,
        sink=_Sink(app),
        documents=_document_source(app, instance.name),
        intake=_Intake(app),
        notice_timeout_seconds=config.notifications.timeout_seconds,
        guard=guard,
        on_refusal=_refusal_log(app),
        inbound=_Inbound(app),
        discover_now=_discover_now(app),
        requests=_Requests(app),
    )


def mount_peers(app: web.Application, instances: Mapping[str, PeerInstance]) -> None:
    """Mount every enabled instance's endpoints under /<name>."""
    app[INSTANCES_KEY] = dict(instances)
    for instance in instances.values():
        if instance.settings.enabled:
            app.router.add_routes(instance.plugin.routes(peer_context(app, instance)))


def notice_channels(app: web.Application) -> dict[str, ChannelSender]:
    """Notice senders contributed by enabled instances (a front door answers MIS its own way)."""
    channels: dict[str, ChannelSender] = {}
    for instance in app[INSTANCES_KEY].values():
        if instance.settings.enabled:
            channels.update(instance.plugin.notice_channels(peer_context(app, instance)))
    return channels


async def peers_ctx(app: web.Application) -> AsyncIterator[None]:
    """Build adapters once the HTTP session exists; the callback recorder once the journal does."""
    peers: dict[str, Peer] = {}
    for name, instance in app[INSTANCES_KEY].items():
        why = instance.usable
        if why is not None:
            _log.error("peer not usable: submissions routed to it wait", peer=name, reason=why)
            continue
        adapter = instance.plugin.build(peer_context(app, instance), app[HTTP_KEY], app[CLOCK_KEY])
        peers[name] = Peer(
            name, adapter, instance.settings, app[CLOCK_KEY], instance.codes, instance.plugin.capabilities
        )
    app[PEERS_KEY] = peers
    app[RECORDER_KEY] = CallbackRecorder(app[JOURNAL_KEY], peers)
    yield
