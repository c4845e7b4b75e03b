"""Fixtures for the FLK tests: one sample PKI per session (issuing certificates is the slow part),
a clock, ready-made documents and submissions, and checkers built the way the gateway builds them.

Everything is real: the project's test PKI, its signature engine, the shipped tables and role policy
(config/), the ministry's packages from the read-only reference copy (only where a test needs them).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from flk.helpers import NOW, REFERENCE, ROOT
from gateway.documents import ParsedDocument, SemdPackages
from gateway.flk.checker import FullChecker
from gateway.flk.config import ValidationConfig
from gateway.flk.journal_view import JournalView
from gateway.flk.sample_pki import SampleSigners
from gateway.flk.samples import make_submission, prepare_document, sign_document
from gateway.signatures import Verifier


@pytest.fixture(scope="session")
def signers(tmp_path_factory: pytest.TempPathFactory) -> SampleSigners:
    # Certificates are valid from NOW - 30 days: issue them relative to NOW, not the wall clock.
    return SampleSigners.create(tmp_path_factory.mktemp("flk-pki"), now=NOW)


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture(scope="session")
def config(signers: SampleSigners) -> ValidationConfig:
    return ValidationConfig(
        trust_dir=str(signers.directory),
        roles_file=str(ROOT / "config" / "roles.toml"),
        required_exams_ru_file=str(ROOT / "config" / "required_exams_ru.tsv"),
        kz_nosologies_file=str(ROOT / "config" / "kz_nosologies.tsv"),
    )


@pytest.fixture(scope="session")
def base_checker(config: ValidationConfig) -> FullChecker:
    return FullChecker.from_config(config, clock=lambda: NOW)


@pytest.fixture
def make_checker(config: ValidationConfig) -> Callable[..., FullChecker]:
    """A checker with configuration overrides and an optional journal view."""

    def build(journal: JournalView | None = None, **updates: Any) -> FullChecker:
        return FullChecker.from_config(config.model_copy(update=updates), journal=journal, clock=lambda: NOW)

    return build


@pytest.fixture
def doc_of(signers: SampleSigners) -> Callable[..., ParsedDocument]:
    def build(kind: str = "121", seed: int = 1, **kw: Any) -> ParsedDocument:
        return prepare_document(kind, seed, signers, now=NOW, **kw)

    return build


@pytest.fixture
def submit(signers: SampleSigners) -> Callable[..., dict[str, Any]]:
    """The canonical submission (dict) of a document, signed at NOW unless told otherwise."""

    def build(doc: ParsedDocument, **kw: Any) -> dict[str, Any]:
        kw.setdefault("signing_time", min(doc.created, NOW))
        return sign_document(doc, signers, **kw)

    return build


@pytest.fixture
def valid(signers: SampleSigners) -> Callable[[str, int], dict[str, Any]]:
    def build(kind: str = "121", seed: int = 1) -> dict[str, Any]:
        return make_submission(kind, seed, signers, now=NOW)

    return build


@pytest.fixture(scope="session")
def semd_packages(tmp_path_factory: pytest.TempPathFactory) -> SemdPackages:
    """The ministry's 121/109 packages from the read-only reference copy (skip locally when absent,
    fail in CI, as tests/documents does)."""
    directory = Path(os.environ.get("MSE_TEST_SEMD_DIR", str(REFERENCE / "semd")))
    reasons = []
    if not (directory / "121.sch").is_file():
        reasons.append(f"official SEMD packages not found at {directory}")
    if importlib.util.find_spec("saxonche") is None:
        reasons.append("saxonche is not installed")
    if reasons:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("; ".join(reasons) + " — CI must run these tests")
        pytest.skip("; ".join(reasons))
    return SemdPackages(directory, cache_dir=tmp_path_factory.mktemp("flk-schematron"))


@pytest.fixture(scope="session")
def verifier(signers: SampleSigners) -> Verifier:
    return Verifier(signers.pki.trust_dir, [signers.pki.crl_path, signers.pki.root_crl_path])
