"""Backend selection, its reasons, thread safety and memory hygiene of the OpenSSL path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from gateway.signatures.gost import (
    CURVES,
    InvalidSignature,
    backend_info,
    generate_private_key,
    new_streebog,
    public_key_from_private,
    sign_digest,
    streebog256,
    use_backend,
    verify_digest,
)
from gateway.signatures.gost._gcrypt import ENV_LIBRARY as GCRYPT_ENV
from gateway.signatures.gost.backend import ENV_VAR

ROOT = Path(__file__).resolve().parents[3]
CP_A = CURVES["id-GostR3410-2001-CryptoPro-A-ParamSet"]


def test_auto_prefers_openssl_and_says_why(require_openssl: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    info = backend_info()
    assert info.name == "openssl-gost"
    assert (info.streebog, info.gost3410) == ("openssl-gost", "openssl-gost")
    assert info.reason.startswith("gost engine loaded from ")
    assert info.reason.endswith("gost.so") or "already loaded" in info.reason
    assert info.details["selection"] == "default"
    assert info.details["self_test"].startswith("passed")
    assert "streebog" in info.details


def test_environment_forces_pure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "pure")
    info = backend_info()
    assert info.name == "pure-python"
    assert info.reason == f"forced by {ENV_VAR}=pure"
    assert (info.streebog, info.gost3410) == ("pure-python", "pure-python")
    assert type(new_streebog(256)).__name__ == "PureStreebog"


def test_environment_forces_fallback(require_gcrypt: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "Fallback")
    info = backend_info()
    assert info.name == "libgcrypt-fallback"
    assert (info.streebog, info.gost3410) == ("libgcrypt", "pure-python")
    assert info.reason.startswith(f"forced by {ENV_VAR}=Fallback; Streebog from libgcrypt ")
    assert info.details["gost3410_reason"].endswith("the fallback keeps GOST R 34.10 in pure Python")
    assert type(new_streebog(256)).__name__ == "GcryptStreebog"


def test_environment_forces_openssl(require_openssl: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "OpenSSL")
    info = backend_info()
    assert info.name == "openssl-gost"
    assert f"forced by {ENV_VAR}=OpenSSL" in info.reason


def test_bad_environment_value_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "fastest")
    with pytest.raises(ValueError, match=ENV_VAR):
        backend_info()
    with pytest.raises(ValueError, match=ENV_VAR):
        streebog256(b"")


def test_use_backend_overrides_environment_and_nests(require_openssl: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, "openssl")
    with use_backend("pure"):
        assert backend_info().name == "pure-python"
        assert backend_info().reason == "forced by use_backend()"
        with use_backend("openssl-gost"):
            assert backend_info().name == "openssl-gost"
        assert backend_info().name == "pure-python"
    assert backend_info().name == "openssl-gost"
    with pytest.raises(ValueError, match="use auto, openssl, fallback or pure"), use_backend("gpu"):
        pass


def test_use_backend_fallback_nests_with_the_others(require_openssl: None, require_gcrypt: None) -> None:
    with use_backend("pure"):
        with use_backend("libgcrypt-fallback"):
            info = backend_info()
            assert (info.name, info.streebog, info.gost3410) == ("libgcrypt-fallback", "libgcrypt", "pure-python")
            with use_backend("openssl"):
                assert backend_info().streebog == "openssl-gost"
            assert type(new_streebog(512)).__name__ == "GcryptStreebog"
        assert backend_info().name == "pure-python"


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENSSL_CONF": "/dev/null", **env}
    full_env.pop(ENV_VAR, None)
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=full_env, cwd=ROOT, timeout=120
    )


_PROBE = """
import json
from gateway.signatures import gost
from gateway.signatures.gost import _gcrypt, _openssl
out = {}
try:
    info = gost.backend_info()
    out["name"], out["reason"] = info.name, info.reason
    out["streebog"], out["gost3410"] = info.streebog, info.gost3410
    out["details"] = info.details
