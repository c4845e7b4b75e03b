"""Fixtures for the CMS / certificate / PKI tests: test PKIs generated once per session.

Every PKI is made by the project's own test-PKI library into pytest's temporary directory (never real
keys). Tests that change a PKI (revocation) make their own, so the shared ones stay pristine.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.signatures.pki import IssuedCertificate, TestPki


@pytest.fixture(scope="session")
def pki_factory(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], TestPki]:
    """A shared, never-revoking test PKI per algorithm (created on first use)."""
    made: dict[str, TestPki] = {}

    def get(algorithm: str) -> TestPki:
        if algorithm not in made:
            made[algorithm] = TestPki.init(tmp_path_factory.mktemp(f"pki-{algorithm}"), algorithm)
        return made[algorithm]

    return get


@pytest.fixture(scope="session")
def issued_factory(pki_factory: Callable[[str], TestPki]) -> Callable[[str, str], IssuedCertificate]:
    """One certificate per (algorithm, profile), issued once per session."""
    made: dict[tuple[str, str], IssuedCertificate] = {}

    def get(algorithm: str, profile: str = "vk-chair") -> IssuedCertificate:
        key = (algorithm, profile)
        if key not in made:
            made[key] = pki_factory(algorithm).issue(profile)
        return made[key]

    return get


@pytest.fixture(scope="session")
def gost_pki(pki_factory: Callable[[str], TestPki]) -> TestPki:
    return pki_factory("gost2012-256")


@pytest.fixture(scope="session")
def gost_signer(issued_factory: Callable[[str, str], IssuedCertificate]) -> IssuedCertificate:
    return issued_factory("gost2012-256", "vk-chair")


@pytest.fixture
def fresh_pki(tmp_path: Path) -> TestPki:
    """A private GOST PKI for tests that revoke or otherwise change state."""
    return TestPki.init(tmp_path / "pki", "gost2012-256")
