"""The deployment secret: 32 random bytes in a file, created on first start, from which purpose
keys are derived (HKDF), so one file to back up keys patient hashes and stored-body encryption."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["DeploymentSecret", "load_or_create_secret"]


class DeploymentSecret:
    def __init__(self, master: bytes) -> None:
        if len(master) < 32:
            raise ValueError("deployment secret must be at least 32 bytes")
        self._master = master

    def derive(self, purpose: str) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(self._master)


def load_or_create_secret(path: Path) -> DeploymentSecret:
    """Read the secret, creating it (mode 0600) if missing. Never overwrites an existing file."""
    try:
        return DeploymentSecret(path.read_bytes())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    material = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its secret
        return DeploymentSecret(path.read_bytes())
    with os.fdopen(fd, "wb") as fh:
        fh.write(material)
    return DeploymentSecret(material)
