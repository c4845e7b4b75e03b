"""Certificate revocation from configured CRLs (files, directories or HTTP URLs), with caching.

A CRL counts only once its signature has been checked with the issuing CA's key through the same
algorithm layer as everything else (GOST CRLs included). Parsed CRLs are kept in memory, indexed by
issuer; files are re-read when they change and URLs re-fetched when the CRL's nextUpdate has passed
or ``refresh_interval`` has elapsed, so the verification hot path only does dictionary look-ups.

OCSP is not implemented: REMD's own check accepts either OCSP or a CRL (see CA_INACCESSIBILITY).
Delta CRLs and issuingDistributionPoint scoping are not interpreted; a full CRL from the issuer is
expected.
"""

from __future__ import annotations

import enum
import hashlib
import os
import threading
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from asn1crypto import core, crl

from gateway.signatures import algorithms
from gateway.signatures._asn1 import algorithm_parameters_der, pem_blocks
from gateway.signatures.certificates import Certificate
from gateway.signatures.errors import InvalidSignature, UnsupportedAlgorithm

__all__ = [
    "Crl",
    "CrlStore",
    "RevocationState",
    "RevocationStatus",
    "load_crls",
]

MAX_CRL_BYTES = 64 * 1024 * 1024


class RevocationState(enum.StrEnum):
    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"  # no configured CRL covers the issuer
    UNAVAILABLE = "unavailable"  # a configured CRL source could not be read and none covers the issuer


@dataclass(frozen=True, slots=True)
class RevocationStatus:
    state: RevocationState
    revoked_at: datetime | None = None
    reason: str | None = None
    crl_this_update: datetime | None = None
    crl_next_update: datetime | None = None
    stale: bool = False  # the CRL used is past its nextUpdate


class Crl:
    """A parsed CRL: issuer, validity window and the revoked serials (signature not yet checked)."""

    __slots__ = (
        "aki",
        "der",
        "fingerprint",
        "issuer_der",
        "next_update",
        "revoked",
        "signature_algorithm_oid",
        "signature_parameters",
        "signature_value",
        "source",
        "tbs_der",
        "this_update",
    )

    def __init__(self, der: bytes, source: str = "") -> None:
        try:
            parsed = crl.CertificateList.load(der)
            tbs = parsed["tbs_cert_list"]
            self.issuer_der: bytes = tbs["issuer"].dump()
            self.this_update: datetime = tbs["this_update"].native
            nxt = tbs["next_update"]
            self.next_update: datetime | None = None if isinstance(nxt, core.Void) else nxt.native
            self.tbs_der: bytes = tbs.dump()
            alg = parsed["signature_algorithm"]
            self.signature_algorithm_oid: str = alg["algorithm"].dotted
            self.signature_parameters: bytes | None = algorithm_parameters_der(alg)
            self.signature_value: bytes = parsed["signature"].native
            aki = parsed.authority_key_identifier_value
            self.aki: bytes | None = None if aki is None else aki["key_identifier"].native
            revoked: dict[int, tuple[datetime, str | None]] = {}
            for entry in tbs["revoked_certificates"]:
                reason = entry.crl_reason_value
                revoked[entry["user_certificate"].native] = (
                    entry["revocation_date"].native,
                    None if reason is None else reason.native,
                )
            self.revoked = revoked
        except (ValueError, TypeError, KeyError) as exc:
            raise ValueError(f"not a CRL: {exc}") from exc
        self.der = der
        self.fingerprint = hashlib.sha256(der).digest()
        self.source = source

    def __repr__(self) -> str:
        return f"<Crl source={self.source!r} entries={len(self.revoked)} this_update={self.this_update}>"

    def signed_by(self, issuer: Certificate) -> bool:
        """Whether ``issuer``'s key verifies this CRL's signature (unsupported algorithm: False)."""
        try:
            key = issuer.public_key
            alg = algorithms.resolve_signature_algorithm(self.signature_algorithm_oid, self.signature_parameters, key)
            algorithms.verify_digest(key, alg, alg.digest.hash(self.tbs_der), self.signature_value)
        except (InvalidSignature, UnsupportedAlgorithm, ValueError):
            return False
        return True


