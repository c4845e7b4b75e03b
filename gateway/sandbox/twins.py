"""The sandbox twins: for every enabled peer instance without a URL, its plug-in's simulated peer
on a loopback port, and the configuration pointed at it. Used by `sandbox`, `simulate` and the
benchmarks, so each runs the same twins the way a vendor sees them."""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from gateway.common.clock import Clock
from gateway.config import GatewayConfig
from gateway.peers.contract import PeerPlugin, TwinContext
from gateway.peers.registry import resolve_peers

__all__ = ["Twin", "free_port", "plan_twins"]


def free_port(host: str = "127.0.0.1", preferred: int = 0) -> int:
    """``preferred`` if it can be bound, else any free port."""
    for candidate in (preferred, 0) if preferred else (0,):
        with socket.socket() as s:
            try:
                s.bind((host, candidate))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise OSError("no free port")


@dataclass(frozen=True)
class Twin:
    name: str  # the peer instance it stands in for
    protocol: str
    app: web.Application
    host: str
    port: int
    fault_profile: str

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def plan_twins(
    config: GatewayConfig,
    clock: Clock,
    *,
    host: str = "127.0.0.1",
    first_port: int = 0,
    seed: int | None = None,
    plugins: Mapping[str, PeerPlugin] | None = None,
) -> tuple[GatewayConfig, list[Twin]]:
    """Twins for the enabled instances that have no URL, and the configuration with each such
    instance's ``url`` set to its twin."""
    if plugins is None:
        from gateway.peers.installed import installed_plugins

        plugins = installed_plugins()
    instances = resolve_peers(config.peers, plugins)
    twins: list[Twin] = []
    urls: dict[str, dict[str, Any]] = {}
    port = first_port
    for name, instance in instances.items():
        if not instance.settings.enabled or instance.settings.url:
            continue
        port = free_port(host, port + 1 if twins else port)
        profile = config.sandbox.fault_profiles.get(name, config.sandbox.fault_profile)
        app = instance.plugin.twin(TwinContext(name, instance.settings, clock, profile, seed))
        twins.append(Twin(name, instance.protocol, app, host, port, profile))
        urls[name] = {"url": f"http://{host}:{port}"}
    return (config.with_overrides(peers=urls) if urls else config), twins
