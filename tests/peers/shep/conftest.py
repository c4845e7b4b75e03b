"""Fixtures of the ШЭП tests: the sample PKI (NCA-style certificates) and 031/у submissions."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gateway.flk.sample_pki import SampleSigners
from gateway.flk.samples import make_submission
from gateway.intake.submission import CanonicalSubmission, parse_submission


@pytest.fixture(scope="session")
def signers(tmp_path_factory: pytest.TempPathFactory) -> SampleSigners:
    return SampleSigners.create(tmp_path_factory.mktemp("shep-pki") / "pki")


@pytest.fixture(scope="session")
def make_031u(signers: SampleSigners) -> Callable[..., CanonicalSubmission]:
    def make(seed: int = 1, *, edit: Callable[[bytes], bytes] | None = None) -> CanonicalSubmission:
        data: dict[str, Any] = make_submission("kz-031u", seed, signers, now=datetime(2025, 7, 1, tzinfo=UTC))
        sub = parse_submission(data)
        if edit is not None:
            from dataclasses import replace

            sub = replace(sub, document=edit(sub.document))
        return sub

    return make


@pytest.fixture(scope="session")
def signers_dir(signers: SampleSigners) -> SampleSigners:
    return signers
