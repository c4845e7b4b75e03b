"""What a sandbox (`mse-gateway sandbox`) leaves in its data directory for other commands and for
the vendor page: its client's credentials (``sandbox-client.json``) and its test PKI (``pki/``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = ["SANDBOX_CLIENT", "SANDBOX_ENTITY_ID", "SandboxFiles", "read_sandbox_client"]

SANDBOX_CLIENT: Final = "sandbox-mis"
# The sandbox client's clientEntityId at the SOAP front door (egis:transportHeader/authInfo).
SANDBOX_ENTITY_ID: Final = "sandbox-mis-entity"


@dataclass(frozen=True)
class SandboxFiles:
    """What a running (or once run) sandbox left in its data directory for other commands."""

    source_system: str
    token: str
    client_entity_id: str
    pki_dir: Path


def read_sandbox_client(data_dir: Path) -> SandboxFiles | None:
    """The sandbox client and test PKI of ``data_dir``, or None when it is not a sandbox's."""
    path = data_dir / "sandbox-client.json"
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not (data_dir / "pki").is_dir():
        return None
    return SandboxFiles(
        source_system=str(data.get("source_system") or SANDBOX_CLIENT),
        token=str(data.get("token") or ""),
        client_entity_id=str(data.get("client_entity_id") or SANDBOX_ENTITY_ID),
        pki_dir=data_dir / "pki",
    )