except gost.BackendUnavailable as exc:
    out["error"] = str(exc)
try:
    out["hash"] = gost.streebog256(b"abc").hex()
    out["hasher"] = type(gost.new_streebog(256)).__name__
except gost.BackendUnavailable as exc:
    out["hash_error"] = str(exc)
try:
    with gost.use_backend("fallback"):
        out["use_fallback"] = "entered"
except gost.BackendUnavailable as exc:
    out["use_fallback"] = str(exc)
out["openssl_touched"] = _openssl._state is not None
out["gcrypt_touched"] = _gcrypt._state is not None
print(json.dumps(out))
"""
ABC_256 = "4e2919cf137ed41ec4fb6270c61826cc4fffb660341e0af3688cd0626d23b481"
NO_ENGINE = {"GATEWAY_GOST_ENGINE": "/nonexistent/gost.so"}
NO_GCRYPT = {GCRYPT_ENV: "libgcrypt-missing-for-this-test.so.99"}


def _probe(**env: str) -> dict[str, Any]:
    done = _run(_PROBE, **env)
    assert done.returncode == 0, done.stderr
    out: dict[str, Any] = json.loads(done.stdout)
    return out


def test_missing_engine_falls_back_to_libgcrypt_with_reason(require_gcrypt: None) -> None:
    """A fresh process whose engine path is wrong: auto picks the libgcrypt fallback and says why."""
    out = _probe(**NO_ENGINE)
    assert out["name"] == "libgcrypt-fallback"
    assert (out["streebog"], out["gost3410"]) == ("libgcrypt", "pure-python")
    assert "/nonexistent/gost.so" in out["reason"]
    assert "Streebog from libgcrypt" in out["reason"]
    assert "/nonexistent/gost.so" in out["details"]["openssl_unavailable"]
    assert out["details"]["streebog_reason"] == "libgcrypt loaded and passed its self-test"
    assert out["details"]["libgcrypt_self_test"].startswith("passed")
    assert out["hash"] == ABC_256
    assert out["hasher"] == "GcryptStreebog"


def test_missing_engine_and_libgcrypt_falls_back_to_pure_with_both_reasons() -> None:
    out = _probe(**NO_ENGINE, **NO_GCRYPT)
    assert out["name"] == "pure-python"
    assert (out["streebog"], out["gost3410"]) == ("pure-python", "pure-python")
    assert "/nonexistent/gost.so" in out["reason"]
    assert "libgcrypt-missing-for-this-test.so.99" in out["reason"]
    assert "libgcrypt-missing-for-this-test.so.99" in out["details"]["streebog_reason"]
    assert out["hash"] == ABC_256
    assert out["hasher"] == "PureStreebog"


def test_forced_openssl_without_engine_is_an_error() -> None:
    out = _probe(**NO_ENGINE, **{ENV_VAR: "openssl"})
    assert "requires the OpenSSL GOST backend" in out["error"]
    assert "/nonexistent/gost.so" in out["error"]
    assert "requires the OpenSSL GOST backend" in out["hash_error"]


def test_forced_fallback_without_libgcrypt_is_an_error() -> None:
    """Even with the engine present: forcing the fallback never quietly becomes pure Python."""
    out = _probe(**NO_GCRYPT, **{ENV_VAR: "fallback"})
    assert f"{ENV_VAR}=fallback requires libgcrypt's Streebog" in out["error"]
    assert "libgcrypt-missing-for-this-test.so.99" in out["error"]
    assert "requires libgcrypt's Streebog" in out["hash_error"]
    assert out["use_fallback"].startswith("use_backend('fallback') requires libgcrypt's Streebog")
    assert out["openssl_touched"] is False


def test_forced_fallback_uses_libgcrypt_and_never_loads_openssl(require_gcrypt: None) -> None:
    out = _probe(**{ENV_VAR: "fallback"})
    assert out["name"] == "libgcrypt-fallback"
    assert out["reason"].startswith(f"forced by {ENV_VAR}=fallback; Streebog from libgcrypt")
    assert (out["streebog"], out["gost3410"]) == ("libgcrypt", "pure-python")
    assert out["hash"] == ABC_256
    assert out["openssl_touched"] is False


def test_forced_pure_never_loads_openssl_or_libgcrypt() -> None:
    out = _probe(**{ENV_VAR: "pure"})
    assert out["name"] == "pure-python"
    assert out["hasher"] == "PureStreebog"
    assert out["openssl_touched"] is False
    # The probe itself tries use_backend("fallback"), so check libgcrypt in a process that does not.
    done = _run("from gateway.signatures import gost; from gateway.signatures.gost import _gcrypt, _openssl;"
                "gost.streebog256(b'abc'); gost.backend_info(); print(_gcrypt._state, _openssl._state)",
                **{ENV_VAR: "pure"})  # fmt: skip
    assert done.stdout.split() == ["None", "None"], done.stderr


def test_auto_with_engine_never_loads_libgcrypt(require_openssl: None) -> None:
    done = _run("from gateway.signatures import gost; from gateway.signatures.gost import _gcrypt;"
                "gost.streebog256(b'abc'); print(gost.backend_info().name, _gcrypt._state)")  # fmt: skip
    assert done.stdout.split() == ["openssl-gost", "None"], done.stderr


@pytest.mark.parametrize("jobs", [600])
def test_verification_from_a_thread_pool(gost_backend: str, jobs: int) -> None:
    """Many threads verify good and bad signatures at once; every answer must be right."""
    if gost_backend != "openssl":
        jobs //= 10  # pure-Python GOST R 34.10: same races (key cache, comb building), fewer iterations
    keys = []
    for curve in (CP_A, CURVES["id-tc26-gost-3410-12-512-paramSetA"]):
        for _ in range(3):
            private = generate_private_key(curve)
            digest = os.urandom(curve.size)
            keys.append((curve, public_key_from_private(curve, private), digest, sign_digest(curve, private, digest)))

    def job(i: int) -> bool:
        """True when the verdict is right."""
        curve, public, digest, signature = keys[i % len(keys)]
        tampered = i % 3 == 0
        if tampered:
            signature = signature[:-1] + bytes([signature[-1] ^ 0x80])
        try:
            verify_digest(curve, public, digest, signature)
        except InvalidSignature:
            return tampered
        return not tampered

    data = os.urandom(3_000 if gost_backend == "pure" else 300_000)
    want = streebog256(data)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(job, range(jobs)))
        hashes = list(pool.map(lambda _: streebog256(data), range(16)))
    assert all(results)
    assert hashes == [want] * 16


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_openssl_calls_do_not_leak(require_openssl: None) -> None:
    """Every EVP_PKEY / EVP_PKEY_CTX / EVP_MD_CTX made per call is freed: RSS stays flat."""
    curve = CP_A
    private = generate_private_key(curve)
    public = public_key_from_private(curve, private)
    digest = os.urandom(32)
    with use_backend("openssl"):
        signature = sign_digest(curve, private, digest)
        bad = signature[:-1] + bytes([signature[-1] ^ 1])

        def burst(n: int) -> None:
            for _ in range(n):
                verify_digest(curve, public, digest, signature)
                with pytest.raises(InvalidSignature):
                    verify_digest(curve, public, digest, bad)
                h = new_streebog(256, digest)
                h.copy().digest()
            for _ in range(n // 10):
                sign_digest(curve, private, digest)

        burst(300)  # warm-up: caches, allocator pools
        before = _rss_kib()
        burst(2000)
        grown = _rss_kib() - before
    # A leaked EVP_PKEY per call would be several MB here.
    assert grown < 1500, f"RSS grew by {grown} KiB"
