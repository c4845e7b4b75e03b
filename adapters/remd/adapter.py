"""``Adapter``: one REMD-protocol peer instance (REMD itself, or a regional GIS that speaks the
REMD protocol) as a :class:`gateway.peers.contract.DeliveryAdapter`."""

from __future__ import annotations

import uuid
from typing import Final
from urllib.parse import urlsplit

import aiohttp

from adapters.remd.callbacks import CALLBACK_PATH
from adapters.remd.client import RemdClient
from adapters.remd.discovery import RemdDiscovery
from adapters.remd.mapping import PEER
from adapters.remd.settings import RemdSettings
from gateway.common.clock import Clock, SystemClock
from gateway.common.logs import get_logger
from gateway.inbound.contract import DiscoveryBatch, DiscoveryQuery, InboundPort
from gateway.intake.submission import CanonicalSubmission
from gateway.model import Submission
from gateway.peers.contract import Answer, LookupResult

__all__ = ["SERVICE_PATH", "Adapter", "endpoint_url"]

SERVICE_PATH: Final = "/remd/service"
_log: Final = get_logger(__name__)


def endpoint_url(base_url: str) -> str:
    """The REMD service endpoint for ``base_url``: used as given when it has a path (a real REMD
    address such as ``https://host/emdr``); a bare origin (the sandbox twin, or the gateway's own
    front door) gets ``/remd/service`` appended."""
    parts = urlsplit(base_url)
    if parts.path in ("", "/"):
        return base_url.rstrip("/") + SERVICE_PATH
    return base_url


class Adapter:
    """Delivers submissions to one REMD-protocol endpoint.

    ``base_url``: the endpoint (falls back to ``config.url``). Callbacks are requested at
    ``<public_url><callback_path>`` (``public_url`` argument, else ``config.public_url``).
    ``clock`` dates the reconciliation window (pass the sandbox's simulated clock there).
    ``inline_document=False`` sends only the checksum and lets the peer pull the file.
    """

    def __init__(
        self,
        config: RemdSettings,
        session: aiohttp.ClientSession,
        *,
        base_url: str | None = None,
        clock: Clock | None = None,
        public_url: str | None = None,
        inline_document: bool = True,
        name: str = PEER,
        callback_path: str = CALLBACK_PATH,
    ) -> None:
        base = base_url or config.url
        if not base:
            raise ValueError(f"the endpoint of peer {name!r} is not configured (peers.{name}.url or base_url)")
        public = (public_url if public_url is not None else config.public_url).rstrip("/")
        self.name = name
        self.callback_url: str | None = public + callback_path if public else None
        if self.callback_url is None:
            _log.warning("REMD adapter without a public URL: requests carry no ReplyTo, callbacks cannot arrive")
        self.config = config
        self.client = RemdClient(
            session,
            endpoint=endpoint_url(base),
            client_entity_id=config.client_entity_id,
            timeout_seconds=config.timeout_seconds,
            reply_to=self.callback_url,
            clock=clock or SystemClock(),
            inline_document=inline_document,
            peer=name,
        )
        self.discovery = RemdDiscovery(
            session,
            endpoint=self.client.endpoint,
            client_entity_id=config.client_entity_id,
            timeout_seconds=config.timeout_seconds,
            peer=name,
        )

    @property
    def endpoint(self) -> str:
        return self.client.endpoint

    def new_message_id(self) -> str:
        return str(uuid.uuid4())

    async def send(self, sub: Submission, canonical: CanonicalSubmission, *, message_id: str) -> Answer:
        return await self.client.register(sub, canonical, message_id=message_id)

    async def lookup(self, sub: Submission, canonical: CanonicalSubmission) -> LookupResult:
        return await self.client.search(sub, canonical)

    async def discover(self, query: DiscoveryQuery, port: InboundPort) -> DiscoveryBatch:
        """Documents addressed to ``query.recipient_oid`` (:class:`~gateway.inbound.contract.InboundDiscovery`)."""
        return await self.discovery.discover(query, port)
