"""The `doctor` CLI command and the primitives benchmark."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from gateway.cli.crypto_doctor import doctor
from gateway.signatures.gost.backend import ENV_VAR
from gateway.signatures.gost.bench import bench_primitives


def test_doctor_json_reports_pure_when_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "pure")
    result = CliRunner().invoke(doctor, ["--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["backend"] == "pure-python"
    assert report["reason"] == f"forced by {ENV_VAR}=pure"
    assert report["checks"] == {"streebog256_m1": "ok", "gost3410_round_trip": "ok"}


def test_doctor_text_reports_openssl(require_openssl: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    result = CliRunner().invoke(doctor, [])
    assert result.exit_code == 0, result.output
    assert "GOST backend: openssl-gost" in result.output
    assert "why:          gost engine loaded from" in result.output
    assert "check gost3410_round_trip: ok" in result.output


def test_doctor_fails_on_bad_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "quantum")
    result = CliRunner().invoke(doctor, ["--json"])
    assert result.exit_code == 1
    assert json.loads(result.output)["ok"] is False


def test_bench_primitives_measures_both_backends(require_openssl: None) -> None:
    results = bench_primitives(0.05)
    for key in (
        "verify256_openssl",
        "verify256_pure",
        "verify256_pure_cold_key",
        "streebog256_openssl_mbps",
        "streebog256_pure_mbps",
    ):
        assert results[key] > 0, key
    assert results["verify256_openssl"] > results["verify256_pure_cold_key"]
