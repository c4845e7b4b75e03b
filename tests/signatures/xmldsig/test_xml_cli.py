"""``mse-gateway sign --xml`` and ``mse-gateway verify FILE.xml``: same report and exit codes as CMS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _xmldsig_helpers import KZ_DOCUMENT, SMEV_REQUEST, VECTORS
from click.testing import CliRunner

from gateway.cli.certs import certs
from gateway.cli.signing import sign, verify


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


def _pki(runner: CliRunner, base: Path, algorithm: str, profile: str) -> tuple[Path, Path, Path]:
    pki = base / algorithm
    assert runner.invoke(certs, ["init", str(pki), "--algorithm", algorithm]).exit_code == 0
    result = runner.invoke(certs, ["issue", str(pki), "--profile", profile])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(maxsplit=1) for line in result.output.splitlines() if " " in line)
    return pki, Path(lines["cert"]), Path(lines["key"])


def _sign(runner: CliRunner, pki: Path, cert: Path, key: Path, doc: Path, out: Path, *extra: str) -> None:
    args = [str(doc), "--xml", "--key", str(key), "--cert", str(cert), "--chain", str(pki / "chain.pem")]
    result = runner.invoke(sign, [*args, "--out", str(out), *extra])
    assert result.exit_code == 0, result.output


def test_smev_and_kazakh_signatures_through_the_cli(runner: CliRunner, tmp_path: Path) -> None:
    ru_pki, ru_cert, ru_key = _pki(runner, tmp_path, "gost2012-256", "vk-chair")
    kz_pki, kz_cert, kz_key = _pki(runner, tmp_path, "gost2015-kz-512", "kz-vkk-chair")
    request = tmp_path / "request.xml"
    request.write_bytes(SMEV_REQUEST)
    smev = tmp_path / "request.signed.xml"
    _sign(runner, ru_pki, ru_cert, ru_key, request, smev, "--style", "smev", "--id", "SIGNED_BY_CONSUMER")
    expect = "/*[local-name()='Envelope']/*[local-name()='Body']/*/*[@Id='SIGNED_BY_CONSUMER']"
    result = runner.invoke(
        verify,
        [str(smev), "--trust", str(ru_pki / "trust"), "--crl", str(ru_pki / "crl"), "--expect", expect, "--json"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["format"] == "xmldsig" and report["valid"] is True
    assert report["signatures"][0]["algorithm"] == "gost2012-256"
    assert report["signatures"][0]["signer"]["snils"]

    # A Kazakh signature (GOST 2015-512, XAdES) added to a Kazakh document
    document = tmp_path / "kz.xml"
    document.write_bytes(KZ_DOCUMENT)
    kz = tmp_path / "kz.signed.xml"
    _sign(runner, kz_pki, kz_cert, kz_key, document, kz, "--xades")
    result = runner.invoke(verify, [str(kz), "--trust", str(kz_pki / "trust"), "--require-cades-bes", "--json"])
    assert result.exit_code == 0, result.output
    sig = json.loads(result.stdout)["signatures"][0]
    assert sig["algorithm"] == "gost2015-512" and sig["cades_bes"] is True
    assert sig["signer"]["iin"] and sig["signer"]["bin"]

    # the RU signature again over the already signed Kazakh document: two signatures, both reported
    both = tmp_path / "both.xml"
    _sign(runner, ru_pki, ru_cert, ru_key, kz, both)
    trust = tmp_path / "trust-both"
    trust.mkdir()
    for source in (ru_pki, kz_pki):
        (trust / f"{source.name}.pem").write_bytes((source / "trust" / "root.pem").read_bytes())
    result = runner.invoke(verify, [str(both), "--trust", str(trust), "--json"])
    report = json.loads(result.stdout)
    assert len(report["signatures"]) == 2
    # the first (Kazakh, enveloped over the whole document) no longer matches: the second signature
    # was added inside what it covers; the second is valid
    assert [s["integrity"] for s in report["signatures"]] == ["invalid", "valid"]
    assert result.exit_code == 1
    assert runner.invoke(verify, [str(both), "--trust", str(trust), "--single-signer"]).exit_code == 1

    # tampering: exit 1 with DIGEST_MISMATCH
    tampered = tmp_path / "tampered.xml"
    tampered.write_bytes(smev.read_bytes().replace(b"<m:Amount>100<", b"<m:Amount>900<"))
    result = runner.invoke(verify, [str(tampered), "--trust", str(ru_pki / "trust"), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["signatures"][0]["errors"][0]["code"] == "DIGEST_MISMATCH"
    human = runner.invoke(verify, [str(tampered), "--trust", str(ru_pki / "trust")])
    assert human.exit_code == 1 and "INVALID: XMLDSig" in human.output


def test_real_nca_sample_and_unusable_input(runner: CliRunner, tmp_path: Path) -> None:
    nca = VECTORS / "gost" / "nca"
    trust = tmp_path / "trust"
    trust.mkdir()
    (trust / "nca.cer").write_bytes((nca / "nca_gost2015_test.cer").read_bytes())
    sample = str(nca / "xades-test-signed-b.xml")
    result = runner.invoke(verify, [sample, "--trust", str(trust), "--at", "2026-09-03T00:00:00", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["signatures"][0]["signer"]["iin"] == "123456789011"

    dtd = tmp_path / "dtd.xml"
    dtd.write_bytes(b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>')
    result = runner.invoke(verify, [str(dtd), "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["errors"][0]["code"] == "SIGNATURE_DECODING_ERROR"
    unsigned = tmp_path / "unsigned.xml"
    unsigned.write_bytes(b"<a/>")
    assert runner.invoke(verify, [str(unsigned)]).exit_code == 2
    assert runner.invoke(verify, [sample, "--content", sample]).exit_code == 2


def test_xml_options_are_checked(runner: CliRunner, tmp_path: Path) -> None:
    _, cert, key = _pki(runner, tmp_path, "rsa", "kz-org")
    doc = tmp_path / "doc.xml"
    doc.write_bytes(KZ_DOCUMENT)
    out = tmp_path / "out.xml"
    base = [str(doc), "--key", str(key), "--cert", str(cert), "--out", str(out)]
    assert runner.invoke(sign, [*base, "--xml", "--style", "smev"]).exit_code == 2  # no --id
    assert runner.invoke(sign, [*base, "--xml", "--pem"]).exit_code == 2
    assert runner.invoke(sign, [*base, "--xades"]).exit_code == 2  # XML option without --xml
    assert runner.invoke(sign, [*base, "--xml", "--id", "missing"]).exit_code == 2


def test_bench_verify_xml_runs(runner: CliRunner) -> None:
    from gateway.cli.bench import bench

    result = runner.invoke(bench, ["verify-xml", "--seconds", "0.1", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert 45_000 <= figures["document_bytes"] <= 55_000
    for key in ("project_gost_ops_per_s", "signxml_rsa_ops_per_s", "project_rsa_ops_per_s"):
        assert figures[key] > 0
    assert len(figures["loadavg_before"]) == 3


async def test_verify_xml_async_runs_in_an_executor() -> None:
    from gateway.signatures.xml.verify import XmlVerifier

    data = (VECTORS / "gost" / "nca" / "xades-test-signed-b.xml").read_bytes()
    result = await XmlVerifier().verify_xml_async(data)
    assert result.report.signatures[0].integrity == "valid"
    assert result.report.signatures[0].algorithm == "gost2015-512"
