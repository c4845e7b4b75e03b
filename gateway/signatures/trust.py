"""Trust anchors: the accredited CAs' certificates the gateway accepts as chain ends.

A trust directory holds CA certificates (PEM, DER or PKCS#7 bundles; any file name). Every
certificate in it is an anchor, as with ``openssl -CApath``: in Russia the "accredited CA" list is a
list of CA certificates, not of roots. Loading is cached per directory and reloaded only when a file
in it changes, so the hot path never re-parses anchors.
"""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from gateway.signatures.certificates import Certificate, load_certificates

__all__ = ["TrustStore", "load_trust_directory"]


class TrustStore:
    """Anchors plus a pool of intermediate CA certificates that may complete a path.

    Intermediates are not trusted by themselves: they only help build a path that ends at an anchor
    (typical when a CMS omits the CA certificates).
    """

    def __init__(self, anchors: Iterable[Certificate] = (), intermediates: Iterable[Certificate] = ()) -> None:
        self.anchors: tuple[Certificate, ...] = tuple(dict.fromkeys(anchors))
        anchor_set = set(self.anchors)
        self.intermediates: tuple[Certificate, ...] = tuple(
            c for c in dict.fromkeys(intermediates) if c not in anchor_set
        )
        self._anchor_prints = frozenset(c.fingerprint for c in self.anchors)
        by_subject: dict[bytes, list[Certificate]] = defaultdict(list)
        for cert in self.anchors + self.intermediates:
            by_subject[cert.subject_der].append(cert)
        self._by_subject = dict(by_subject)

    def __bool__(self) -> bool:
        return bool(self.anchors)

    def __repr__(self) -> str:
        return f"<TrustStore anchors={len(self.anchors)} intermediates={len(self.intermediates)}>"

    def is_anchor(self, cert: Certificate) -> bool:
        return cert.fingerprint in self._anchor_prints

    def by_subject(self, subject_der: bytes) -> list[Certificate]:
        """Known certificates (anchors first) whose subject is exactly ``subject_der``."""
        return self._by_subject.get(subject_der, [])

    def with_anchors(self, extra: Iterable[Certificate]) -> TrustStore:
        return TrustStore(self.anchors + tuple(extra), self.intermediates)


_SUFFIXES = {".pem", ".crt", ".cer", ".der", ".p7b", ".p7c"}
_cache: dict[Path, tuple[tuple[tuple[str, int, int], ...], TrustStore]] = {}
_cache_lock = threading.Lock()


def _snapshot(directory: Path) -> tuple[tuple[str, int, int], ...]:
    entries = []
    with os.scandir(directory) as it:
        for entry in it:
            if entry.is_file() and Path(entry.name).suffix.lower() in _SUFFIXES:
                st = entry.stat()
                entries.append((entry.name, st.st_mtime_ns, st.st_size))
    return tuple(sorted(entries))


def load_trust_directory(directory: str | os.PathLike[str]) -> TrustStore:
    """A TrustStore of every certificate in ``directory`` (cached until a file there changes).

    Files that hold no certificate are skipped. Raises FileNotFoundError/NotADirectoryError for a
    missing directory.
    """
    path = Path(directory).resolve()
    snapshot = _snapshot(path)
    with _cache_lock:
        cached = _cache.get(path)
        if cached is not None and cached[0] == snapshot:
            return cached[1]
    anchors: list[Certificate] = []
    for name, _mtime, _size in snapshot:
        try:
            anchors.extend(load_certificates((path / name).read_bytes()))
        except (ValueError, OSError):
            continue
    store = TrustStore(anchors)
    with _cache_lock:
        _cache[path] = (snapshot, store)
    return store
