"""Typed keys for what the application shares between handlers (aiohttp AppKey)."""

from __future__ import annotations

from typing import Any, Final

import aiohttp
from aiohttp import web

from gateway.common.clock import Clock
from gateway.config import GatewayConfig
from gateway.delivery.peer import Peer
from gateway.delivery.routing import Router
from gateway.inbound.discovery import Discovery
from gateway.inbound.receive import InboundReceiver
from gateway.intake.clients import ClientRegistry
from gateway.journal.store import Journal
from gateway.journal.worker import ClaimLoop
from gateway.validation.contract import Checker
from gateway.wire.outbound import CallbackPolicy

__all__ = [
    "CALLBACK_POLICY_KEY",
    "CHECKER_KEY",
    "CLIENTS_KEY",
    "CLOCK_KEY",
    "CONFIG_KEY",
    "DISCOVERY_KEY",
    "DRY_CHECKER_KEY",
    "HTTP_KEY",
    "INBOUND_KEY",
    "JOURNAL_KEY",
    "PEERS_KEY",
    "ROUTER_KEY",
    "WORKERS_KEY",
]

CONFIG_KEY: Final = web.AppKey("config", GatewayConfig)
JOURNAL_KEY: Final = web.AppKey("journal", Journal)
CLOCK_KEY: Final = web.AppKey("clock", Clock)
CLIENTS_KEY: Final = web.AppKey("clients", ClientRegistry)
CHECKER_KEY: Final = web.AppKey("checker", Checker)
DRY_CHECKER_KEY: Final = web.AppKey("dry_checker", Checker)  # /api/v1/check: no journal look-ups
ROUTER_KEY: Final = web.AppKey("router", Router)
HTTP_KEY: Final = web.AppKey("http", aiohttp.ClientSession)
WORKERS_KEY: Final = web.AppKey("workers", dict[str, ClaimLoop[Any]])
CALLBACK_POLICY_KEY: Final = web.AppKey("callback_policy", CallbackPolicy)
PEERS_KEY: Final = web.AppKey("peers", dict[str, Peer])  # filled by gateway.peers.mount
INBOUND_KEY: Final = web.AppKey("inbound", InboundReceiver)  # the one inbound path (gateway.inbound)
DISCOVERY_KEY: Final = web.AppKey("inbound_discovery", Discovery)  # set when [inbound] discover_peers is
