"""Streebog (GOST R 34.11-2012): standard examples, long inputs, incremental use, both backends."""

from __future__ import annotations

import hashlib
import os

import gostcrypto
import pytest
from _gost_vectors import load_json

from gateway.signatures.gost import _openssl, backend_info, new_streebog, streebog256, streebog512, use_backend
from gateway.signatures.gost.streebog_pure import PureStreebog

STREEBOG = load_json("streebog.json")
LENGTHS = [0, 1, 63, 64, 65, 127, 128, 1000, 50 * 1024]


def _gostcrypto(bits: int, data: bytes) -> bytes:
    return bytes(gostcrypto.gosthash.new(f"streebog{bits}", data=bytearray(data)).digest())


@pytest.mark.parametrize("vector", STREEBOG["vectors"], ids=lambda v: v["name"])
def test_standard_examples(gost_backend: str, vector: dict[str, object]) -> None:
    message = bytes.fromhex(str(vector["message_hex"]))
    printed = vector["as_printed"]
    assert isinstance(printed, dict)
    # The standard prints numbers most significant byte first; OpenSSL's bytes are the reverse.
    assert streebog512(message) == bytes.fromhex(printed["h512"])[::-1]
    assert streebog256(message) == bytes.fromhex(printed["h256"])[::-1]


def test_checksum_carry_vector(gost_backend: str) -> None:
    vector = STREEBOG["extra"][0]
    assert streebog256(bytes.fromhex(vector["message_hex"])) == bytes.fromhex(vector["h256"])


def test_backend_fixture_really_switches(gost_backend: str) -> None:
    expected = {"openssl": "openssl-gost", "fallback": "libgcrypt-fallback", "pure": "pure-python"}[gost_backend]
    assert backend_info().name == expected
    kind = type(new_streebog(256)).__name__
    kinds = {"openssl": {"_HashlibStreebog", "_EvpStreebog"}, "fallback": {"GcryptStreebog"}, "pure": {"PureStreebog"}}
    assert kind in kinds[gost_backend]


@pytest.mark.parametrize("bits", [256, 512])
def test_pure_matches_openssl_on_many_lengths(require_openssl: None, bits: int) -> None:
    data = os.urandom(max(LENGTHS))
    for n in LENGTHS:
        with use_backend("openssl"):
            want = new_streebog(bits, data[:n]).digest()
        assert PureStreebog(bits, data[:n]).digest() == want, n


@pytest.mark.parametrize("bits", [256, 512])
def test_pure_matches_gostcrypto(bits: int) -> None:
    data = os.urandom(1000)
    for n in (0, 1, 63, 64, 65, 1000):
        assert PureStreebog(bits, data[:n]).digest() == _gostcrypto(bits, data[:n]), n


def test_pure_matches_gostcrypto_long_input() -> None:
    data = os.urandom(50 * 1024)
    assert PureStreebog(256, data).digest() == _gostcrypto(256, data)


@pytest.mark.parametrize("bits", [256, 512])
def test_incremental_updates_and_copy(gost_backend: str, bits: int) -> None:
    data = os.urandom(3000)
    one_shot = new_streebog(bits, data).digest()
    for step in (1, 7, 63, 64, 65, 1000):
        h = new_streebog(bits)
        for i in range(0, len(data), step):
            h.update(data[i : i + step])
        assert h.digest() == one_shot, step
    h = new_streebog(bits)
    h.update(data[:1234])
    fork = h.copy()
    h.update(data[1234:])
    assert h.digest() == one_shot
    assert fork.digest() == new_streebog(bits, data[:1234]).digest()
    fork.update(data[1234:])
    assert fork.digest() == one_shot
    assert h.digest() == one_shot  # digest() does not disturb the state
    assert h.digest_size == bits // 8
    assert h.block_size == 64
    assert h.hexdigest() == one_shot.hex()


def test_accepts_bytearray_and_memoryview(gost_backend: str) -> None:
    data = os.urandom(200)
    h = new_streebog(256)
    h.update(bytearray(data[:100]))
    h.update(memoryview(data)[100:])
    assert h.digest() == streebog256(data)


def test_rejects_other_sizes() -> None:
    with pytest.raises(ValueError, match="256- and 512-bit"):
        new_streebog(384)
    with pytest.raises(ValueError, match="256- and 512-bit"):
        PureStreebog(128)


def test_evp_path_matches_hashlib_path(require_openssl: None) -> None:
    """The ctypes EVP_Digest route (used when hashlib cannot reach the provider) gives the same
    digests as the hashlib route, including copy() and repeated digest()."""
    crypto = _openssl.load().crypto
    data = os.urandom(5000)
    for bits in (256, 512):
        md = crypto.EVP_MD_fetch(None, f"md_gost12_{bits}".encode(), None)
        assert md, crypto.errors()
        h = _openssl._EvpStreebog(crypto, md, bits, None)
        h.update(data[:777])
        fork = h.copy()
        h.update(data[777:])
        assert h.digest() == hashlib.new(f"md_gost12_{bits}", data).digest()
        assert h.digest() == h.digest()
        assert fork.digest() == hashlib.new(f"md_gost12_{bits}", data[:777]).digest()
