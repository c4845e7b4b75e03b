"""The `doctor` CLI command and the primitives benchmark."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.bench.gost import bench_primitives
from gateway.cli.crypto_doctor import doctor
from gateway.signatures.gost._gcrypt import ENV_LIBRARY as GCRYPT_ENV
from gateway.signatures.gost.backend import ENV_VAR

ROOT = Path(__file__).resolve().parents[3]


def test_doctor_json_reports_pure_when_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "pure")
    result = CliRunner().invoke(doctor, ["--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["backend"] == "pure-python"
    assert report["reason"] == f"forced by {ENV_VAR}=pure"
    assert report["checks"] == {"streebog256_m1": "ok", "gost3410_round_trip": "ok"}


def test_doctor_reports_each_primitive_of_the_fallback(require_gcrypt: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "fallback")
    result = CliRunner().invoke(doctor, ["--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["backend"] == "libgcrypt-fallback"
    assert report["streebog"] == {"implementation": "libgcrypt", "why": "libgcrypt loaded and passed its self-test"}
    assert report["gost3410"]["implementation"] == "pure-python"
    assert report["gost3410"]["why"].endswith("the fallback keeps GOST R 34.10 in pure Python")
    assert report["details"]["libgcrypt_self_test"].startswith("passed")
    assert report["checks"] == {"streebog256_m1": "ok", "gost3410_round_trip": "ok"}
    text = CliRunner().invoke(doctor, [])
    assert text.exit_code == 0, text.output
    assert "GOST backend: libgcrypt-fallback" in text.output
    assert "Streebog:     libgcrypt (libgcrypt loaded and passed its self-test)" in text.output
    assert "GOST 34.10:   pure-python (forced by GATEWAY_CRYPTO_BACKEND=fallback" in text.output
    assert "requested:    fallback" in text.output


def _doctor_process(**env: str) -> subprocess.CompletedProcess[str]:
    """The doctor in a fresh process, where the library overrides take effect (loading is cached)."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    code = "import sys; from gateway.cli.crypto_doctor import doctor; doctor(sys.argv[1:])"
    return subprocess.run(
        [sys.executable, "-c", code, "--json"], capture_output=True, text=True, env=full_env, cwd=ROOT, timeout=120
    )


def test_doctor_fails_when_the_forced_fallback_has_no_libgcrypt() -> None:
    done = _doctor_process(**{ENV_VAR: "fallback", GCRYPT_ENV: "libgcrypt-gone.so.20"})
    assert done.returncode == 1, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is False and report["backend"] is None
    assert "requires libgcrypt's Streebog" in report["reason"]
    assert "libgcrypt-gone.so.20" in report["reason"]


def test_doctor_without_engine_or_libgcrypt_says_pure_and_why() -> None:
    done = _doctor_process(GATEWAY_GOST_ENGINE="/nonexistent/gost.so", **{GCRYPT_ENV: "libgcrypt-gone.so.20"})
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["backend"] == "pure-python"
    assert report["streebog"]["implementation"] == "pure-python"
    assert "libgcrypt-gone.so.20" in report["streebog"]["why"]
    assert report["gost3410"]["implementation"] == "pure-python"
    assert "/nonexistent/gost.so" in report["details"]["openssl_unavailable"]


def test_doctor_text_reports_openssl(require_openssl: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    result = CliRunner().invoke(doctor, [])
    assert result.exit_code == 0, result.output
    assert "GOST backend: openssl-gost" in result.output
    assert "why:          gost engine loaded from" in result.output
    assert "Streebog:     openssl-gost" in result.output
    assert "GOST 34.10:   openssl-gost" in result.output
    assert "check gost3410_round_trip: ok" in result.output


def test_doctor_fails_on_bad_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "quantum")
    result = CliRunner().invoke(doctor, ["--json"])
    assert result.exit_code == 1
    assert json.loads(result.output)["ok"] is False


def test_bench_primitives_measures_every_backend(require_openssl: None, require_gcrypt: None) -> None:
    results = bench_primitives(0.05)
    for key in (
        "verify256_openssl",
        "verify256_pure",
        "verify256_pure_cold_key",
        "streebog256_openssl_mbps",
        "streebog256_fallback_mbps",
        "streebog256_pure_mbps",
    ):
        assert results[key] > 0, key
    assert results["verify256_openssl"] > results["verify256_pure_cold_key"]
