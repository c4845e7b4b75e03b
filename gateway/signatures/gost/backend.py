"""Which implementation runs the GOST primitives, and why.

``auto`` (the default) uses OpenSSL with the GOST engine when it loads and passes its self-test,
and the pure-Python code otherwise. ``GATEWAY_CRYPTO_BACKEND=auto|openssl|pure`` overrides that
for the process; :func:`use_backend` overrides both, for tests and tools. Forcing ``openssl`` on a
machine without the engine is an error (:class:`BackendUnavailable`), never a silent fallback.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Final, Literal

from gateway.signatures.gost import _openssl
from gateway.signatures.gost.errors import BackendUnavailable

__all__ = ["ENV_VAR", "BackendInfo", "BackendName", "active_openssl", "backend_info", "use_backend"]

ENV_VAR: Final = "GATEWAY_CRYPTO_BACKEND"

BackendName = Literal["openssl-gost", "pure-python"]
_Choice = Literal["auto", "openssl", "pure"]

_SPELLINGS: Final[dict[str, _Choice]] = {
    "auto": "auto",
    "openssl": "openssl",
    "openssl-gost": "openssl",
    "pure": "pure",
    "pure-python": "pure",
}

_PURE_DETAILS: Final = {
    "streebog": "pure Python (8 LPS lookup tables of 256 words)",
    "gost3410": "pure Python (Jacobian coordinates, fixed-base comb, wNAF; combs for hot keys)",
}


@dataclass(frozen=True)
class BackendInfo:
    """The active backend, a one-line reason, and diagnostic details (paths, versions, choices)."""

    name: BackendName
    reason: str
    details: dict[str, str] = field(default_factory=dict)


_overrides: list[_Choice] = []
_overrides_lock = threading.Lock()


def _parse(value: str, source: str) -> _Choice:
    choice = _SPELLINGS.get(value.strip().lower())
    if choice is None:
        raise ValueError(f"{source}: {value!r} is not a crypto backend (use auto, openssl or pure)")
    return choice


def _requested() -> tuple[_Choice, str]:
    """The backend asked for and who asked: use_backend(), the environment, or nobody."""
    if _overrides:
        return _overrides[-1], "use_backend()"
    raw = os.environ.get(ENV_VAR, "")
    if not raw.strip():
        return "auto", "default"
    return _parse(raw, ENV_VAR), f"{ENV_VAR}={raw.strip()}"


def active_openssl() -> _openssl.OpenSSLGost | None:
    """The OpenSSL backend if it is the one to use now, else None (meaning pure Python)."""
    choice, source = _requested()
    if choice == "pure":
        return None
    try:
        return _openssl.load()
    except BackendUnavailable as exc:
        if choice == "openssl":
            raise BackendUnavailable(f"{source} requires the OpenSSL GOST backend: {exc}") from None
        return None


def backend_info() -> BackendInfo:
    """Describe the backend the next operation will use; raise if a forced backend is missing."""
    choice, source = _requested()
    if choice == "pure":
        return BackendInfo("pure-python", f"forced by {source}", {**_PURE_DETAILS, "selection": source})
    try:
        loaded = _openssl.load()
    except BackendUnavailable as exc:
        if choice == "openssl":
            raise BackendUnavailable(f"{source} requires the OpenSSL GOST backend: {exc}") from None
        return BackendInfo("pure-python", str(exc), {**_PURE_DETAILS, "selection": source})
    how = "" if choice == "auto" else f" (forced by {source})"
    reason = f"gost engine loaded from {loaded.details['engine']}{how}"
    return BackendInfo("openssl-gost", reason, {**loaded.details, "selection": source})


@contextmanager
def use_backend(name: str) -> Iterator[None]:
    """Run the block with the named backend (``auto``, ``openssl``/``openssl-gost``,
    ``pure``/``pure-python``), for the whole process.

    Meant for tests, benchmarks and diagnostics: the override is process-wide (worker threads see
    it too) and nests. Forcing ``openssl`` where it cannot load raises on entry.
    """
    choice = _parse(name, "use_backend")
    if choice == "openssl":
        try:
            _openssl.load()
        except BackendUnavailable as exc:
            raise BackendUnavailable(f"use_backend('openssl'): {exc}") from None
    with _overrides_lock:
        _overrides.append(choice)
    try:
        yield
    finally:
        with _overrides_lock:
            # Remove this block's entry even if blocks in other threads exit out of order.
            for i in range(len(_overrides) - 1, -1, -1):
                if _overrides[i] == choice:
                    del _overrides[i]
                    break
