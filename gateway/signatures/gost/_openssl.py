"""Fast path: the system OpenSSL 3 with the GOST engine (signatures) and provider (Streebog).

Everything goes through ``ctypes`` against the same ``libcrypto`` that Python's ``_hashlib`` is
linked to, so that loading the ``gostprov`` provider into the default library context makes
``hashlib.new("md_gost12_256")`` work. Nothing needs a change to the global ``openssl.cnf``:

* the provider is loaded with ``OSSL_PROVIDER_try_load(NULL, "gostprov", 1)`` (keeping the
  default provider as a fallback, so ``hashlib.sha256`` and friends are unaffected);
* the engine is loaded from an explicit path through the ``dynamic`` engine, and registered only
  for public-key methods and their ASN.1 codecs (not as the default for digests or ciphers).

Verification builds a SubjectPublicKeyInfo, decodes it with ``d2i_PUBKEY`` and calls
``EVP_PKEY_verify`` on the digest. The engine reads the digest as a little-endian integer and the
signature as ``s || r`` big-endian - the Russian conventions used by the public API - so bytes
pass through unchanged; a known-answer test at load time proves it on this machine.

Thread safety: loading runs once under a lock; afterwards every call allocates its own
``EVP_PKEY``/``EVP_PKEY_CTX`` and frees them before returning, and OpenSSL's error queue is
per-thread and cleared after each failed call. ``ctypes`` releases the GIL during the foreign
calls, so verification scales over a thread pool.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from gateway.signatures.gost._der import pkcs8_private_key, subject_public_key_info
from gateway.signatures.gost._procmaps import mapped_path
from gateway.signatures.gost.curves import CURVES, TEST_CURVES, Curve, curve_by_oid
from gateway.signatures.gost.errors import BackendUnavailable

__all__ = ["OpenSSLGost", "load"]

_vp = ctypes.c_void_p
_cp = ctypes.c_char_p
_int = ctypes.c_int
_size = ctypes.c_size_t

# Streebog of the standard's example M1 (GOST R 34.11-2012 appendix A), in OpenSSL byte order.
_M1: Final = b"012345678901234567890123456789012345678901234567890123456789012"
_M1_256: Final = bytes.fromhex("9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500")
_M1_512: Final = bytes.fromhex(
    "1b54d01a4af5b9d5cc3d86d68d285462b19abc2475222f35c085122be4ba1ffa"
    "00ad30f8767b3a82384c6574f024c311e2a481332b08ef7f41797891c1646f48"
)

# Signatures made by the pure-Python signer (itself checked against GOST R 34.10-2012 appendix
# A): if the engine accepts them and rejects a one-bit change, the byte orders agree.
_KAT: Final = (
    (
        "1.2.643.2.2.35.1",
        "6b934365a2b3d18c6da74b2f2ff2e524de836dc80d01b7fcd7ecb2c5fdb108b7"
        "e3863c2ba7df5d5b1d4aef3c38f01a4dc44a00e3d7f3b049c056b567a6eedc3f",
        "51c0dae39379149a05e21a59c7608f8fa717d589594b1fd389d42748efb2b57c"
        "acb3f3bbca15f63a272755e37f6cfa66fefbe9d203b64f2e7459e7debce28e51",
    ),
    (
        "1.2.643.7.1.2.1.2.1",
        "37a9fe1dea707bd04f884f6c0993bfd720baac16ab53faeaaa5b9555603a8b9e"
        "ecf5442722c9ed941959ba7892ccca7d4cec7cfc879c8a6ca8def8ed86fd2fb6"
        "df99bd2e5160305c7c5dc58b2497bedff548559590d0a0c2951cc73d0ffc2160"
        "603206763ed034f8fb16f93dd002c54a0f2bfb6c7a910e36aa41dc74ec4a469a",
        "195047c91aaad3c0139015cefc330b38495a42685cb66632497ee6437c320d6f"
        "54e0c99bd10f7aa7d35a668765f82b6639081135019245896147f3d7910b9b8e"
        "44617d3cbc8622011ea8963e87fe202bf243105c1260919d86940d91ed5c4baf"
        "c084bed72620c8d3599d8822a5c7650b591e69d12cea2a446a5e59fa3f0a73ff",
    ),
)

_OPENSSL_ENGINES_DIR: Final = (5, "ENGINESDIR")  # OpenSSL_version() selector, answer prefix
_OPENSSL_MODULES_DIR: Final = (8, "MODULESDIR")
_DIGEST_NAMES: Final = {256: "md_gost12_256", 512: "md_gost12_512"}
_DIGEST_OIDS: Final = {256: "1.2.643.7.1.1.2.2", 512: "1.2.643.7.1.1.2.3"}


class _Crypto:
    """The libcrypto functions we call, with their C signatures declared."""

    def __init__(self, cdll: ctypes.CDLL) -> None:
        self.cdll = cdll

        def fn(name: str, restype: Any, *argtypes: Any) -> Any:
            func = getattr(cdll, name)
            func.restype = restype
            func.argtypes = list(argtypes)
            return func

        pp = ctypes.POINTER(_cp)
        self.OpenSSL_version_num = fn("OpenSSL_version_num", ctypes.c_ulong)
        self.OpenSSL_version = fn("OpenSSL_version", _cp, _int)
        self.OSSL_PROVIDER_try_load = fn("OSSL_PROVIDER_try_load", _vp, _vp, _cp, _int)
        self.ENGINE_get_first = fn("ENGINE_get_first", _vp)
        self.ENGINE_get_next = fn("ENGINE_get_next", _vp, _vp)
        self.ENGINE_get_id = fn("ENGINE_get_id", _cp, _vp)
        self.ENGINE_by_id = fn("ENGINE_by_id", _vp, _cp)
        self.ENGINE_ctrl_cmd_string = fn("ENGINE_ctrl_cmd_string", _int, _vp, _cp, _cp, _int)
        self.ENGINE_init = fn("ENGINE_init", _int, _vp)
        self.ENGINE_free = fn("ENGINE_free", _int, _vp)
        self.ENGINE_register_pkey_meths = fn("ENGINE_register_pkey_meths", _int, _vp)
        self.ENGINE_register_pkey_asn1_meths = fn("ENGINE_register_pkey_asn1_meths", _int, _vp)
        self.ENGINE_get_digest = fn("ENGINE_get_digest", _vp, _vp, _int)
        self.OBJ_txt2nid = fn("OBJ_txt2nid", _int, _cp)
        self.d2i_PUBKEY = fn("d2i_PUBKEY", _vp, _vp, pp, ctypes.c_long)
        self.d2i_AutoPrivateKey = fn("d2i_AutoPrivateKey", _vp, _vp, pp, ctypes.c_long)
        self.EVP_PKEY_free = fn("EVP_PKEY_free", None, _vp)
        self.EVP_PKEY_CTX_new = fn("EVP_PKEY_CTX_new", _vp, _vp, _vp)
        self.EVP_PKEY_CTX_free = fn("EVP_PKEY_CTX_free", None, _vp)
        self.EVP_PKEY_verify_init = fn("EVP_PKEY_verify_init", _int, _vp)
        self.EVP_PKEY_verify = fn("EVP_PKEY_verify", _int, _vp, _cp, _size, _cp, _size)
        self.EVP_PKEY_sign_init = fn("EVP_PKEY_sign_init", _int, _vp)
        self.EVP_PKEY_sign = fn("EVP_PKEY_sign", _int, _vp, _vp, ctypes.POINTER(_size), _cp, _size)
        self.ERR_get_error = fn("ERR_get_error", ctypes.c_ulong)
        self.ERR_error_string_n = fn("ERR_error_string_n", None, ctypes.c_ulong, _cp, _size)
        self.ERR_clear_error = fn("ERR_clear_error", None)
        self.EVP_MD_fetch = fn("EVP_MD_fetch", _vp, _vp, _cp, _cp)
        self.EVP_MD_CTX_new = fn("EVP_MD_CTX_new", _vp)
        self.EVP_MD_CTX_free = fn("EVP_MD_CTX_free", None, _vp)
        self.EVP_MD_CTX_copy_ex = fn("EVP_MD_CTX_copy_ex", _int, _vp, _vp)
        self.EVP_DigestInit_ex = fn("EVP_DigestInit_ex", _int, _vp, _vp, _vp)
        self.EVP_DigestUpdate = fn("EVP_DigestUpdate", _int, _vp, _cp, _size)
        self.EVP_DigestFinal_ex = fn("EVP_DigestFinal_ex", _int, _vp, _cp, ctypes.POINTER(ctypes.c_uint))

    def errors(self) -> str:
        """Drain this thread's OpenSSL error queue into one line."""
        out = []
        buf = ctypes.create_string_buffer(256)
        while code := self.ERR_get_error():
            self.ERR_error_string_n(code, buf, len(buf))
            out.append(buf.value.decode("ascii", "replace"))
        return "; ".join(out) or "no OpenSSL error recorded"

    def version_dir(self, which: tuple[int, str]) -> str | None:
        """Parse ``ENGINESDIR: "/path"`` style answers of ``OpenSSL_version``."""
        selector, prefix = which
        raw = self.OpenSSL_version(selector)
        text = bytes(raw or b"").decode("utf-8", "replace")
        if text.startswith(prefix) and text.count('"') == 2:
            return text.split('"')[1]
        return None


