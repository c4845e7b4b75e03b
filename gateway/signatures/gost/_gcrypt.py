"""Streebog from the system libgcrypt, through ``ctypes``: the fallback's hash without the engine.

Why libgcrypt: without ``libengine-gost-openssl`` the only Streebog left was pure Python, which
hashes about 1 MB/s (a 50 KB document costs ~50 ms), while libgcrypt's Stribog (its name for
Streebog) runs at ~200 MB/s and is already on every Debian/Ubuntu machine (``libgcrypt20`` is a
dependency of apt and systemd). Why ``ctypes``: no maintained Python binding offers it (see
docs/architecture.md, "GOST crypto backends"), and five C functions do not justify a compiled
extension.

How it is used, and why so:

* ``gcry_check_version`` is the first call: libgcrypt requires it before any other function (it
  initialises the library and checks the version). We do not call ``GCRYCTL_DISABLE_SECMEM`` or
  ``GCRYCTL_INITIALIZATION_FINISHED``: those are process-wide decisions that belong to an
  application, and hashing with ``flags=0`` uses neither secure memory nor the random generator.
* Each hasher owns one ``gcry_md_hd_t``, closed by a finalizer when the Python object goes away.
  ``digest()`` reads a *copy* of the handle (``gcry_md_read`` finalises a handle), so the hasher
  stays usable, as ``hashlib`` objects do.
* Thread safety: libgcrypt (>= 1.6) is thread-safe for separate handles; one handle must not be
  used from two threads at once, so each hasher serialises its own calls with a lock. ``ctypes``
  releases the GIL during the foreign calls, so hashing in threads overlaps.
* A self-test at load time (the standard's M1 and M2, the empty message, a checksum-carry message,
  split updates and ``copy()``) must pass, or the library is not used and the reason is kept.
* ``GATEWAY_GCRYPT_LIBRARY`` names the library to load instead of the default (a soname or a path);
  set it to a name that does not exist to run as if libgcrypt were missing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any, Final

from gateway.signatures.gost._procmaps import mapped_path
from gateway.signatures.gost.errors import BackendUnavailable

__all__ = ["ENV_LIBRARY", "Gcrypt", "GcryptStreebog", "load", "open_library"]

ENV_LIBRARY: Final = "GATEWAY_GCRYPT_LIBRARY"
DEFAULT_LIBRARY: Final = "libgcrypt.so.20"
# Stribog arrived in libgcrypt 1.6.0; the self-test, not the version, decides whether it is right.
MIN_VERSION: Final = "1.6.0"
_ALGOS: Final = {256: 309, 512: 310}  # GCRY_MD_STRIBOG256 / GCRY_MD_STRIBOG512 (gcrypt.h)

_vp = ctypes.c_void_p

# (name, message, Streebog-256, Streebog-512), digests in OpenSSL byte order (the standard's
# strings reversed). M1 and M2: GOST R 34.11-2012 appendix A. The carry message makes the 512-bit
# checksum addition carry across words, a known bug in some implementations (PyGOST's tests).
_VECTORS: Final = (
    (
        "empty message",
        b"",
        "3f539a213e97c802cc229d474c6aa32a825a360b2a933a949fd925208d9ce1bb",
        "8e945da209aa869f0455928529bcae4679e9873ab707b55315f56ceb98bef0a7"
        "362f715528356ee83cda5f2aac4c6ad2ba3a715c1bcd81cb8e9f90bf4c1c1a8a",
    ),
    (
        "M1 example",
        b"012345678901234567890123456789012345678901234567890123456789012",
        "9d151eefd8590b89daa6ba6cb74af9275dd051026bb149a452fd84e5e57b5500",
        "1b54d01a4af5b9d5cc3d86d68d285462b19abc2475222f35c085122be4ba1ffa"
        "00ad30f8767b3a82384c6574f024c311e2a481332b08ef7f41797891c1646f48",
    ),
    (
        "M2 example",
        bytes.fromhex(
            "d1e520e2e5f2f0e82c20d1f2f0e8e1eee6e820e2edf3f6e82c20e2e5fef2fa20f120eceef0ff20f1f2f0e5ebe0"
            "ece820ede020f5f0e0e1f0fbff20efebfaeafb20c8e3eef0e5e2fb"
        ),
        "9dd2fe4e90409e5da87f53976d7405b0c0cac628fc669a741d50063c557e8f50",
        "1e88e62226bfca6f9994f1f2d51569e0daf8475a3b0fe61a5300eee46d961376"
        "035fe83549ada2b8620fcd7c496ce5b33f0cb9dddc2b6460143b03dabac9fb28",
    ),
    (
        "checksum-carry message",
        bytes.fromhex(
            "d0cf11e0a1b11ae1000000000000000000000000000000003e000300feff09000600000000000000000000000100"
            "00000100000000000000001000002400000001000000feffffff0000000000000000" + "ff" * 64
        ),
        "c766085540caaa8953bfcf7a1ba220619cee50d65dc242f82f23ba4b180b18e0",
        None,
    ),
)


class _Lib:
    """The libgcrypt functions we call, with their C signatures declared (gcrypt.h)."""

    def __init__(self, cdll: ctypes.CDLL) -> None:
        def fn(name: str, restype: Any, *argtypes: Any) -> Any:
            func = getattr(cdll, name)
            func.restype = restype
            func.argtypes = list(argtypes)
            return func

        err = ctypes.c_uint  # gcry_error_t
        self.cdll = cdll
        self.check_version = fn("gcry_check_version", ctypes.c_char_p, ctypes.c_char_p)
        self.strerror = fn("gcry_strerror", ctypes.c_char_p, err)
        self.md_open = fn("gcry_md_open", err, ctypes.POINTER(_vp), ctypes.c_int, ctypes.c_uint)
        self.md_copy = fn("gcry_md_copy", err, ctypes.POINTER(_vp), _vp)
        self.md_write = fn("gcry_md_write", None, _vp, ctypes.c_char_p, ctypes.c_size_t)
        self.md_read = fn("gcry_md_read", ctypes.POINTER(ctypes.c_char), _vp, ctypes.c_int)
        self.md_close = fn("gcry_md_close", None, _vp)

    def error(self, code: int) -> str:
        return bytes(self.strerror(code) or b"unknown error").decode("utf-8", "replace")


class GcryptStreebog:
    """Incremental Streebog-256/512 on one libgcrypt handle, with the ``hashlib`` interface."""

    block_size = 64
    __slots__ = ("__weakref__", "_algo", "_hd", "_lib", "_lock", "digest_size", "name")

    def __init__(self, lib: _Lib, bits: int, data: bytes = b"", *, _copy_of: int | None = None) -> None:
        if bits not in _ALGOS:
            raise ValueError(f"Streebog has 256- and 512-bit variants, not {bits}")
        hd = _vp()
        if _copy_of is None:
            code = lib.md_open(ctypes.byref(hd), _ALGOS[bits], 0)
        else:
            code = lib.md_copy(ctypes.byref(hd), _copy_of)
        if code or not hd.value:
            raise RuntimeError(f"libgcrypt cannot start Streebog-{bits}: {lib.error(code)}")
        # The finalizer holds the library's function, not the object: it runs when the hasher is
        # collected (or at interpreter exit), exactly once.
        weakref.finalize(self, lib.md_close, hd.value)
        self._lib = lib
        self._hd: int = hd.value
        self._algo = _ALGOS[bits]
        self._lock = threading.Lock()
        self.digest_size = bits // 8
        self.name = f"streebog{bits}"
        if data:
            self.update(data)

    def update(self, data: bytes | bytearray | memoryview, /) -> None:
        raw = data if isinstance(data, bytes) else bytes(data)
        with self._lock:
            self._lib.md_write(self._hd, raw, len(raw))

    def digest(self) -> bytes:
        """The digest of everything so far; reads a copy, so the hasher can go on."""
        lib = self._lib
        tmp = _vp()
        with self._lock:
            code = lib.md_copy(ctypes.byref(tmp), self._hd)
        if code or not tmp.value:
            raise RuntimeError(f"gcry_md_copy failed: {lib.error(code)}")
        try:
            out = lib.md_read(tmp, self._algo)
            if not out:
                raise RuntimeError("gcry_md_read returned no digest")
            return ctypes.string_at(out, self.digest_size)
        finally:
            lib.md_close(tmp)

    def hexdigest(self) -> str:
        return self.digest().hex()

    def copy(self) -> GcryptStreebog:
        with self._lock:
            return GcryptStreebog(self._lib, self.digest_size * 8, _copy_of=self._hd)


@dataclass(frozen=True)
class Gcrypt:
    """A loaded and self-tested libgcrypt: the factory for its Streebog hashers."""

    lib: _Lib
    version: str
    details: dict[str, str] = field(default_factory=dict)

    def new_hash(self, bits: int) -> GcryptStreebog:
        return GcryptStreebog(self.lib, bits)


def _self_test(lib: _Lib, version: str) -> None:
    """Every vector in one piece, and again in three pieces through ``copy()``."""
    for name, message, *digests in _VECTORS:
        for bits, want_hex in zip((256, 512), digests, strict=True):
            if want_hex is None:
                continue
            want = bytes.fromhex(want_hex)
            whole = GcryptStreebog(lib, bits, message).digest()
            cut = len(message) // 3
            first = GcryptStreebog(lib, bits, message[:cut])
            forked = first.copy()
            forked.update(message[cut : 2 * cut])
            forked.update(message[2 * cut :])
            if whole != want or forked.digest() != want or first.digest() != first.copy().digest():
                raise BackendUnavailable(f"libgcrypt {version} Stribog-{bits} fails the self-test ({name})")


def _candidates() -> list[str]:
    explicit = os.environ.get(ENV_LIBRARY, "").strip()
    if explicit:
        return [explicit]  # an explicit choice is obeyed strictly: no quiet substitute
    names = [DEFAULT_LIBRARY]
    found = ctypes.util.find_library("gcrypt")
    if found and found not in names:
        names.append(found)
    return names


def open_library(name: str | None = None) -> Gcrypt:
    """Load libgcrypt (``name``, else ``GATEWAY_GCRYPT_LIBRARY``, else the default soname and
    ``find_library``), check its version and self-test its Streebog. Not cached: see :func:`load`.

    Raises :class:`BackendUnavailable` saying why it cannot be used.
    """
    tried = []
    cdll, loaded = None, ""
    for candidate in [name] if name else _candidates():
        try:
            cdll, loaded = ctypes.CDLL(candidate), candidate
            break
        except OSError as exc:
            tried.append(f"{candidate}: {exc}")
    if cdll is None:
        raise BackendUnavailable("libgcrypt not loadable (" + "; ".join(tried) + ")")
    try:
        lib = _Lib(cdll)
    except AttributeError as exc:
        raise BackendUnavailable(f"{loaded} is not a usable libgcrypt: {exc}") from None
    found = lib.check_version(MIN_VERSION.encode())  # must be the first call into libgcrypt
    if not found:
        have = bytes(lib.check_version(None) or b"?").decode("ascii", "replace")
        raise BackendUnavailable(f"libgcrypt {have} is older than {MIN_VERSION} (no Stribog)")
    version = found.decode("ascii", "replace")
    try:
        _self_test(lib, version)
    except BackendUnavailable:
        raise
    except RuntimeError as exc:  # gcry_md_open refused (e.g. FIPS mode forbids Stribog)
        raise BackendUnavailable(f"libgcrypt {version}: {exc}") from None
    path = mapped_path("libgcrypt")
    return Gcrypt(
        lib=lib,
        version=version,
        details={
            "libgcrypt": f"{version} ({path})",
            "libgcrypt_self_test": "passed (GOST R 34.11-2012 M1, M2, empty and carry messages; split updates, copy)",
        },
    )


_lock = threading.Lock()
_state: Gcrypt | str | None = None  # the library, or why it is unavailable


def load() -> Gcrypt:
    """Load libgcrypt once per process; raise :class:`BackendUnavailable` with the reason if it
    cannot be used (the reason is remembered, so later calls fail fast)."""
    global _state
    state = _state
    if state is None:
        with _lock:
            state = _state
            if state is None:
                try:
                    state = open_library()
                except BackendUnavailable as exc:
                    state = str(exc)
                _state = state
    if isinstance(state, str):
        raise BackendUnavailable(state)
    return state
