"""Fixtures of the SMEV 3 tests: a GOST test PKI with the information system's and SMEV's
identities (256 and 512), and a verifier trusting it."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.smev3.signing import Signer
from gateway.signatures.certificates import load_certificates
from gateway.signatures.pki import TestPki
from gateway.signatures.xml.verify import XmlVerifier


@pytest.fixture(scope="session")
def smev3_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPki:
    return TestPki.init(tmp_path_factory.mktemp("smev3-pki"), "gost2012-256")


def _signer(pki: TestPki, profile: str, algorithm: str) -> Signer:
    issued = pki.issue(profile, algorithm=algorithm)
    return Signer(issued.key, issued.certificate, tuple(load_certificates(pki.chain_path.read_bytes())))


@pytest.fixture(scope="session")
def is_signers(smev3_pki: TestPki) -> dict[str, Signer]:
    """The information system's ЭП-ОВ, per algorithm."""
    return {alg: _signer(smev3_pki, "mo-org", alg) for alg in ("gost2012-256", "gost2012-512")}


@pytest.fixture(scope="session")
def smev_signer(smev3_pki: TestPki) -> Signer:
    return _signer(smev3_pki, "mse-org", "gost2012-256")


@pytest.fixture(scope="session")
def verifier(smev3_pki: TestPki) -> XmlVerifier:
    return XmlVerifier(trust=smev3_pki.trust_dir, crls=[Path(smev3_pki.crl_path).parent])
