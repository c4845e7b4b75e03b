"""Sandbox set-up: what `mse-gateway sandbox` (and `simulate`) prepares so a vendor can start testing
at once — a test PKI whose CA the gateway trusts (``<data-dir>/pki``, generated once), and a client
with a token written to ``<data-dir>/sandbox-client.json``."""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Final

from gateway.common.sandbox_files import SANDBOX_CLIENT, SANDBOX_ENTITY_ID, SandboxFiles, read_sandbox_client
from gateway.common.shipped import shipped
from gateway.config import GatewayConfig
from gateway.errors import NotFound
from gateway.flk.sample_pki import SampleSigners
from gateway.intake.opening import open_store

__all__ = [
    "SANDBOX_CLIENT",
    "SANDBOX_CRL_VALIDITY",
    "SANDBOX_ENTITY_ID",
    "SANDBOX_ORGS",
    "SANDBOX_PEERS",
    "SandboxClient",
    "SandboxFiles",
    "prepare_sandbox",
    "prepare_sandbox_client",
    "read_sandbox_client",
    "sandbox_defaults",
    "sandbox_overrides",
]

# The sandbox's peers when the configuration names none of its own: REMD, the Moscow regional
# GIS as a relay that speaks the REMD protocol (MIS → regional GIS → REMD, as in the 2020 order on
# MSE information exchange), and ШЭП towards АИС ЦБДИ for the Kazakh form 031/у.
# config/routes.sandbox.toml sends region-77 referrals through the GIS and kz-031u to ШЭП.
# ФГИС ЕАВИИАС over SMEV 3 (docs/eaviias.md) runs with a simulated bureau behind its twin; no
# route of the default sandbox sends to it (routes.sandbox.toml shows the one to enable):
# answers take working days, so its reconciliation waits 3 days between turns.
SANDBOX_PEERS: Final = {
    "remd": {"protocol": "remd"},
    "gis-77": {"protocol": "remd", "front_door": False},
    "eaviias": {"protocol": "smev3", "content_profile": "eaviias", "reconcile_schedule_minutes": [4320.0]},
    "shep": {"protocol": "shep"},
}

# The sandbox client may submit for any organisation: the sample generator invents Russian MOs, an
# MSE bureau and Kazakh clinics with fresh identifiers. A production client lists its OIDs.
SANDBOX_ORGS: Final = ("*",)


@dataclass(frozen=True)
class SandboxClient:
    source_system: str
    token: str
    organization_oids: tuple[str, ...]
    path: Path
    client_entity_id: str = SANDBOX_ENTITY_ID


def sandbox_defaults(config: GatewayConfig) -> GatewayConfig:
    """The sandbox's peers and routes, unless the configuration chose its own."""
    if config.peers != GatewayConfig().peers or config.routing.routes_file:
        return config
    routes = shipped("config/routes.sandbox.toml")
    return config.with_overrides(
        peers=SANDBOX_PEERS, routing={"routes_file": str(routes) if routes is not None else ""}
    )


# The sandbox's CA issues CRLs valid this long: a simulated clock running days per second must not
# outrun them (a CRL past its nextUpdate makes every verdict INDETERMINATE, as in production).
SANDBOX_CRL_VALIDITY: Final = timedelta(days=3650)


def sandbox_overrides(config: GatewayConfig, pki_dir: Path) -> dict[str, dict[str, object]]:
    """What the sandbox changes in the configuration, each only where the operator set nothing."""
    overrides: dict[str, dict[str, object]] = {}
    if not config.validation.trust_dir:
        overrides["validation"] = {"trust_dir": str(pki_dir)}
    if not config.security.callback_hosts:
        overrides["security"] = {"callback_hosts": ["*"], "allow_private_callbacks": True}
    # Documents addressed to the sandbox's MOs (results, return notices registered at the REMD
    # twin) are discovered there, every 30 s (docs/inbound.md).
    if not config.inbound.discover_peers and "remd" in config.peers:
        overrides["inbound"] = {"discover_peers": ["remd"], "interval_seconds": 30.0}
    return overrides


async def prepare_sandbox_client(config: GatewayConfig) -> SandboxClient:
    """Create (or re-issue) the sandbox client and write its credentials file (mode 0600)."""
    path = config.data_dir / "sandbox-client.json"
    async with open_store(config) as (_, registry):
        token = None
        if path.exists():
            token = json.loads(path.read_text()).get("token")
            if token and await registry.authenticate(token) is None:
                token = None
        if token is None:
            try:
                await registry.get(SANDBOX_CLIENT)
                token = await registry.rotate(SANDBOX_CLIENT)
            except NotFound:
                _, token = await registry.add(SANDBOX_CLIENT, SANDBOX_ORGS, soap_client_entity_id=SANDBOX_ENTITY_ID)
        entity_id = (await registry.get(SANDBOX_CLIENT)).soap_client_entity_id or SANDBOX_ENTITY_ID
    data = {
        "source_system": SANDBOX_CLIENT,
        "token": token,
        "organization_oids": list(SANDBOX_ORGS),
        "client_entity_id": entity_id,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2)
    return SandboxClient(SANDBOX_CLIENT, token, SANDBOX_ORGS, path, entity_id)


async def prepare_sandbox(config: GatewayConfig) -> tuple[GatewayConfig, SandboxClient, SampleSigners]:
    """The sandbox's test PKI (trusted unless the configuration names its own anchors) and client.

    Revocation is checked for real: the test PKI's CRLs (``<data-dir>/pki/crl``) are the CRL
    sources, re-issued at every start (see :func:`sandbox_overrides`). Callbacks may go to any host,
    loopback included, unless the configuration says otherwise: a vendor's test MIS listens on
    the vendor's own machine, and the sandbox serves no patient data."""
    pki_dir = config.data_dir / "pki"
    signers = await asyncio.to_thread(SampleSigners.open_or_create, pki_dir)
    await asyncio.to_thread(signers.pki.write_crls, validity=SANDBOX_CRL_VALIDITY)
    config = config.with_overrides(**sandbox_overrides(config, pki_dir))
    client = await prepare_sandbox_client(config)
    return config, client, signers
