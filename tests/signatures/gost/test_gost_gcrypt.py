"""libgcrypt's Streebog through ctypes: the standard's examples, incremental use, copy(), agreement
with the engine and the pure-Python code on random input, threads, handle lifetime, the loader."""

from __future__ import annotations

import gc
import hashlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from _gost_vectors import load_json
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.signatures.gost import BackendUnavailable, _gcrypt, _openssl
from gateway.signatures.gost.streebog_pure import PureStreebog

STREEBOG = load_json("streebog.json")
SPLITS = [1, 3, 7, 31, 63, 64, 65, 127, 128, 129, 1000, 4097]


@pytest.fixture
def gcrypt(require_gcrypt: None) -> _gcrypt.Gcrypt:
    return _gcrypt.load()


@pytest.mark.parametrize("vector", STREEBOG["vectors"], ids=lambda v: v["name"])
def test_standard_examples(gcrypt: _gcrypt.Gcrypt, vector: dict[str, object]) -> None:
    message = bytes.fromhex(str(vector["message_hex"]))
    printed = vector["as_printed"]
    assert isinstance(printed, dict)
    for bits in (256, 512):
        h = gcrypt.new_hash(bits)
        h.update(message)
        assert h.digest() == bytes.fromhex(printed[f"h{bits}"])[::-1], bits


def test_checksum_carry_vector(gcrypt: _gcrypt.Gcrypt) -> None:
    vector = STREEBOG["extra"][0]
    h = gcrypt.new_hash(256)
    h.update(bytes.fromhex(vector["message_hex"]))
    assert h.hexdigest() == vector["h256"]


@pytest.mark.parametrize(
    ("bits", "want"),
    [
        (256, "3f539a213e97c802cc229d474c6aa32a825a360b2a933a949fd925208d9ce1bb"),
        (512, "8e945da209aa869f0455928529bcae4679e9873ab707b55315f56ceb98bef0a7"
              "362f715528356ee83cda5f2aac4c6ad2ba3a715c1bcd81cb8e9f90bf4c1c1a8a"),
    ],
)  # fmt: skip
def test_empty_input(gcrypt: _gcrypt.Gcrypt, bits: int, want: str) -> None:
    """The empty message (as ``openssl dgst -md_gost12_*`` prints it), also after empty updates."""
    h = gcrypt.new_hash(bits)
    assert h.hexdigest() == want
    h.update(b"")
    assert h.hexdigest() == want == PureStreebog(bits).hexdigest()


@pytest.mark.parametrize("bits", [256, 512])
def test_odd_split_points_copy_and_repeated_digest(gcrypt: _gcrypt.Gcrypt, bits: int) -> None:
    data = os.urandom(5000)
    want = PureStreebog(bits, data).digest()
    for step in SPLITS:
        h = gcrypt.new_hash(bits)
        for i in range(0, len(data), step):
            h.update(data[i : i + step])
        assert h.digest() == want, step
    h = gcrypt.new_hash(bits)
    h.update(data[:777])
    fork = h.copy()
    h.update(data[777:])
    assert h.digest() == want
    assert h.digest() == want  # reading does not finalise the hasher
    assert fork.digest() == PureStreebog(bits, data[:777]).digest()
    fork.update(data[777:])
    assert fork.digest() == want
    h.update(b"more")
    assert h.digest() == PureStreebog(bits, data + b"more").digest()
    assert (h.digest_size, h.block_size, h.name) == (bits // 8, 64, f"streebog{bits}")


def test_accepts_bytearray_and_memoryview(gcrypt: _gcrypt.Gcrypt) -> None:
    data = os.urandom(300)
    h = gcrypt.new_hash(256)
    h.update(bytearray(data[:100]))
    h.update(memoryview(data)[100:200])
    h.update(memoryview(bytearray(data))[200:])
    assert h.digest() == PureStreebog(256, data).digest()


def test_rejects_other_sizes(gcrypt: _gcrypt.Gcrypt) -> None:
    with pytest.raises(ValueError, match="256- and 512-bit"):
        gcrypt.new_hash(384)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.binary(max_size=700),
    cuts=st.lists(st.integers(min_value=0, max_value=700), max_size=4),
    bits=st.sampled_from([256, 512]),
)
def test_random_inputs_agree_with_pure_python_and_openssl(
    gcrypt: _gcrypt.Gcrypt, data: bytes, cuts: list[int], bits: int
) -> None:
    """Random messages fed at random split points: libgcrypt == pure Python (== OpenSSL if here)."""
    h = gcrypt.new_hash(bits)
    start = 0
    for cut in sorted(c for c in cuts if c <= len(data)):
        h.update(data[start:cut])
        start = cut
    h.update(data[start:])
    want = PureStreebog(bits, data).digest()
    assert h.digest() == want
    try:
        engine = _openssl.load()
    except BackendUnavailable:
        return
    other = engine.new_hash(bits)
    other.update(data)
    assert other.digest() == want


