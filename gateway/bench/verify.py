"""How fast does the gateway verify a real signature? ``bench_verify`` measures it on this machine.

The workload is what REMD traffic looks like: a 50 KB document, detached CAdES-BES, GOST R 34.10-2012
256-bit, signer certificate issued by an intermediate CA, trust anchor + CRLs configured. Each figure
is full verifications per second on one thread (parse CMS, hash the content, check signed
attributes, verify the signature, validate the chain with revocation): the median of ``rounds``
rounds sharing about ``seconds`` (gateway.signatures.timing):

* ``project_ops_per_s``    — the project as configured here (``auto``: the OpenSSL GOST engine when
  present); ``backend``/``backend_reason``/``backend_streebog``/``backend_gost3410`` say what ran;
* ``fallback_ops_per_s``   — the fallback exactly as it runs on a machine without the engine: Streebog
  from libgcrypt and GOST R 34.10 in pure Python (``use_backend("fallback")``), or everything in pure
  Python where libgcrypt cannot be used here; ``fallback_backend``/``fallback_reason``/
  ``fallback_streebog``/``fallback_gost3410`` say which;
* ``pure_python_ops_per_s`` — everything in pure Python (``use_backend("pure")``), the floor;
* ``gostcrypto_ops_per_s`` — a naive verification with ``gostcrypto`` (pure Python, no chain);
* ``openssl_cli_ops_per_s`` — ``openssl cms -verify -engine gost`` as a subprocess, when available;
* ``thread_pool_ops_per_s`` — the project's fast path on a thread pool of ``threads`` workers, to see
  whether ``verify_cms_async``'s executor gains from threads (it does only while the GIL is released);
* ``streebog_mb_per_s``    — Streebog-256 throughput of the project's backend (1 MiB updates);
* ``fallback_streebog_mb_per_s`` — the same for the fallback's Streebog;
* ``pure_python_streebog_mb_per_s`` — the same for the pure-Python Streebog (64 KiB updates);
* ``loadavg_before``/``loadavg_after`` — the 1/5/15-minute load averages around the run (other
  work on the machine lowers every figure).

It switches backends process-wide (``use_backend``): run it from a tool, not inside a busy server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from gateway.signatures import gost
from gateway.signatures.pki import TestPki
from gateway.signatures.sign import sign_cms
from gateway.signatures.timing import ROUNDS, median_rate
from gateway.signatures.verify import Verifier

__all__ = ["DOCUMENT_SIZE", "bench_verify"]

DOCUMENT_SIZE = 50 * 1024


def _threaded_rate(seconds: float, op: Callable[[], object], workers: int) -> float:
    deadline = time.perf_counter() + seconds

    def loop() -> int:
        count = 0
        while time.perf_counter() < deadline or count == 0:
            op()
            count += 1
        return count

    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        total = sum(pool.map(lambda _: loop(), range(workers)))
    return total / (time.perf_counter() - start)


def _gostcrypto_verify(signature: bytes, content: bytes, public_point: bytes) -> bool:
    """A straightforward verification with gostcrypto, the way one would write it without this
    project: parse with asn1crypto, Streebog and GOST R 34.10 from gostcrypto, no chain."""
    import gostcrypto
    from asn1crypto import cms

    info = cms.ContentInfo.load(signature)
    signer = info["content"]["signer_infos"][0]
    attrs = signer["signed_attrs"]
    digest = next(a["values"][0].native for a in attrs if a["type"].native == "message_digest")
    if gostcrypto.gosthash.new("streebog256", data=content).digest() != digest:
        return False
    signed = b"\x31" + attrs.dump()[1:]
    e = gostcrypto.gosthash.new("streebog256", data=signed).digest()
    sig = signer["signature"].native
    n = 32
    # gostcrypto reads everything big-endian: key halves and digest reversed, signature r||s
    key = public_point[:n][::-1] + public_point[n:][::-1]
    curve = gostcrypto.gostsignature.CURVES_R_1323565_1_024_2019["id-tc26-gost-3410-2012-256-paramSetB"]
    signer_obj = gostcrypto.gostsignature.new(gostcrypto.gostsignature.MODE_256, curve)
    return bool(signer_obj.verify(bytearray(key), bytearray(e[::-1]), bytearray(sig[n:] + sig[:n])))


def _openssl_cli(workdir: Path, seconds: float) -> float | None:
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cmd = [
        openssl, "cms", "-verify", "-engine", "gost", "-binary", "-inform", "DER",
        "-in", str(workdir / "sig.der"), "-content", str(workdir / "doc.bin"),
        "-CAfile", str(workdir / "pki" / "root.pem"), "-out", os.devnull,
    ]  # fmt: skip
    probe = subprocess.run(cmd, capture_output=True, check=False, timeout=30)
    if probe.returncode != 0:
        return None

    def run() -> None:
        subprocess.run(cmd, capture_output=True, check=True, timeout=30)

    return median_rate(seconds, run)


def _streebog_mb_per_s(seconds: float, chunk: bytes) -> float:
    """Streebog-256 throughput of the active backend, hashing ``chunk`` whole again and again."""
    return median_rate(seconds, lambda: gost.streebog256(chunk)) * len(chunk) / 1e6


def _describe(results: dict[str, Any], prefix: str, info: gost.BackendInfo) -> None:
    results[prefix] = info.name
    results[f"{prefix}_reason"] = info.reason
    results[f"{prefix}_streebog"] = info.streebog
    results[f"{prefix}_gost3410"] = info.gost3410


def _fallback_choice() -> str:
    """What runs without the engine: the libgcrypt fallback, or pure Python where it cannot load."""
    try:
        with gost.use_backend("fallback"):  # raises on entry if libgcrypt is unusable here
            return "fallback"
    except gost.BackendUnavailable:
        return "pure"


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def bench_verify(seconds: float = 2.0, *, threads: int | None = None) -> dict[str, Any]:
    """Measure (see module docstring). Every number comes from a run on this machine; a path that
    cannot run here (no OpenSSL GOST engine, no gostcrypto) is reported as None."""
    results: dict[str, Any] = {
        "document_bytes": DOCUMENT_SIZE,
        "seconds_per_figure": seconds,
        "rounds": ROUNDS,
        "loadavg_before": _loadavg(),
    }
    workers = threads or os.cpu_count() or 1
    with tempfile.TemporaryDirectory(prefix="mse-bench-") as tmp:
        workdir = Path(tmp)
        pki = TestPki.init(workdir / "pki", "gost2012-256")
        issued = pki.issue("vk-chair")
        content = os.urandom(DOCUMENT_SIZE)
        signature = sign_cms(content, issued.key, issued.certificate, chain=[pki.ca])
        (workdir / "sig.der").write_bytes(signature)
        (workdir / "doc.bin").write_bytes(content)
        verifier = Verifier(pki.trust_dir, [pki.crl_path, pki.root_crl_path])

        def project() -> None:
            report = verifier.verify_cms(signature, content)
            if not report.valid:
                raise RuntimeError(f"benchmark signature did not verify: {report.codes}")

        _describe(results, "backend", gost.backend_info())
        project()  # warm-up: parses, caches anchors, CRLs and the chain's link signatures
        results["project_ops_per_s"] = median_rate(seconds, project)
        results["threads"] = workers
        results["thread_pool_ops_per_s"] = _threaded_rate(seconds, project, workers)
        chunk = os.urandom(1 << 20)
        results["streebog_mb_per_s"] = _streebog_mb_per_s(seconds, chunk)
        with gost.use_backend(_fallback_choice()):
            _describe(results, "fallback", gost.backend_info())
            project()
            results["fallback_ops_per_s"] = median_rate(seconds, project)
            results["fallback_streebog_mb_per_s"] = _streebog_mb_per_s(seconds, chunk)
        with gost.use_backend("pure"):
            project()
            results["pure_python_ops_per_s"] = median_rate(seconds, project)
            results["pure_python_streebog_mb_per_s"] = _streebog_mb_per_s(seconds, chunk[: 1 << 16])

        point = issued.certificate.public_key.gost_point
        assert point is not None
        try:
            if not _gostcrypto_verify(signature, content, point):
                raise RuntimeError("gostcrypto did not verify the benchmark signature")
            results["gostcrypto_ops_per_s"] = median_rate(
                seconds, lambda: _gostcrypto_verify(signature, content, point)
            )
        except ImportError:
            results["gostcrypto_ops_per_s"] = None
        results["openssl_cli_ops_per_s"] = _openssl_cli(workdir, seconds)
    results["loadavg_after"] = _loadavg()
    return results
