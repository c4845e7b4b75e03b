"""Peer instances from configuration: each ``[peers.<name>]`` table validated by its protocol's
plug-in, and the routes checked against them — all at start, so a gateway that would strand
documents does not start.

A configuration naming an unknown protocol, a key a protocol does not know, a malformed code
table, or a route to a peer that is not configured raises :class:`ConfigError` with the key at
fault (``peers.gis-77.protocol``, ``routes[kz-031u-to-shep].destination``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from pydantic import ValidationError

from gateway.delivery.routing import Router
from gateway.errors import ConfigError
from gateway.peers.codes import CodeTable
from gateway.peers.contract import PeerPlugin
from gateway.peers.settings import PeerSettings

__all__ = ["PeerInstance", "check_routes", "resolve_peers", "unauthenticated_peers"]

_NAME: Final = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class PeerInstance:
    """One configured peer: its name, protocol plug-in, validated settings and code table."""

    name: str
    plugin: PeerPlugin
    settings: PeerSettings
    codes: CodeTable

    @property
    def protocol(self) -> str:
        return self.plugin.protocol

    @property
    def usable(self) -> str | None:
        """Why this instance cannot deliver, or None when it can."""
        if not self.settings.enabled:
            return "disabled in configuration"
        if not self.settings.url:
            return f"peers.{self.name}.url is not set"
        return None


def resolve_peers(raw: Mapping[str, Mapping[str, Any]], plugins: Mapping[str, PeerPlugin]) -> dict[str, PeerInstance]:
    """Validate every configured instance with its protocol's settings model."""
    known = ", ".join(sorted(plugins)) or "none"
    tables: dict[str, CodeTable] = {}
    peers: dict[str, PeerInstance] = {}
    for name, table in raw.items():
        if not _NAME.match(name):
            raise ConfigError(
                f"peers.{name}: a peer name is 1-40 lower-case letters, digits, '-' or '_', "
                "starting with a letter or digit"
            )
        if not isinstance(table, Mapping):
            raise ConfigError(f"peers.{name}: expected a table of settings")
        protocol = str(table.get("protocol") or name)
        plugin = plugins.get(protocol)
        if plugin is None:
            where = "protocol" if "protocol" in table else "protocol (defaults to the peer's name)"
            raise ConfigError(f"peers.{name}.{where}: unknown protocol {protocol!r} (installed: {known})")
        try:
            settings = plugin.settings_model.model_validate({**table, "protocol": protocol})
        except ValidationError as exc:
            lines = []
            for err in exc.errors():
                key = ".".join(str(p) for p in err["loc"])
                reason = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
                lines.append(f"peers.{name}.{key}: {reason}")
            raise ConfigError("invalid configuration: " + "; ".join(lines), details={"errors": lines}) from None
        if protocol not in tables:
            tables[protocol] = plugin.code_table()
        peers[name] = PeerInstance(name, plugin, settings, tables[protocol])
    return peers


def check_routes(router: Router, peers: Mapping[str, PeerInstance]) -> None:
    """Every route must send to a configured peer; a route to nowhere would leave its documents
    QUEUED forever, so the gateway refuses to start instead."""
    configured = ", ".join(sorted(peers)) or "none"
    for route in router.routes:
        if route.destination not in peers:
            raise ConfigError(
                f"route {route.name!r} sends to peer {route.destination!r}, which is not configured "
                f"(configured peers: {configured}); add [peers.{route.destination}] or change the route"
            )


def unauthenticated_peers(peers: Mapping[str, PeerInstance]) -> list[str]:
    """Enabled instances whose endpoints would accept anyone's calls without saying so
    explicitly (``auth.allow_unauthenticated``): ``serve`` refuses to start with any. An instance
    whose plug-in has no endpoints (``capabilities.endpoints`` false) has nothing to guard."""
    return [
        name
        for name, peer in peers.items()
        if peer.settings.enabled
        and peer.plugin.capabilities.endpoints
        and not peer.settings.auth.configured
        and not peer.settings.auth.allow_unauthenticated
    ]