def _open_libcrypto() -> tuple[_Crypto, str, bool]:
    """The libcrypto that ``_hashlib`` uses if possible; (lib, how it was found, shared with hashlib)."""
    try:
        import _hashlib

        hashlib_so = _hashlib.__file__
    except (ImportError, AttributeError):
        hashlib_so = None
    if hashlib_so:
        try:
            # dlsym on the _hashlib handle also searches its dependencies: its libcrypto.
            crypto = _Crypto(ctypes.CDLL(hashlib_so))
            return crypto, mapped_path("libcrypto"), True
        except (OSError, AttributeError):
            pass
    name = ctypes.util.find_library("crypto")
    if not name:
        raise BackendUnavailable("libcrypto not found (neither via _hashlib nor find_library)")
    try:
        crypto = _Crypto(ctypes.CDLL(name))
    except (OSError, AttributeError) as exc:
        raise BackendUnavailable(f"cannot use libcrypto {name}: {exc}") from exc
    return crypto, mapped_path("libcrypto"), False


class _HashlibStreebog:
    """``hashlib`` object computing Streebog through the gostprov provider (releases the GIL)."""

    block_size = 64
    __slots__ = ("_h", "digest_size", "name")

    def __init__(self, h: Any, bits: int) -> None:
        self._h = h
        self.digest_size = bits // 8
        self.name = f"streebog{bits}"

    def update(self, data: bytes | bytearray | memoryview) -> None:
        self._h.update(data)

    def digest(self) -> bytes:
        return bytes(self._h.digest())

    def hexdigest(self) -> str:
        return self.digest().hex()

    def copy(self) -> _HashlibStreebog:
        return _HashlibStreebog(self._h.copy(), self.digest_size * 8)


