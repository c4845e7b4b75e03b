"""Composition of peers into the gateway app: adapters are built here (the one place in the core
that names adapter packages), their HTTP endpoints mounted, and their workers described.

Endpoints must be mounted when the app is created, while the journal and HTTP session exist only
after start-up; the small forwarding objects below bridge that gap.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, Final

from aiohttp import web

from gateway.appkeys import (
    CALLBACK_POLICY_KEY,
    CLIENTS_KEY,
    CLOCK_KEY,
    CONFIG_KEY,
    HTTP_KEY,
    JOURNAL_KEY,
    WORKERS_KEY,
)
from gateway.clients import Client
from gateway.config import GatewayConfig
from gateway.delivery.contract import PeerOutcome
from gateway.delivery.outcomes import CallbackRecorder
from gateway.delivery.peer import Peer
from gateway.frontdoor import FrontDoorService
from gateway.logs import get_logger
from gateway.notifier import ChannelSender
from gateway.submission import parse_submission

__all__ = ["PEERS_KEY", "RECORDER_KEY", "mount_peers", "notice_channels", "peers_ctx", "public_url"]

PEERS_KEY: Final = web.AppKey("peers", dict[str, Peer])
RECORDER_KEY: Final = web.AppKey("callback_recorder", CallbackRecorder)
_log: Final = get_logger(__name__)


def public_url(config: GatewayConfig) -> str:
    """This gateway's base URL as peers should call it back."""
    if config.peers.remd.public_url:
        return config.peers.remd.public_url.rstrip("/")
    host = "127.0.0.1" if config.server.host in ("0.0.0.0", "::", "") else config.server.host  # noqa: S104
    return f"http://{host}:{config.server.port}"


class _Sink:
    def __init__(self, app: web.Application) -> None:
        self.app = app

    async def __call__(self, outcome: PeerOutcome) -> None:
        await self.app[RECORDER_KEY](outcome)
        self.app[WORKERS_KEY].get("notifier", _NoLoop()).wake()


class _NoLoop:
    def wake(self) -> None:
        return None


class _Clients:
    def __init__(self, app: web.Application) -> None:
        self.app = app

    async def by_entity_id(self, entity_id: str) -> Client | None:
        return await self.app[CLIENTS_KEY].by_entity_id(entity_id)

    async def authenticate(self, token: str) -> Client | None:
        return await self.app[CLIENTS_KEY].authenticate(token)


class _FrontDoorCore:
    def __init__(self, app: web.Application) -> None:
        self.app = app

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


def _document_source(app: web.Application, peer: str) -> Any:
    async def source(local_uid: str, organization: str) -> bytes | None:
        journal = app[JOURNAL_KEY]
        sub = await journal.find_by_peer(peer, local_uid, organization or None)
        if sub is None:
            return None
        return parse_submission(json.loads(await journal.payload(sub.id))).document

    return source


def mount_peers(app: web.Application, config: GatewayConfig) -> None:
    """Mount every enabled peer's endpoints (callbacks, getDocumentFile, the REMD front door)."""
    if config.peers.remd.enabled:
        from adapters.remd.callbacks import callback_routes
        from adapters.remd.frontdoor import FrontDoor

        max_bytes = config.server.max_body_bytes
        app.router.add_routes(
            callback_routes(_Sink(app), document_source=_document_source(app, "remd"), max_bytes=max_bytes)
        )
        app.router.add_routes(FrontDoor(_FrontDoorCore(app), _Clients(app), max_body_bytes=max_bytes).routes())


def notice_channels(config: GatewayConfig) -> dict[str, ChannelSender]:
    """Notice senders contributed by peers (the REMD front door answers MIS the way REMD does)."""
    channels: dict[str, ChannelSender] = {}
    if config.peers.remd.enabled:
        from adapters.remd.notify import CHANNEL, remd_soap_sender

        channels[CHANNEL] = remd_soap_sender(timeout_seconds=config.notifications.timeout_seconds)
    return channels


async def peers_ctx(app: web.Application) -> AsyncIterator[None]:
    """Build adapters once the HTTP session exists; the callback recorder once the journal does."""
    config = app[CONFIG_KEY]
    peers: dict[str, Peer] = {}
    remd = config.peers.remd
    if remd.enabled:
        if not remd.url:
            _log.error("peers.remd.url is not set: submissions routed to REMD will wait in QUEUED")
        else:
            from adapters.remd import Adapter

            adapter = Adapter(
                remd,
                app[HTTP_KEY],
                base_url=remd.url,
                document_source=_document_source(app, "remd"),
                clock=app[CLOCK_KEY],
                public_url=public_url(config),
                max_body_bytes=config.server.max_body_bytes,
            )
            peers["remd"] = Peer("remd", adapter, remd, app[CLOCK_KEY])
    app[PEERS_KEY] = peers
    app[RECORDER_KEY] = CallbackRecorder(app[JOURNAL_KEY], peers)
    yield
