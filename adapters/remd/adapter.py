"""``Adapter``: REMD EGISZ as a :class:`gateway.delivery.contract.DeliveryAdapter`."""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from adapters.remd.callbacks import CALLBACK_PATH, DocumentSource, callback_routes
from adapters.remd.client import RemdClient
from adapters.remd.mapping import PEER
from gateway.common.clock import Clock, SystemClock
from gateway.common.logs import get_logger
from gateway.config import RemdPeerConfig
from gateway.delivery.contract import Answer, CallbackSink, LookupResult
from gateway.intake.submission import CanonicalSubmission
from gateway.model import Submission
from gateway.wire.safexml import DEFAULT_MAX_BYTES

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
    """Delivers submissions to REMD and receives its callbacks.

    ``base_url``: the REMD endpoint (falls back to ``config.url``). Callbacks are requested at
    ``<public_url>/remd/callback`` (``public_url`` argument, else ``config.public_url``).
    ``document_source`` serves REMD's getDocumentFile. ``clock`` dates the reconciliation window
    (pass the sandbox's simulated clock there). ``inline_document=False`` sends only the checksum
    and lets REMD pull the file.
    """

    name: str = PEER

    def __init__(
        self,
        config: RemdPeerConfig,
        session: aiohttp.ClientSession,
        *,
        base_url: str | None = None,
        document_source: DocumentSource | None = None,
        clock: Clock | None = None,
        public_url: str | None = None,
        inline_document: bool = True,
        max_body_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        base = base_url or config.url
        if not base:
            raise ValueError("the REMD endpoint is not configured (peers.remd.url or base_url)")
        public = (public_url if public_url is not None else config.public_url).rstrip("/")
        self.callback_url: str | None = public + CALLBACK_PATH if public else None
        if self.callback_url is None:
            _log.warning("REMD adapter without a public URL: requests carry no ReplyTo, callbacks cannot arrive")
        self.config = config
        self.document_source = document_source
        self.max_body_bytes = max_body_bytes
        self.client = RemdClient(
            session,
            endpoint=endpoint_url(base),
            client_entity_id=config.client_entity_id,
            timeout_seconds=config.timeout_seconds,
            reply_to=self.callback_url,
            clock=clock or SystemClock(),
            inline_document=inline_document,
        )

    @property
    def endpoint(self) -> str:
        return self.client.endpoint

    async def send(self, sub: Submission, canonical: CanonicalSubmission) -> Answer:
        return await self.client.register(sub, canonical)

    async def lookup(self, sub: Submission, canonical: CanonicalSubmission) -> LookupResult:
        return await self.client.search(sub, canonical)

    def routes(self, sink: CallbackSink) -> web.RouteTableDef:
        return callback_routes(sink, document_source=self.document_source, max_bytes=self.max_body_bytes)