class _EvpStreebog:
    """Streebog through ``EVP_Digest*`` when ``hashlib`` cannot reach the algorithm."""

    block_size = 64
    __slots__ = ("__weakref__", "_crypto", "_ctx", "_lock", "digest_size", "name")

    def __init__(self, crypto: _Crypto, md: int, bits: int, engine: int | None, src: int = 0) -> None:
        ctx = crypto.EVP_MD_CTX_new()
        if not ctx:
            raise MemoryError("EVP_MD_CTX_new failed")
        weakref.finalize(self, crypto.EVP_MD_CTX_free, ctx)
        self._crypto = crypto
        self._ctx = int(ctx)
        self._lock = threading.Lock()
        self.digest_size = bits // 8
        self.name = f"streebog{bits}"
        ok = crypto.EVP_MD_CTX_copy_ex(ctx, src) if src else crypto.EVP_DigestInit_ex(ctx, md, engine)
        if ok != 1:
            raise RuntimeError(f"cannot start Streebog: {crypto.errors()}")

    def update(self, data: bytes | bytearray | memoryview) -> None:
        raw = bytes(data)
        with self._lock:
            if self._crypto.EVP_DigestUpdate(self._ctx, raw, len(raw)) != 1:
                raise RuntimeError(f"EVP_DigestUpdate failed: {self._crypto.errors()}")

    def digest(self) -> bytes:
        out = ctypes.create_string_buffer(64)
        size = ctypes.c_uint(0)
        with self._lock:
            tmp = _EvpStreebog(self._crypto, 0, self.digest_size * 8, None, src=self._ctx)
            if self._crypto.EVP_DigestFinal_ex(tmp._ctx, out, ctypes.byref(size)) != 1:
                raise RuntimeError(f"EVP_DigestFinal_ex failed: {self._crypto.errors()}")
        return out.raw[: size.value]

    def hexdigest(self) -> str:
        return self.digest().hex()

    def copy(self) -> _EvpStreebog:
        with self._lock:
            return _EvpStreebog(self._crypto, 0, self.digest_size * 8, None, src=self._ctx)


