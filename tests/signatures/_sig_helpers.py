"""Helpers shared by the CMS / certificate / PKI tests (imported as a plain module, like
``_gost_vectors`` next door)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


def load_vector(family: str, name: str) -> bytes:
    """Bytes of tests/vectors/<family>/<name> (see the README there for provenance)."""
    return (VECTORS / family / name).read_bytes()


def openssl_gost_available() -> bool:
    """Whether `openssl ... -engine gost` works here (Debian libengine-gost-openssl)."""
    if shutil.which("openssl") is None:
        return False
    probe = subprocess.run(["openssl", "engine", "gost", "-t"], capture_output=True, text=True, check=False)
    return probe.returncode == 0 and "available" in probe.stdout


def flip(data: bytes, index: int) -> bytes:
    """``data`` with one bit of the byte at ``index`` flipped."""
    out = bytearray(data)
    out[index] ^= 0x01
    return bytes(out)