@pytest.mark.parametrize("size", [64 * 1024 - 1, 50 * 1024, 1 << 20])
def test_long_inputs_agree_with_openssl(gcrypt: _gcrypt.Gcrypt, require_openssl: None, size: int) -> None:
    data = os.urandom(size)
    for bits in (256, 512):
        h = gcrypt.new_hash(bits)
        h.update(data)
        assert h.digest() == hashlib.new(f"md_gost12_{bits}", data).digest()


def test_separate_hashers_in_separate_threads(gcrypt: _gcrypt.Gcrypt) -> None:
    blobs = [os.urandom(20_000 + i) for i in range(8)]
    want = [PureStreebog(256, b).digest() for b in blobs]

    def job(i: int) -> bytes:
        blob = blobs[i % len(blobs)]
        h = gcrypt.new_hash(256)
        for off in range(0, len(blob), 997):
            h.update(blob[off : off + 997])
        return h.copy().digest()

    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(job, range(64)))
    assert got == [want[i % len(blobs)] for i in range(64)]


def test_one_hasher_shared_by_threads_stays_consistent(gcrypt: _gcrypt.Gcrypt) -> None:
    """Concurrent update()/copy()/digest() on one hasher are serialised: equal chunks in any order
    must give the hash of all of them, and no call may crash or corrupt the handle."""
    chunk = os.urandom(4096)
    h = gcrypt.new_hash(512)
    barrier = threading.Barrier(6)

    def worker() -> None:
        barrier.wait()
        for _ in range(50):
            h.update(chunk)
            h.copy().digest()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert h.digest() == PureStreebog(512, chunk * 300).digest()


def _rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_handles_are_closed(gcrypt: _gcrypt.Gcrypt) -> None:
    """Every handle (hashers, their copies, digest()'s temporary copy) is closed: RSS stays flat."""
    data = os.urandom(100)

    def burst(n: int) -> None:
        for _ in range(n):
            h = gcrypt.new_hash(512)
            h.update(data)
            h.copy().digest()
            h.digest()
        gc.collect()

    burst(2000)  # warm-up: allocator pools
    before = _rss_kib()
    burst(30_000)
    grown = _rss_kib() - before
    # A leaked gcry_md handle is ~1 KiB with its Stribog context: 90,000 of them would be ~90 MB.
    assert grown < 3000, f"RSS grew by {grown} KiB"


def test_loader_reports_a_missing_library() -> None:
    with pytest.raises(BackendUnavailable, match=r"libgcrypt not loadable \(libno-such-gcrypt\.so\.7: "):
        _gcrypt.open_library("libno-such-gcrypt.so.7")


def test_loader_refuses_a_library_that_is_not_libgcrypt() -> None:
    with pytest.raises(BackendUnavailable, match=r"libc\.so\.6 is not a usable libgcrypt: .*gcry_check_version"):
        _gcrypt.open_library("libc.so.6")


def test_loader_details(gcrypt: _gcrypt.Gcrypt) -> None:
    assert gcrypt.version.count(".") >= 2
    assert gcrypt.details["libgcrypt"].startswith(gcrypt.version)
    assert "libgcrypt" in gcrypt.details["libgcrypt"].split("(", 1)[1]
    assert gcrypt.details["libgcrypt_self_test"].startswith("passed")
