"""Backend selection, its reasons, thread safety and memory hygiene of the OpenSSL path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

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
from gateway.signatures.gost.backend import ENV_VAR

ROOT = Path(__file__).resolve().parents[3]
CP_A = CURVES["id-GostR3410-2001-CryptoPro-A-ParamSet"]


def test_auto_prefers_openssl_and_says_why(require_openssl: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)
    info = backend_info()
    assert info.name == "openssl-gost"
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
    assert type(new_streebog(256)).__name__ == "PureStreebog"


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
    with pytest.raises(ValueError, match="not a crypto backend"), use_backend("gpu"):
        pass


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
from gateway.signatures.gost import _openssl
out = {}
try:
    info = gost.backend_info()
    out["name"], out["reason"] = info.name, info.reason
except gost.BackendUnavailable as exc:
    out["error"] = str(exc)
try:
    out["hash"] = gost.streebog256(b"abc").hex()
except gost.BackendUnavailable as exc:
    out["hash_error"] = str(exc)
out["openssl_touched"] = _openssl._state is not None
print(json.dumps(out))
"""


def test_missing_engine_falls_back_with_reason() -> None:
    """A fresh process whose engine path is wrong: auto picks pure Python and says why."""
    done = _run(_PROBE, GATEWAY_GOST_ENGINE="/nonexistent/gost.so")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["name"] == "pure-python"
    assert "/nonexistent/gost.so" in out["reason"]
    assert out["hash"] == "4e2919cf137ed41ec4fb6270c61826cc4fffb660341e0af3688cd0626d23b481"


def test_forced_openssl_without_engine_is_an_error() -> None:
    done = _run(_PROBE, GATEWAY_GOST_ENGINE="/nonexistent/gost.so", **{ENV_VAR: "openssl"})
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert "requires the OpenSSL GOST backend" in out["error"]
    assert "/nonexistent/gost.so" in out["error"]
    assert "requires the OpenSSL GOST backend" in out["hash_error"]


def test_forced_pure_never_loads_openssl() -> None:
    done = _run(_PROBE, **{ENV_VAR: "pure"})
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["name"] == "pure-python"
    assert out["openssl_touched"] is False


@pytest.mark.parametrize("jobs", [600])
def test_verification_from_a_thread_pool(gost_backend: str, jobs: int) -> None:
    """Many threads verify good and bad signatures at once; every answer must be right."""
    if gost_backend == "pure":
        jobs //= 10  # same races (key cache, comb building), fewer iterations
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

    data = os.urandom(300_000 if gost_backend == "openssl" else 3_000)
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
