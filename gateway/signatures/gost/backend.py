"""Which implementation runs the GOST primitives, and why.

Three layers, picked per primitive:

======================  ==========================  ===========================
backend                 Streebog (GOST R 34.11)     GOST R 34.10 sign/verify
======================  ==========================  ===========================
``openssl-gost``        OpenSSL gostprov / engine   OpenSSL GOST engine
``libgcrypt-fallback``  libgcrypt (``ctypes``)      pure Python
``pure-python``         pure Python                 pure Python
======================  ==========================  ===========================

``auto`` (the default) uses OpenSSL with the GOST engine when it loads and passes its self-test;
otherwise the fallback: Streebog from libgcrypt when it loads and passes its self-test, else pure
Python, and GOST R 34.10 in pure Python (libgcrypt's GOST signatures are not used: the pure-Python
code is already fast enough for one verification per document, and one implementation of the
signature arithmetic to audit is better than two).

``GATEWAY_CRYPTO_BACKEND=auto|openssl|fallback|pure`` overrides that for the process;
:func:`use_backend` overrides both, for tests and tools. ``fallback`` is the fallback exactly as
it runs without the engine (libgcrypt Streebog + pure-Python GOST R 34.10); ``pure`` is everything
in pure Python (cross-checks, and machines without any native library). Forcing ``openssl`` without
the engine, or ``fallback`` without a working libgcrypt, is an error (:class:`BackendUnavailable`),
never a silent downgrade.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Final, Literal

from gateway.signatures.gost import _gcrypt, _openssl
from gateway.signatures.gost.errors import BackendUnavailable

__all__ = [
    "ENV_VAR",
    "BackendInfo",
    "BackendName",
    "Gost3410Impl",
    "StreebogImpl",
    "active_gcrypt",
    "active_openssl",
    "backend_info",
    "use_backend",
]

ENV_VAR: Final = "GATEWAY_CRYPTO_BACKEND"

BackendName = Literal["openssl-gost", "libgcrypt-fallback", "pure-python"]
StreebogImpl = Literal["openssl-gost", "libgcrypt", "pure-python"]
Gost3410Impl = Literal["openssl-gost", "pure-python"]
_Choice = Literal["auto", "openssl", "fallback", "pure"]

_SPELLINGS: Final[dict[str, _Choice]] = {
    "auto": "auto",
    "openssl": "openssl",
    "openssl-gost": "openssl",
    "fallback": "fallback",
    "libgcrypt-fallback": "fallback",
    "pure": "pure",
    "pure-python": "pure",
}

_PURE_STREEBOG: Final = "pure Python (8 LPS lookup tables of 256 words)"
_PURE_GOST3410: Final = "pure Python (Jacobian coordinates, fixed-base comb, wNAF; combs for hot keys)"


@dataclass(frozen=True)
class BackendInfo:
    """The active backend, a one-line reason, which implementation runs each primitive, and
    diagnostic details (paths, versions, choices, and why each implementation was chosen)."""

    name: BackendName
    reason: str
    streebog: StreebogImpl
    gost3410: Gost3410Impl
    details: dict[str, str] = field(default_factory=dict)


_overrides: list[_Choice] = []
_overrides_lock = threading.Lock()


def _parse(value: str, source: str) -> _Choice:
    choice = _SPELLINGS.get(value.strip().lower())
    if choice is None:
        raise ValueError(f"{source}: {value!r} is not a crypto backend (use auto, openssl, fallback or pure)")
    return choice


def _requested() -> tuple[_Choice, str]:
    """The backend asked for and who asked: use_backend(), the environment, or nobody."""
    if _overrides:
        return _overrides[-1], "use_backend()"
    raw = os.environ.get(ENV_VAR, "")
    if not raw.strip():
        return "auto", "default"
    return _parse(raw, ENV_VAR), f"{ENV_VAR}={raw.strip()}"


def _require_openssl(source: str) -> _openssl.OpenSSLGost:
    try:
        return _openssl.load()
    except BackendUnavailable as exc:
        raise BackendUnavailable(f"{source} requires the OpenSSL GOST backend: {exc}") from None


def _require_gcrypt(source: str) -> _gcrypt.Gcrypt:
    try:
        return _gcrypt.load()
    except BackendUnavailable as exc:
        raise BackendUnavailable(f"{source} requires libgcrypt's Streebog (the fallback): {exc}") from None


def _engine_or_none() -> _openssl.OpenSSLGost | None:
    try:
        return _openssl.load()
    except BackendUnavailable:
        return None


def active_openssl() -> _openssl.OpenSSLGost | None:
    """The OpenSSL backend if it is the one to use now, else None (the fallback or pure Python)."""
    choice, source = _requested()
    if choice == "openssl":
        return _require_openssl(source)
    if choice == "auto":
        return _engine_or_none()
    return None


def active_gcrypt() -> _gcrypt.Gcrypt | None:
    """libgcrypt if Streebog should come from it now (the fallback), else None.

    Only consulted when :func:`active_openssl` is None, so ``auto`` tries the engine first.
    """
    choice, source = _requested()
    if choice == "fallback":
        return _require_gcrypt(source)
    if choice == "auto":
        try:
            return _gcrypt.load()
        except BackendUnavailable:
            return None
    return None


def _fallback_info(choice: _Choice, source: str, engine_reason: str | None) -> BackendInfo:
    """The fallback as chosen: libgcrypt Streebog if it works (required when forced), else pure."""
    details = {"selection": source}
    if engine_reason is None:
        why_no_engine = f"forced by {source}"
        why_3410 = f"forced by {source}: the fallback keeps GOST R 34.10 in pure Python"
    else:
        why_no_engine = engine_reason
        why_3410 = "no OpenSSL GOST engine (see openssl_unavailable): the fallback keeps GOST R 34.10 in pure Python"
        details["openssl_unavailable"] = engine_reason
    details["gost3410"] = _PURE_GOST3410
    details["gost3410_reason"] = why_3410
    try:
        gcrypt = _gcrypt.load() if choice == "auto" else _require_gcrypt(source)
    except BackendUnavailable as exc:
        if choice != "auto":
            raise
        details["streebog"] = _PURE_STREEBOG
        details["streebog_reason"] = f"libgcrypt unusable: {exc}"
        reason = f"{why_no_engine}; libgcrypt unusable ({exc}): everything in pure Python"
        return BackendInfo("pure-python", reason, "pure-python", "pure-python", details)
    details["streebog"] = f"libgcrypt {gcrypt.version} (gcry_md, GCRY_MD_STRIBOG256/512) through ctypes"
    details["streebog_reason"] = "libgcrypt loaded and passed its self-test"
    details.update(gcrypt.details)
    reason = f"{why_no_engine}; Streebog from libgcrypt {gcrypt.version}, GOST R 34.10 in pure Python"
    return BackendInfo("libgcrypt-fallback", reason, "libgcrypt", "pure-python", details)


def backend_info() -> BackendInfo:
    """Describe the backend the next operation will use; raise if a forced backend is missing."""
    choice, source = _requested()
    if choice == "pure":
        details = {
            "selection": source,
            "streebog": _PURE_STREEBOG,
            "streebog_reason": f"forced by {source}",
            "gost3410": _PURE_GOST3410,
            "gost3410_reason": f"forced by {source}",
        }
        return BackendInfo("pure-python", f"forced by {source}", "pure-python", "pure-python", details)
    if choice == "fallback":
        return _fallback_info(choice, source, None)
    try:
        loaded = _openssl.load()
    except BackendUnavailable as exc:
        if choice == "openssl":
            raise BackendUnavailable(f"{source} requires the OpenSSL GOST backend: {exc}") from None
        return _fallback_info(choice, source, str(exc))
    how = "" if choice == "auto" else f" (forced by {source})"
    reason = f"gost engine loaded from {loaded.details['engine']}{how}"
    details = {
        **loaded.details,
        "selection": source,
        "streebog_reason": "OpenSSL GOST provider/engine loaded and passed its self-test",
        "gost3410": f"OpenSSL GOST engine ({loaded.details['engine']})",
        "gost3410_reason": "the engine loaded and passed its known-answer tests",
    }
    return BackendInfo("openssl-gost", reason, "openssl-gost", "openssl-gost", details)


@contextmanager
def use_backend(name: str) -> Iterator[None]:
    """Run the block with the named backend (``auto``, ``openssl``/``openssl-gost``,
    ``fallback``/``libgcrypt-fallback``, ``pure``/``pure-python``), for the whole process.

    Meant for tests, benchmarks and diagnostics: the override is process-wide (worker threads see
    it too) and nests. Forcing ``openssl`` or ``fallback`` where it cannot load raises on entry.
    """
    choice = _parse(name, "use_backend")
    if choice == "openssl":
        _require_openssl(f"use_backend({name!r})")
    elif choice == "fallback":
        _require_gcrypt(f"use_backend({name!r})")
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
