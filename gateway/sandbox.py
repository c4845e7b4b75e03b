"""Sandbox set-up: what `mse-gateway sandbox` prepares so a vendor can start testing at once —
a client with a token (written to ``<data-dir>/sandbox-client.json``), and the organisations the
sandbox's sample documents use."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from gateway.config import GatewayConfig
from gateway.errors import NotFound
from gateway.storage import open_store

__all__ = ["SANDBOX_CLIENT", "SANDBOX_ORGS", "SandboxClient", "prepare_sandbox_client"]

SANDBOX_CLIENT: Final = "sandbox-mis"
# FRMO-shaped OIDs (region code in the 10th arc) of the sandbox's fictitious organisations:
# medical organisations in Moscow (77), Moscow region (50) and Tatarstan (16), an MSE bureau (77),
# and a Kazakh clinic (KZ organisations have no FRMO OID; the sandbox uses a private arc).
SANDBOX_ORGS: Final = (
    "1.2.643.5.1.13.13.12.2.77.7973",
    "1.2.643.5.1.13.13.12.2.50.5103",
    "1.2.643.5.1.13.13.12.2.16.1601",
    "1.2.643.5.1.13.13.12.2.77.9001",
    "1.2.398.7.1.11.1.1",
)


@dataclass(frozen=True)
class SandboxClient:
    source_system: str
    token: str
    organization_oids: tuple[str, ...]
    path: Path


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
                _, token = await registry.add(SANDBOX_CLIENT, SANDBOX_ORGS, soap_client_entity_id="sandbox-mis-entity")
    data = {"source_system": SANDBOX_CLIENT, "token": token, "organization_oids": list(SANDBOX_ORGS)}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh, indent=2)
    return SandboxClient(SANDBOX_CLIENT, token, SANDBOX_ORGS, path)