_HasherFactory = Callable[[int], "_HashlibStreebog | _EvpStreebog"]


@dataclass
class OpenSSLGost:
    """A loaded and self-tested OpenSSL GOST backend."""

    crypto: _Crypto
    engine: int
    new_hash: _HasherFactory
    unsupported_curves: frozenset[str]
    details: dict[str, str] = field(default_factory=dict)

    def supports(self, curve: Curve) -> bool:
        return curve.oids[0] not in self.unsupported_curves

    def verify(self, curve: Curve, public_key: bytes, digest: bytes, signature: bytes) -> bool:
        """True iff the engine accepts the signature; the key must already be checked on-curve."""
        crypto = self.crypto
        der = subject_public_key_info(curve, public_key)
        cursor = _cp(der)
        pkey = crypto.d2i_PUBKEY(None, ctypes.byref(cursor), len(der))
        if not pkey:
            reason = crypto.errors()
            raise RuntimeError(f"OpenSSL could not load a {curve.name} public key: {reason}")
        ctx = None
        try:
            ctx = crypto.EVP_PKEY_CTX_new(pkey, None)
            if not ctx or crypto.EVP_PKEY_verify_init(ctx) != 1:
                raise RuntimeError(f"EVP_PKEY_verify_init failed: {crypto.errors()}")
            result = crypto.EVP_PKEY_verify(ctx, signature, len(signature), digest, len(digest))
        finally:
            if ctx:
                crypto.EVP_PKEY_CTX_free(ctx)
            crypto.EVP_PKEY_free(pkey)
        if result == 0:
            crypto.ERR_clear_error()  # "signature mismatch": an answer, not a fault
        elif result != 1:
            raise RuntimeError(f"EVP_PKEY_verify failed ({result}): {crypto.errors()}")
        return bool(result == 1)

    def sign(self, curve: Curve, private_key: int, digest: bytes) -> bytes:
        """Sign with the engine's own random nonce; returns ``s || r`` big-endian."""
        crypto = self.crypto
        der = pkcs8_private_key(curve, private_key)
        cursor = _cp(der)
        pkey = crypto.d2i_AutoPrivateKey(None, ctypes.byref(cursor), len(der))
        if not pkey:
            raise RuntimeError(f"OpenSSL could not load a {curve.name} private key: {crypto.errors()}")
        ctx = None
        try:
            ctx = crypto.EVP_PKEY_CTX_new(pkey, None)
            if not ctx or crypto.EVP_PKEY_sign_init(ctx) != 1:
                raise RuntimeError(f"EVP_PKEY_sign_init failed: {crypto.errors()}")
            size = _size(2 * curve.size)
            out = ctypes.create_string_buffer(size.value)
            if crypto.EVP_PKEY_sign(ctx, out, ctypes.byref(size), digest, len(digest)) != 1:
                raise RuntimeError(f"EVP_PKEY_sign failed: {crypto.errors()}")
            return out.raw[: size.value]
        finally:
            if ctx:
                crypto.EVP_PKEY_CTX_free(ctx)
            crypto.EVP_PKEY_free(pkey)


