"""The test PKI library: layout on disk, profiles, keys, revocation and CRLs."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from gateway.signatures import oids
from gateway.signatures.certificates import load_certificates
from gateway.signatures.keys import load_private_key
from gateway.signatures.pki import PROFILES, TestPki, normalise_serial
from gateway.signatures.revocation import load_crls


@pytest.mark.parametrize("algorithm", ["gost2012-256", "rsa"])
def test_init_layout(tmp_path: Path, algorithm: str) -> None:
    pki = TestPki.init(tmp_path / "pki", algorithm)
    for name in ("pki.json", "root.pem", "root.key", "ca.pem", "ca.key", "chain.pem", "trust/root.pem",
                 "crl/ca.crl", "crl/root.crl"):  # fmt: skip
        assert (pki.directory / name).is_file(), name
    assert stat.S_IMODE((pki.directory / "ca.key").stat().st_mode) == 0o600
    assert pki.root.is_ca and pki.ca.is_ca and pki.ca.path_length == 0
    assert pki.ca.issuer_der == pki.root.subject_der
    assert load_certificates((pki.trust_dir / "root.pem").read_bytes())[0] == pki.root
    state = json.loads((pki.directory / "pki.json").read_text(encoding="utf-8"))
    assert state["algorithm"] == algorithm and state["issued"] == [] and state["revoked"] == []
    assert "PRIVATE" not in (pki.directory / "pki.json").read_text(encoding="utf-8")
    assert load_crls(pki.crl_path.read_bytes())[0].signed_by(pki.ca)
    assert load_crls(pki.root_crl_path.read_bytes())[0].signed_by(pki.root)


def test_init_refuses_existing_and_unknown(tmp_path: Path) -> None:
    TestPki.init(tmp_path / "a", "ecdsa")
    with pytest.raises(FileExistsError):
        TestPki.init(tmp_path / "a", "ecdsa")
    with pytest.raises(ValueError):
        TestPki.init(tmp_path / "b", "dsa")
    with pytest.raises(FileNotFoundError):
        TestPki(tmp_path / "nothing")


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_profile(gost_pki: TestPki, profile: str) -> None:
    issued = gost_pki.issue(profile)
    cert = issued.certificate
    identity = cert.identity()
    spec = PROFILES[profile]
    assert cert.issuer_der == gost_pki.ca.subject_der
    assert not cert.is_ca and cert.key_usage == frozenset({"digital_signature", "non_repudiation"})
    assert identity.country == spec.country
    assert set(spec.extended_key_usage) <= set(cert.extended_key_usage)
    extensions = {e["extn_id"].dotted for e in cert.asn1["tbs_certificate"]["extensions"]}
    if spec.country == "RU":
        assert oids.RU_SUBJECT_SIGN_TOOL in extensions
        assert identity.ogrn is not None and identity.inn_le is not None
        if spec.person:
            assert identity.snils is not None and identity.inn is not None and identity.title
    else:
        assert identity.iin is not None
        assert identity.kz_roles
    assert load_private_key(issued.key_path.read_bytes()).public.spki == cert.spki_der
    assert stat.S_IMODE(issued.key_path.stat().st_mode) == 0o600


def test_overrides_and_key_algorithm(gost_pki: TestPki) -> None:
    issued = gost_pki.issue("kz-vkk-chair", {"iin": "800515350698", "bin": "100140012345", "cn": "СЕРІКОВ СЕРІК"},
                            algorithm="gost2015-kz-512")  # fmt: skip
    identity = issued.certificate.identity()
    assert (identity.iin, identity.bin, identity.common_name) == ("800515350698", "100140012345", "СЕРІКОВ СЕРІК")
    assert issued.certificate.public_key.kazakh
    with pytest.raises(ValueError):
        gost_pki.issue("no-such-profile")


def test_revoke_and_crl(fresh_pki: TestPki) -> None:
    a, b = fresh_pki.issue("vk-chair"), fresh_pki.issue("mo-org")
    serial = fresh_pki.revoke(a.serial_hex.upper(), reason="superseded")
    assert serial == a.serial_hex
    crl = load_crls(fresh_pki.crl_path.read_bytes())[0]
    assert crl.signed_by(fresh_pki.ca)
    assert crl.revoked[a.certificate.serial][1] == "superseded"
    assert b.certificate.serial not in crl.revoked
    assert fresh_pki.revoke(a.serial_hex) == a.serial_hex  # idempotent
    with pytest.raises(KeyError):
        fresh_pki.revoke("0badc0de")
    assert [r["serial_hex"] for r in TestPki(fresh_pki.directory).revoked()] == [a.serial_hex]


def test_revoking_the_issuing_ca_goes_to_the_root_crl(fresh_pki: TestPki) -> None:
    fresh_pki.revoke(fresh_pki.ca.serial_hex)
    assert fresh_pki.ca.serial in load_crls(fresh_pki.root_crl_path.read_bytes())[0].revoked
    assert fresh_pki.ca.serial not in load_crls(fresh_pki.crl_path.read_bytes())[0].revoked


@pytest.mark.parametrize(
    ("given", "expected"),
    [("0A:1B", "0a1b"), ("0x0a1b", "0a1b"), ("A1B", "0a1b"), (" 00ff ", "ff")],
)
def test_normalise_serial(given: str, expected: str) -> None:
    assert normalise_serial(given) == expected


def test_normalise_serial_rejects_non_hex() -> None:
    with pytest.raises(ValueError):
        normalise_serial("xyz")


def test_cli_algorithm_list_matches_the_library() -> None:
    from gateway.cli import certs as certs_cli
    from gateway.signatures.keys import KEY_ALGORITHMS

    assert certs_cli._ALGORITHMS == KEY_ALGORITHMS
