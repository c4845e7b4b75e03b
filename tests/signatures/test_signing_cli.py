"""The command line: `certs init/issue/revoke/crl/show`, `sign`, `verify` exit codes, `bench verify`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli.bench import bench
from gateway.cli.certs import certs
from gateway.cli.signing import sign, verify


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def cli_pki(tmp_path: Path, runner: CliRunner) -> tuple[Path, Path, Path]:
    """A PKI made through the CLI, and a vk-chair certificate issued by it: (pki dir, cert, key)."""
    pki = tmp_path / "pki"
    result = runner.invoke(certs, ["init", str(pki), "--algorithm", "gost2012-256"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        certs,
        ["issue", str(pki), "--profile", "vk-chair", "--snils", "11223344595", "--title", "Председатель ВК",
         "--cn", "Иванов Иван Иванович"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = dict(line.split(maxsplit=1) for line in result.output.splitlines())
    return pki, Path(lines["cert"]), Path(lines["key"])


def _sign(runner: CliRunner, tmp_path: Path, pki: Path, cert: Path, key: Path, *extra: str) -> tuple[Path, Path]:
    doc = tmp_path / "doc.xml"
    doc.write_bytes("<ClinicalDocument>направление</ClinicalDocument>".encode())
    out = tmp_path / "doc.xml.sig"
    args = [str(doc), "--key", str(key), "--cert", str(cert), "--chain", str(pki / "chain.pem"), "--out", str(out)]
    result = runner.invoke(sign, [*args, *extra])
    assert result.exit_code == 0, result.output
    return doc, out


def test_sign_and_verify_detached(runner: CliRunner, tmp_path: Path, cli_pki: tuple[Path, Path, Path]) -> None:
    pki, cert, key = cli_pki
    doc, sig = _sign(runner, tmp_path, pki, cert, key)
    base = [str(sig), "--content", str(doc), "--trust", str(pki / "trust"), "--crl", str(pki / "crl")]
    result = runner.invoke(verify, [*base, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["valid"] is True
    assert report["signatures"][0]["signer"]["snils"] == "11223344595"
    assert report["signatures"][0]["signer"]["title"] == "Председатель ВК"
    human = runner.invoke(verify, base)
    assert human.exit_code == 0 and "VALID" in human.output and "Иванов Иван Иванович" in human.output

    doc.write_bytes(doc.read_bytes() + b" ")
    tampered = runner.invoke(verify, [*base, "--json"])
    assert tampered.exit_code == 1
    assert json.loads(tampered.output)["signatures"][0]["errors"][0]["code"] == "DIGEST_MISMATCH"


def test_verify_speaks_the_locale(
    runner: CliRunner, tmp_path: Path, cli_pki: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    pki, cert, key = cli_pki
    doc, sig = _sign(runner, tmp_path, pki, cert, key)
    doc.write_bytes(doc.read_bytes() + b" ")  # tampered: the problem's message is in the report
    base = [str(sig), "--content", str(doc), "--trust", str(pki / "trust"), "--crl", str(pki / "crl")]
    monkeypatch.setenv("LC_ALL", "ru_RU.UTF-8")
    russian = runner.invoke(verify, base).output
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")
    english = runner.invoke(verify, base).output
    assert russian.startswith("НЕДЕЙСТВИТЕЛЬНА: CMS, откреплённая") and "DIGEST_MISMATCH: Хеш-сумма" in russian
    assert english.startswith("INVALID: CMS, detached") and "DIGEST_MISMATCH: The document's digest" in english


def test_sign_attached_pem(runner: CliRunner, tmp_path: Path, cli_pki: tuple[Path, Path, Path]) -> None:
    pki, cert, key = cli_pki
    _doc, sig = _sign(runner, tmp_path, pki, cert, key, "--attached", "--pem")
    assert sig.read_bytes().startswith(b"-----BEGIN CMS-----")
    result = runner.invoke(verify, [str(sig), "--trust", str(pki / "trust")])
    assert result.exit_code == 0, result.output


def test_revoke_then_verify(runner: CliRunner, tmp_path: Path, cli_pki: tuple[Path, Path, Path]) -> None:
    pki, cert, key = cli_pki
    doc, sig = _sign(runner, tmp_path, pki, cert, key)
    serial = cert.stem
    result = runner.invoke(certs, ["revoke", str(pki), serial])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        verify, [str(sig), "--content", str(doc), "--trust", str(pki / "trust"), "--crl", str(pki / "crl" / "ca.crl"),
                 "--json"],
    )  # fmt: skip
    assert result.exit_code == 1
    sig_report = json.loads(result.output)["signatures"][0]
    assert sig_report["chain"] == "revoked"
    assert [e["code"] for e in sig_report["errors"]] == ["CERT_REVOKED"]
    assert runner.invoke(certs, ["revoke", str(pki), "deadbeef"]).exit_code == 2


def test_verify_at_a_later_check_time(runner: CliRunner, tmp_path: Path, cli_pki: tuple[Path, Path, Path]) -> None:
    pki, cert, key = cli_pki
    doc, sig = _sign(runner, tmp_path, pki, cert, key)
    result = runner.invoke(
        verify, [str(sig), "--content", str(doc), "--trust", str(pki / "trust"), "--at", "2099-01-01T00:00:00",
                 "--json"],
    )  # fmt: skip
    report = json.loads(result.output)
    assert result.exit_code == 0  # valid when signed; expired now is a warning
    assert report["checked_at"] == "2099-01-01T00:00:00Z"
    assert [w["code"] for w in report["signatures"][0]["warnings"]] == ["PERSONAL_SIG_CERT_NOT_ACTUAL_ON_CHECK_DT"]


def test_without_trust_the_signature_is_not_valid(
    runner: CliRunner, tmp_path: Path, cli_pki: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MSE_GATEWAY_TRUST_DIR", raising=False)
    pki, cert, key = cli_pki
    doc, sig = _sign(runner, tmp_path, pki, cert, key)
    result = runner.invoke(verify, [str(sig), "--content", str(doc), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.output)["signatures"][0]["chain"] == "not-checked"
    monkeypatch.setenv("MSE_GATEWAY_TRUST_DIR", str(pki / "trust"))
    assert runner.invoke(verify, [str(sig), "--content", str(doc)]).exit_code == 0


def test_unreadable_inputs_exit_2(runner: CliRunner, tmp_path: Path, cli_pki: tuple[Path, Path, Path]) -> None:
    pki, cert, key = cli_pki
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(bytes(range(256)) * 3)
    result = runner.invoke(verify, [str(garbage), "--trust", str(pki / "trust")])
    assert result.exit_code == 2
    as_json = runner.invoke(verify, [str(garbage), "--json"])
    assert as_json.exit_code == 2
    assert json.loads(as_json.output)["errors"][0]["code"] == "SIGNATURE_DECODING_ERROR"

    xml = tmp_path / "signed.xml"
    xml.write_text('<?xml version="1.0"?><Envelope><Signature/></Envelope>', encoding="utf-8")
    result = runner.invoke(verify, [str(xml)])
    assert result.exit_code == 2 and "XMLDSig" in result.output

    _doc, sig = _sign(runner, tmp_path, pki, cert, key)
    result = runner.invoke(verify, [str(sig)])  # detached, no --content
    assert result.exit_code == 2 and "--content" in result.output

    assert runner.invoke(verify, [str(tmp_path / "missing.sig")]).exit_code == 2
    assert runner.invoke(verify, [str(sig), "--at", "yesterday"]).exit_code == 2
    assert runner.invoke(verify, [str(sig), "--crl", str(tmp_path / "nope.crl")]).exit_code == 2


def test_sign_usage_errors(runner: CliRunner, tmp_path: Path, cli_pki: tuple[Path, Path, Path]) -> None:
    pki, cert, _key = cli_pki
    doc = tmp_path / "d.txt"
    doc.write_bytes(b"x")
    wrong_key = tmp_path / "wrong.key"
    wrong_key.write_bytes((pki / "ca.key").read_bytes())
    result = runner.invoke(sign, [str(doc), "--key", str(wrong_key), "--cert", str(cert), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "does not belong" in result.output
    result = runner.invoke(sign, [str(doc), "--key", str(cert), "--cert", str(cert), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2


def test_certs_issue_checks_identifiers(runner: CliRunner, cli_pki: tuple[Path, Path, Path]) -> None:
    pki, _cert, _key = cli_pki
    bad = runner.invoke(certs, ["issue", str(pki), "--profile", "vk-chair", "--snils", "11223344596"])
    assert bad.exit_code == 2 and "--snils" in bad.output
    forced = runner.invoke(certs, ["issue", str(pki), "--profile", "vk-chair", "--snils", "11223344596", "--unchecked"])
    assert forced.exit_code == 0
    assert runner.invoke(certs, ["issue", str(pki), "--profile", "nobody"]).exit_code == 2
    kz = runner.invoke(certs, ["issue", str(pki), "--profile", "kz-org", "--algorithm", "gost2015-kz-512",
                               "--not-after", "2030-01-01"])  # fmt: skip
    assert kz.exit_code == 0, kz.output
    cert_path = dict(line.split(maxsplit=1) for line in kz.output.splitlines())["cert"]
    shown = json.loads(runner.invoke(certs, ["show", cert_path]).output)[0]
    assert shown["kz_roles"] == ["ORGANIZATION", "CEO"]
    assert shown["not_after"].startswith("2030-01-01")


def test_certs_crl_reissue(runner: CliRunner, cli_pki: tuple[Path, Path, Path]) -> None:
    pki, _cert, _key = cli_pki
    before = (pki / "crl" / "ca.crl").read_bytes()
    result = runner.invoke(certs, ["crl", str(pki)])
    assert result.exit_code == 0
    assert (pki / "crl" / "ca.crl").read_bytes() != before  # new CRL number


def test_bench_verify_reports_measured_numbers(runner: CliRunner) -> None:
    result = runner.invoke(bench, ["verify", "--seconds", "0.1", "--json"])
    assert result.exit_code == 0, result.output
    numbers = json.loads(result.output)
    for key in (
        "project_ops_per_s",
        "fallback_ops_per_s",
        "pure_python_ops_per_s",
        "thread_pool_ops_per_s",
        "streebog_mb_per_s",
        "fallback_streebog_mb_per_s",
        "pure_python_streebog_mb_per_s",
    ):
        assert numbers[key] > 0, key
    assert numbers["backend"] in ("openssl-gost", "libgcrypt-fallback", "pure-python")
    assert numbers["fallback"] in ("libgcrypt-fallback", "pure-python")
    if numbers["fallback"] == "libgcrypt-fallback":
        assert (numbers["fallback_streebog"], numbers["fallback_gost3410"]) == ("libgcrypt", "pure-python")
    assert numbers["fallback_reason"]
    assert numbers["document_bytes"] == 50 * 1024
    assert len(numbers["loadavg_before"]) == 3 and len(numbers["loadavg_after"]) == 3