def _find_engine_path(crypto: _Crypto) -> str:
    explicit = os.environ.get("GATEWAY_GOST_ENGINE")
    if explicit:
        return explicit
    dirs = [os.environ.get("OPENSSL_ENGINES"), crypto.version_dir(_OPENSSL_ENGINES_DIR)]
    dirs += ["/usr/lib/x86_64-linux-gnu/engines-3", "/usr/lib64/engines-3", "/usr/lib/engines-3"]
    tried = []
    for directory in dirs:
        if not directory:
            continue
        path = os.path.join(directory, "gost.so")
        if os.path.exists(path):
            return path
        tried.append(path)
    raise BackendUnavailable("libengine-gost-openssl not found: no gost.so in " + ", ".join(dict.fromkeys(tried)))


def _load_engine(crypto: _Crypto) -> tuple[int, str]:
    """Return a functional reference to the GOST engine and where it came from."""
    # Reuse an instance already in OpenSSL's engine list (e.g. configured by openssl.cnf).
    eng = crypto.ENGINE_get_first()
    while eng:
        if crypto.ENGINE_get_id(eng) == b"gost":
            if crypto.ENGINE_init(eng) != 1:
                crypto.ENGINE_free(eng)
                raise BackendUnavailable(f"GOST engine present but ENGINE_init failed: {crypto.errors()}")
            crypto.ENGINE_free(eng)  # keep only the functional reference
            return int(eng), "already loaded in this process"
        eng = crypto.ENGINE_get_next(eng)
    path = _find_engine_path(crypto)
    eng = crypto.ENGINE_by_id(b"dynamic")
    if not eng:
        raise BackendUnavailable(f"OpenSSL dynamic engine unavailable: {crypto.errors()}")
    ok = (
        crypto.ENGINE_ctrl_cmd_string(eng, b"SO_PATH", os.fsencode(path), 0) == 1
        and crypto.ENGINE_ctrl_cmd_string(eng, b"ID", b"gost", 0) == 1
        and crypto.ENGINE_ctrl_cmd_string(eng, b"LOAD", None, 0) == 1
        and crypto.ENGINE_init(eng) == 1
    )
    if not ok:
        reason = crypto.errors()
        crypto.ENGINE_free(eng)
        raise BackendUnavailable(f"cannot load GOST engine {path}: {reason}")
    crypto.ENGINE_free(eng)
    return int(eng), path


def _hash_factory(crypto: _Crypto, engine: int, shared: bool) -> tuple[_HasherFactory, str]:
    """Pick the fastest working Streebog: hashlib via gostprov, else EVP via provider or engine."""
    notes = []
    provider = crypto.OSSL_PROVIDER_try_load(None, b"gostprov", 1)
    if not provider:
        notes.append(f"gostprov provider not loaded ({crypto.errors()})")
    elif shared:
        try:
            hashlib.new(_DIGEST_NAMES[256])

            def from_hashlib(bits: int) -> _HashlibStreebog:
                return _HashlibStreebog(hashlib.new(_DIGEST_NAMES[bits]), bits)

            modules = crypto.version_dir(_OPENSSL_MODULES_DIR) or "the default modules directory"
            return from_hashlib, f"hashlib via gostprov provider ({modules}/gostprov.so)"
        except ValueError as exc:
            notes.append(f"hashlib cannot reach md_gost12_256 ({exc})")
    mds: dict[int, int] = {}
    via = ""
    if provider:
        for bits, name in _DIGEST_NAMES.items():
            md = crypto.EVP_MD_fetch(None, name.encode(), None)
            if md:
                mds[bits] = int(md)  # fetched once, kept for the life of the process
        via = "EVP_Digest via gostprov provider"
    if len(mds) < 2:
        mds = {}
        for bits, oid in _DIGEST_OIDS.items():
            md = crypto.ENGINE_get_digest(engine, crypto.OBJ_txt2nid(oid.encode()))
            if md:
                mds[bits] = int(md)
        via = "EVP_Digest via GOST engine"
    if len(mds) < 2:
        raise BackendUnavailable("no Streebog implementation in OpenSSL: " + "; ".join(notes))
    use_engine = engine if via.endswith("engine") else None
    crypto.ERR_clear_error()

    def from_evp(bits: int) -> _EvpStreebog:
        return _EvpStreebog(crypto, mds[bits], bits, use_engine)

    return from_evp, via + (f" ({'; '.join(notes)})" if notes else "")


