from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.flk.checker import FullChecker
from gateway.flk.config import ValidationConfig
from gateway.flk.sample_pki import SampleSigners
from gateway.inbound.receive import InboundReceiver
from gateway.journal.store import Journal
from inbound.kit import NOW

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def signers(tmp_path_factory: pytest.TempPathFactory) -> SampleSigners:
    return SampleSigners.create(tmp_path_factory.mktemp("inbound-pki"), now=NOW)


@pytest.fixture(scope="session")
def checker(signers: SampleSigners) -> FullChecker:
    config = ValidationConfig(trust_dir=str(signers.directory), roles_file=str(ROOT / "config" / "roles.toml"))
    return FullChecker.from_config(config, clock=lambda: NOW)


@pytest.fixture
async def receiver(journal: Journal, checker: FullChecker) -> AsyncIterator[InboundReceiver]:
    yield InboundReceiver(journal, checker)