def load_crls(data: bytes, source: str = "") -> list[Crl]:
    """CRLs in ``data`` (PEM "X509 CRL" blocks or one DER CRL). Raises ValueError when there are none."""
    blocks = pem_blocks(data)
    ders = [der for label, der in blocks if "CRL" in label] if blocks else [data]
    out = [Crl(der, source) for der in ders]
    if not out:
        raise ValueError("no CRL found")
    return out


def _http_get(url: str, timeout: float) -> bytes:
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an HTTP(S) URL: {url}")
    request = urllib.request.Request(url, headers={"User-Agent": "mse-gateway-crl/1"})  # noqa: S310 - scheme checked above
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked above
        body: bytes = response.read(MAX_CRL_BYTES + 1)
    if len(body) > MAX_CRL_BYTES:
        raise ValueError("CRL larger than the limit")
    return body


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


@dataclass(slots=True)
class _SourceState:
    crls: list[Crl]
    stamp: tuple[tuple[str, int, int], ...] | None = None  # (name, mtime_ns, size) of files
    fetched_at: float = 0.0
    error: str | None = None


class CrlStore:
    """CRLs from configured sources, refreshed lazily and looked up by issuer.

    ``sources`` are CRL files, directories of ``*.crl`` files, or http(s) URLs. A URL is fetched again
    after ``refresh_interval`` or once its CRL's nextUpdate has passed; after a failure, no sooner than
    ``retry_interval``. ``fetch`` replaces the HTTP client (tests, or a proxy-aware one). Thread-safe.
    """

    def __init__(
        self,
        sources: Iterable[str | os.PathLike[str]] = (),
        *,
        crls: Iterable[Crl] = (),
        refresh_interval: float = 3600.0,
        file_check_interval: float = 5.0,
        url_timeout: float = 10.0,
        retry_interval: float = 60.0,
        fetch: Callable[[str, float], bytes] | None = None,
    ) -> None:
        self._sources = [os.fspath(s) for s in sources]
        self._retry_interval = retry_interval
        self._static = list(crls)
        self._refresh_interval = refresh_interval
        self._file_check_interval = file_check_interval
        self._url_timeout = url_timeout
        self._fetch = fetch or _http_get
        self._state: dict[str, _SourceState] = {}
        self._lock = threading.Lock()
        self._next_check = 0.0
        self._index: dict[bytes, list[Crl]] = {}
        self._verified: dict[tuple[bytes, bytes], bool] = {}
        self.refresh(force=True)

    def __bool__(self) -> bool:
        return bool(self._sources or self._static)

    @property
    def errors(self) -> dict[str, str]:
        """Sources that could not be read at the last attempt, with the reason."""
        return {src: st.error for src, st in self._state.items() if st.error}

    def stale(self, now: datetime) -> dict[str, str]:
        """Configured sources that give no current CRL at ``now``: unreadable with no earlier copy,
        or whose newest CRL per issuer is past its nextUpdate (a refresh is attempted first).
        Maps source to the reason; the metric and the ``crl_stale`` alert count these."""
        self.refresh()
        out: dict[str, str] = {}
        with self._lock:
            for source in self._sources:
                st = self._state.get(source)
                if st is None or not st.crls:
                    out[source] = f"unreadable: {st.error if st is not None else 'not read yet'}"
                    continue
                newest: dict[bytes, Crl] = {}
                for c in st.crls:
                    if c.issuer_der not in newest or c.this_update > newest[c.issuer_der].this_update:
                        newest[c.issuer_der] = c
                past = [c for c in newest.values() if c.next_update is not None and c.next_update < now]
                if past:
                    when = min(c.next_update for c in past if c.next_update is not None)
                    out[source] = f"past nextUpdate {when.isoformat()}" + (
                        f"; refresh failed: {st.error}" if st.error else ""
                    )
        return out

    def add(self, crl_obj: Crl) -> None:
        with self._lock:
            self._static.append(crl_obj)
            self._rebuild_index()

    def refresh(self, *, force: bool = False) -> None:
        """Re-read changed files and expired URLs (all of them when ``force``)."""
        now_mono = time.monotonic()
        if not force and now_mono < self._next_check:
            return
        with self._lock:
            self._next_check = now_mono + self._file_check_interval
            changed = False
            for source in self._sources:
                changed |= self._refresh_source(source, force=force)
            if changed or force:
                self._rebuild_index()

    def _refresh_source(self, source: str, *, force: bool) -> bool:
        state = self._state.get(source)
        if _is_url(source):
            if state is not None and not force and not self._url_due(state):
                return False
            try:
                crls = load_crls(self._fetch(source, self._url_timeout), source)
            except (OSError, ValueError) as exc:
                if state is None:
                    self._state[source] = _SourceState([], error=str(exc), fetched_at=time.monotonic())
                else:  # keep serving the last good copy
                    state.error = str(exc)
                    state.fetched_at = time.monotonic()
                return state is None
            self._state[source] = _SourceState(crls, fetched_at=time.monotonic())
            return True
        path = Path(source)
        try:
            files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".crl") if path.is_dir() else [path]
            stamp = tuple((str(f), (st := f.stat()).st_mtime_ns, st.st_size) for f in files)
            if state is not None and state.stamp == stamp and not force:
                return False
            crls = []
            for f in files:
                crls.extend(load_crls(f.read_bytes(), str(f)))
        except (OSError, ValueError) as exc:
            self._state[source] = _SourceState([], error=str(exc))
            return True
        self._state[source] = _SourceState(crls, stamp=stamp)
        return True

    def _url_due(self, state: _SourceState) -> bool:
        age = time.monotonic() - state.fetched_at
        if age >= self._refresh_interval or (state.error is not None and age >= self._retry_interval):
            return True
        now = datetime.now(UTC)
        return any(c.next_update is not None and c.next_update < now for c in state.crls)

    def _rebuild_index(self) -> None:
        index: dict[bytes, list[Crl]] = defaultdict(list)
        for c in self._static:
            index[c.issuer_der].append(c)
        for st in self._state.values():
            for c in st.crls:
                index[c.issuer_der].append(c)
        self._index = dict(index)

    def _is_signed_by(self, crl_obj: Crl, issuer: Certificate) -> bool:
        key = (crl_obj.fingerprint, issuer.fingerprint)
        ok = self._verified.get(key)
        if ok is None:
            ok = crl_obj.signed_by(issuer)
            if len(self._verified) > 10_000:
                self._verified.clear()
            self._verified[key] = ok
        return ok

    def status(self, cert: Certificate, issuer: Certificate, *, now: datetime) -> RevocationStatus:
        """Revocation status of ``cert`` per the newest CRL of ``issuer`` whose signature verifies."""
        self.refresh()
        candidates = [
            c
            for c in self._index.get(cert.issuer_der, ())
            if (c.aki is None or issuer.ski is None or c.aki == issuer.ski) and self._is_signed_by(c, issuer)
        ]
        if not candidates:
            state = RevocationState.UNAVAILABLE if self.errors else RevocationState.UNKNOWN
            return RevocationStatus(state)
        newest = max(candidates, key=lambda c: c.this_update)
        stale = newest.next_update is not None and newest.next_update < now
        entry = newest.revoked.get(cert.serial)
        if entry is not None:
            return RevocationStatus(
                RevocationState.REVOKED, entry[0], entry[1], newest.this_update, newest.next_update, stale
            )
        return RevocationStatus(RevocationState.GOOD, None, None, newest.this_update, newest.next_update, stale)