def _self_test(backend: OpenSSLGost) -> None:
    for bits, want in ((256, _M1_256), (512, _M1_512)):
        h = backend.new_hash(bits)
        h.update(_M1)
        if h.digest() != want:
            raise BackendUnavailable(f"OpenSSL Streebog-{bits} fails the GOST R 34.11-2012 M1 example")
    for oid, pub_hex, sig_hex in _KAT:
        curve = curve_by_oid(oid)
        pub, sig = bytes.fromhex(pub_hex), bytes.fromhex(sig_hex)
        digest = bytes(range(curve.size))
        bad = bytes([sig[0] ^ 1]) + sig[1:]
        if not backend.verify(curve, pub, digest, sig) or backend.verify(curve, pub, digest, bad):
            raise BackendUnavailable(f"GOST engine fails the {curve.name} known-answer signature test")


def _unsupported(backend: OpenSSLGost) -> frozenset[str]:
    """Curves whose OID the engine does not know: probe by decoding the base point as a key."""
    missing = set()
    for curve in {*CURVES.values(), *TEST_CURVES.values()}:
        pub = curve.x.to_bytes(curve.size, "little") + curve.y.to_bytes(curve.size, "little")
        der = subject_public_key_info(curve, pub)
        cursor = _cp(der)
        pkey = backend.crypto.d2i_PUBKEY(None, ctypes.byref(cursor), len(der))
        if pkey:
            backend.crypto.EVP_PKEY_free(pkey)
        else:
            backend.crypto.ERR_clear_error()
            missing.add(curve.oids[0])
    return frozenset(missing)


def _load() -> OpenSSLGost:
    crypto, lib_path, shared = _open_libcrypto()
    version = crypto.OpenSSL_version_num()
    text = bytes(crypto.OpenSSL_version(0) or b"?").decode("utf-8", "replace")
    if version < 0x30000000:
        raise BackendUnavailable(f"{text} is older than OpenSSL 3")
    engine, engine_from = _load_engine(crypto)
    if crypto.ENGINE_register_pkey_meths(engine) != 1 or crypto.ENGINE_register_pkey_asn1_meths(engine) != 1:
        raise BackendUnavailable(f"cannot register the GOST engine's key methods: {crypto.errors()}")
    new_hash, hash_via = _hash_factory(crypto, engine, shared)
    backend = OpenSSLGost(crypto=crypto, engine=engine, new_hash=new_hash, unsupported_curves=frozenset())
    backend.unsupported_curves = _unsupported(backend)
    _self_test(backend)
    backend.details = {
        "openssl": text,
        "libcrypto": lib_path + (" (shared with hashlib)" if shared else ""),
        "engine": engine_from,
        "streebog": hash_via,
        "self_test": "passed (Streebog M1; GOST R 34.10-2012 256/512 known answers)",
    }
    if backend.unsupported_curves:
        backend.details["curves_via_pure_python"] = ", ".join(sorted(backend.unsupported_curves))
    return backend


_lock = threading.Lock()
_state: OpenSSLGost | str | None = None  # the backend, or why it is unavailable


def load() -> OpenSSLGost:
    """Load the OpenSSL GOST backend once per process; raise :class:`BackendUnavailable` with the
    reason if it cannot be used (the reason is remembered, so later calls fail fast)."""
    global _state
    state = _state
    if state is None:
        with _lock:
            state = _state
            if state is None:
                try:
                    state = _load()
                except BackendUnavailable as exc:
                    state = str(exc)
                except (OSError, AttributeError) as exc:  # missing symbols, unloadable library
                    state = f"OpenSSL GOST backend unusable: {exc}"
                _state = state
    if isinstance(state, str):
        raise BackendUnavailable(state)
    return state
