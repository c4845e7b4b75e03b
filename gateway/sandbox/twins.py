"""The sandbox twins: for every enabled peer instance without a URL, its plug-in's simulated peer
on a loopback port, and the configuration pointed at it. Used by `sandbox`, `simulate` and the
benchmarks, so each runs the same twins the way a vendor sees them."""

from __future__ import annotations

import json
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from gateway.common.clock import Clock
from gateway.config import GatewayConfig
from gateway.peers.contract import AddressedRegistryTwin, PeerPlugin, SandboxConfigurer, TwinContext
from gateway.peers.registry import PeerInstance, resolve_peers
from gateway.signatures._asn1 import der_to_pem
from gateway.signatures.certificates import Certificate
from gateway.signatures.keys import PrivateKey, generate_key
from gateway.signatures.pki.builder import build_certificate, build_name

__all__ = ["Twin", "auth_env", "free_port", "plan_twins", "twin_identity"]


# Ports the kernel never gives to an outgoing connection: a port picked by binding to 0 lies in the
# ephemeral range, and between the pick and the server's bind (seconds, while keys and the journal are
# prepared) any outgoing connection on the machine may take it as its local port. Below that range a
# port can be taken only by another explicit bind. Linux's default range starts at 32768.
_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_PICK_FROM = 20000


def _pick_range() -> range | None:
    try:
        low = int(_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return range(_PICK_FROM, low) if low - _PICK_FROM >= 1000 else None


def free_port(host: str = "127.0.0.1", preferred: int = 0) -> int:
    """``preferred`` if it can be bound, else a free port below the kernel's ephemeral range (any
    free port where that range is unknown or leaves too little room below it)."""
    candidates: list[int] = [preferred] if preferred else []
    span = _pick_range()
    if span is not None:
        candidates += [secrets.choice(span) for _ in range(20)]
    for candidate in [*candidates, 0]:
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
    # Ports first: a twin may need another's address (the simulated ЕАВИИАС registers its
    # documents at the REMD twin the gateway discovers them from).
    ports: dict[str, int] = {}
    port = first_port
    for name, instance in instances.items():
        if instance.settings.enabled and not instance.settings.url:
            port = free_port(host, port + 1 if ports else port)
            ports[name] = port
    registry = _addressed_registry(config, instances, ports, host)
    for name, instance in instances.items():
        if name not in ports:
            continue
        port = ports[name]
        profile = config.sandbox.fault_profiles.get(name, config.sandbox.fault_profile)
        override: dict[str, Any] = {"url": f"http://{host}:{port}"}
        key, cert = None, None
        configurer = instance.plugin if isinstance(instance.plugin, SandboxConfigurer) else None
        if not instance.settings.auth.configured or configurer is not None:
            key, cert, cert_path = twin_identity(config.data_dir / "twins", name)
        if not instance.settings.auth.configured:
            # The twin authenticates like a production peer should: from loopback only, with
            # its messages signed by a certificate pinned here.
            override["auth"] = {
                "allow_addresses": ["127.0.0.0/8", "::1/128"],
                "signer_certificates": [str(cert_path)],
            }
        settings = instance.settings
        pki_dir = config.data_dir / "pki"  # prepare_sandbox's test PKI (gateway.sandbox.setup)
        if configurer is not None:
            # e.g. a polling peer: its request-signing identity and the trust of the twin's answers
            ctx = TwinContext(name, settings, clock, profile, seed, key, cert, pki_dir, registry)
            extra = configurer.sandbox_settings(ctx, config.data_dir / "twins")
            override.update(extra)
            settings = type(settings).model_validate(settings.model_dump() | extra)
        app = instance.plugin.twin(TwinContext(name, settings, clock, profile, seed, key, cert, pki_dir, registry))
        twins.append(Twin(name, instance.protocol, app, host, port, profile))
        urls[name] = override
    return (config.with_overrides(peers=urls) if urls else config), twins


def _addressed_registry(
    config: GatewayConfig, instances: Mapping[str, PeerInstance], ports: dict[str, int], host: str
) -> str | None:
    """The URL where twins register documents addressed to MOs: the registry of a twin whose
    plug-in keeps one, preferring an instance the gateway discovers from ([inbound]
    discover_peers), so what a twin registers there is what the gateway finds."""
    candidates = [n for n in ports if isinstance(instances[n].plugin, AddressedRegistryTwin)]
    candidates.sort(key=lambda n: n not in config.inbound.discover_peers)
    if not candidates:
        return None
    name = candidates[0]
    plugin = instances[name].plugin
    assert isinstance(plugin, AddressedRegistryTwin)
    path = plugin.addressed_registry_path
    return f"http://{host}:{ports[name]}{path}"


def twin_identity(directory: Path, name: str) -> tuple[PrivateKey, Certificate, Path]:
    """A fresh self-signed ECDSA P-256 identity for one twin; its certificate written to
    ``<directory>/<name>.pem`` for the gateway to pin. ECDSA, not GOST: the twin signs every
    callback, and P-256 is fast on every machine (GOST signing falls back to pure Python where
    the engine is missing)."""
    key = generate_key("ecdsa")
    now = datetime.now(UTC)
    cert = build_certificate(
        subject=build_name([("2.5.4.3", f"sandbox twin {name}"), ("2.5.4.10", "mse-gateway sandbox")]),
        subject_key=key.public,
        issuer_key=key,
        issuer=None,
        serial=secrets.randbits(63),
        not_before=now - timedelta(days=1),
        not_after=now + timedelta(days=3650),
    )
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.pem"
    path.write_bytes(der_to_pem(cert.der, "CERTIFICATE"))
    return key, cert, path


def auth_env(config: GatewayConfig, name: str) -> dict[str, str]:
    """Environment overrides carrying peer ``name``'s auth settings, for `serve` processes."""
    auth = config.peers.get(name, {}).get("auth", {})
    prefix = f"GATEWAY_PEERS__{name.upper().replace('-', '_')}__AUTH__"
    return {prefix + key.upper(): json.dumps(value) for key, value in auth.items()}
