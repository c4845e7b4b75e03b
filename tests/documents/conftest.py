"""Fixtures for the documents tests: the ministry's validation packages (read-only reference copy)
and one compiled schematron per session (compiling the 121 schematron takes seconds)."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.documents.semd_package import SemdPackages

REFERENCE_SEMD = Path(__file__).resolve().parents[3] / "shared" / "reference" / "semd"
VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "semd"


def semd_dir() -> Path:
    return Path(os.environ.get("MSE_TEST_SEMD_DIR", str(REFERENCE_SEMD)))


@pytest.fixture(scope="session")
def packages(tmp_path_factory: pytest.TempPathFactory) -> SemdPackages:
    """The official 121/109 packages with a per-session schematron cache directory."""
    directory = semd_dir()
    in_ci = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
    reasons = []
    if not (directory / "121.sch").is_file():
        reasons.append(f"official SEMD validation packages not found at {directory} (set MSE_TEST_SEMD_DIR)")
    if importlib.util.find_spec("saxonche") is None:
        reasons.append("saxonche (SaxonC-HE) is not installed: schematron validation cannot run")
    if reasons:
        if in_ci:  # CI has ../shared beside the clone and installs saxonche: a skip there hides a fault
            pytest.fail("; ".join(reasons) + " — CI must run these tests, not skip them")
        pytest.skip("; ".join(reasons))
    return SemdPackages(directory, cache_dir=tmp_path_factory.mktemp("schematron-cache"))


def load_vector(name: str) -> bytes:
    """A stored test vector (tests/vectors/semd/, provenance in its README)."""
    return (VECTORS / name).read_bytes()


@pytest.fixture
def vector() -> Callable[[str], bytes]:
    return load_vector
