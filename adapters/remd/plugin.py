"""The REMD protocol as a peer plug-in: REMD EGISZ itself, and any regional GIS that speaks the
REMD protocol (``[peers.gis-77] protocol = "remd"``), each instance with its own routes
(``/<name>/callback``, ``/<name>/getDocumentFile`` and, where enabled, the ``/<name>/service``
front door for MIS)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import aiohttp
from aiohttp import web

from adapters.remd.adapter import Adapter
from adapters.remd.callbacks import CALLBACK_SUFFIX, AddressedNotice, callback_routes
from adapters.remd.codes import remd_code_table
from adapters.remd.frontdoor import FrontDoor
from adapters.remd.inspect import inspect_envelope
from adapters.remd.messages import DocumentRegisteredNotification
from adapters.remd.notify import CHANNEL, remd_soap_sender
from adapters.remd.settings import RemdSettings
from gateway.common.clock import Clock
from gateway.peers.codes import CodeTable
from gateway.peers.contract import Capabilities, ChannelSender, DeliveryAdapter, PeerContext, TwinContext

__all__ = ["PLUGIN", "RemdPlugin"]


def _settings(ctx: PeerContext | TwinContext) -> RemdSettings:
    if not isinstance(ctx.settings, RemdSettings):  # the registry validates with settings_model
        raise TypeError(f"peer {ctx.name!r}: settings are {type(ctx.settings).__name__}, not RemdSettings")
    return ctx.settings


def _wake_discovery(ctx: PeerContext) -> AddressedNotice:
    async def wake(_: DocumentRegisteredNotification) -> None:
        if ctx.discover_now is not None:
            ctx.discover_now()

    return wake


class RemdPlugin:
    protocol: Final = "remd"
    settings_model = RemdSettings
    # registerDocument with the same localUid is recognised (NOT_UNIQUE_PROVIDED_ID), and
    # searchRegistryItem answers whether a document is registered.
    capabilities: Final = Capabilities(lookup=True, idempotent_resend=True, polling=False)
    description: Final = "REMD EGISZ protocol (SOAP 1.2, WS-Addressing callbacks): REMD and regional GIS relays"
    # The twin's registry of documents addressed to MOs (adapters/remd/sandbox/addressed.py):
    # the simulated ЕАВИИАС registers its results and return notices there (AddressedRegistryTwin).
    addressed_registry_path: Final = "/_sandbox/addressed"

    def code_table(self) -> CodeTable:
        return remd_code_table()

    def build(self, ctx: PeerContext, session: aiohttp.ClientSession, clock: Clock) -> DeliveryAdapter:
        settings = _settings(ctx)
        return Adapter(
            settings,
            session,
            clock=clock,
            public_url=settings.public_url or ctx.public_url,
            inline_document=settings.inline_document,
            name=ctx.name,
            callback_path=ctx.path_prefix + CALLBACK_SUFFIX,
        )

    def routes(self, ctx: PeerContext) -> Sequence[web.AbstractRouteDef]:
        settings = _settings(ctx)
        routes = list(
            callback_routes(
                ctx.sink,
                document_source=ctx.documents,
                max_bytes=ctx.max_body_bytes,
                prefix=ctx.path_prefix,
                peer=ctx.name,
                guard=ctx.guard,
                on_refusal=ctx.on_refusal,
                on_addressed=_wake_discovery(ctx),
            )
        )
        if settings.front_door:
            front = FrontDoor(ctx.intake, ctx.intake, max_body_bytes=ctx.max_body_bytes)
            routes.extend(front.routes(ctx.path_prefix))
        return routes

    def notice_channels(self, ctx: PeerContext) -> Mapping[str, ChannelSender]:
        if not _settings(ctx).front_door:
            return {}
        return {CHANNEL: remd_soap_sender(timeout_seconds=ctx.notice_timeout_seconds)}

    def twin(self, ctx: TwinContext) -> web.Application:
        from adapters.remd.sandbox import FaultProfile, create_twin

        identity = (ctx.key, ctx.certificate) if ctx.key is not None and ctx.certificate is not None else None
        return create_twin(FaultProfile.load(ctx.fault_profile), ctx.clock, seed=ctx.seed, identity=identity)

    def fault_profiles(self) -> Sequence[str]:
        return ("none", "flaky", "egisz-2023", "bench")

    def inspect(self, data: bytes) -> dict[str, Any] | None:
        """What the gateway makes of a REMD envelope (``mse-gateway envelope inspect``)."""
        return inspect_envelope(data, remd_code_table())


PLUGIN: Final = RemdPlugin()
