"""Fixtures for the GOST primitives: run a test once per backend.

Without the OpenSSL GOST engine the OpenSSL half of the tests skips locally with the reason, and
fails when CI=true: .ci/run installs libengine-gost-openssl, so CI must never pass by skipping.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from gateway.signatures.gost import BackendUnavailable, _openssl, use_backend


def openssl_reason() -> str | None:
    """None if the OpenSSL GOST backend loads here, else why not."""
    try:
        _openssl.load()
    except BackendUnavailable as exc:
        return str(exc)
    return None


def _skip_or_fail_without_openssl() -> None:
    if (reason := openssl_reason()) is not None:
        message = f"OpenSSL GOST backend unavailable: {reason}"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(params=["openssl", "pure"])
def gost_backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """Runs the test with the OpenSSL engine and again with the pure-Python code."""
    name: str = request.param
    if name == "openssl":
        _skip_or_fail_without_openssl()
    with use_backend(name):
        yield name


@pytest.fixture
def require_openssl() -> None:
    _skip_or_fail_without_openssl()
