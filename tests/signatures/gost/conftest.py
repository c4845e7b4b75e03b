"""Fixtures for the GOST primitives: run a test once per backend.

Without the OpenSSL GOST engine (or libgcrypt) the tests of that backend skip locally with the
reason, and fail when CI=true: .ci/run installs libengine-gost-openssl and libgcrypt20, so CI must
never pass by skipping.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from gateway.signatures.gost import BackendUnavailable, _gcrypt, _openssl, use_backend


def openssl_reason() -> str | None:
    """None if the OpenSSL GOST backend loads here, else why not."""
    try:
        _openssl.load()
    except BackendUnavailable as exc:
        return str(exc)
    return None


def gcrypt_reason() -> str | None:
    """None if libgcrypt's Streebog loads here (and passes its self-test), else why not."""
    try:
        _gcrypt.load()
    except BackendUnavailable as exc:
        return str(exc)
    return None


def _skip_or_fail(what: str, reason: str | None) -> None:
    if reason is not None:
        message = f"{what} unavailable: {reason}"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message)
        pytest.skip(message)


def _skip_or_fail_without_openssl() -> None:
    _skip_or_fail("OpenSSL GOST backend", openssl_reason())


def _skip_or_fail_without_gcrypt() -> None:
    _skip_or_fail("libgcrypt Streebog (the fallback)", gcrypt_reason())


@pytest.fixture(params=["openssl", "fallback", "pure"])
def gost_backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """Runs the test with the OpenSSL engine, with the fallback (libgcrypt Streebog, pure-Python
    GOST R 34.10) and with everything in pure Python."""
    name: str = request.param
    if name == "openssl":
        _skip_or_fail_without_openssl()
    elif name == "fallback":
        _skip_or_fail_without_gcrypt()
    with use_backend(name):
        yield name


@pytest.fixture
def require_openssl() -> None:
    _skip_or_fail_without_openssl()


@pytest.fixture
def require_gcrypt() -> None:
    _skip_or_fail_without_gcrypt()
