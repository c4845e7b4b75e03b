"""Who may call a peer instance's endpoints (callbacks, files served to the peer).

Per instance (``[peers.<name>.auth]``), any combination of:

- ``allow_addresses``: the caller's address must be in one of these networks;
- ``client_cert_fingerprints`` with ``client_cert_header``: mutual TLS terminated by a reverse
  proxy the operator trusts (``trusted_proxies``), which passes the client certificate's SHA-256
  fingerprint in that header; the header is believed only from a trusted proxy;
- ``signer_certificates``: the message must carry an XMLDSig signature over its SOAP Body by one
  of these pinned certificates.

Every configured method must pass. An instance with none configured is unauthenticated: the app
logs it at start, and ``serve`` outside the sandbox refuses to start unless the instance says
``allow_unauthenticated = true``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web
from lxml import etree
from pydantic import BaseModel, ConfigDict, field_validator

from gateway.errors import ConfigError
from gateway.signatures.certificates import Certificate, load_certificates
from gateway.signatures.xml.soap_body import verify_soap_body

__all__ = ["PeerAuthSettings", "PeerGuard", "Refusal"]

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class PeerAuthSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    allow_addresses: list[str] = []
    trusted_proxies: list[str] = []
    client_cert_header: str = ""
    client_cert_fingerprints: list[str] = []
    signer_certificates: list[str] = []
    allow_unauthenticated: bool = False

    @field_validator("allow_addresses", "trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)  # ValueError names the bad entry
        return value

    @property
    def configured(self) -> bool:
        return bool(self.allow_addresses or self.client_cert_fingerprints or self.signer_certificates)


@dataclass(frozen=True, slots=True)
class Refusal:
    code: str  # PEER_ADDRESS_NOT_ALLOWED, PEER_CERTIFICATE_UNKNOWN, PEER_SIGNATURE_INVALID
    reason: str


def _networks(items: Sequence[str]) -> tuple[_Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in items)


def _fingerprint(value: str) -> str:
    text = value.strip().lower().removeprefix("sha256:").replace(":", "")
    return text


class PeerGuard:
    """The checks of one instance, built once at start (certificates read then)."""

    def __init__(self, name: str, settings: PeerAuthSettings) -> None:
        self.name = name
        self.settings = settings
        self.allowed: tuple[_Network, ...] = tuple(
            ipaddress.ip_network(a, strict=False) for a in settings.allow_addresses
        )
        self.proxies: tuple[_Network, ...] = tuple(
            ipaddress.ip_network(a, strict=False) for a in settings.trusted_proxies
        )
        self.fingerprints = frozenset(_fingerprint(f) for f in settings.client_cert_fingerprints)
        if self.fingerprints and not (settings.client_cert_header and self.proxies):
            raise ConfigError(
                f"peers.{name}.auth.client_cert_fingerprints needs client_cert_header and trusted_proxies "
                "(the proxy that terminates TLS and passes the fingerprint)"
            )
        self.pinned: tuple[Certificate, ...] = tuple(self._load(path) for path in settings.signer_certificates)

    def _load(self, path: str) -> Certificate:
        try:
            certs = load_certificates(Path(path).read_bytes())
        except OSError as exc:
            raise ConfigError(
                f"peers.{self.name}.auth.signer_certificates: cannot read {path}: {exc.strerror}"
            ) from None
        except ValueError as exc:
            raise ConfigError(
                f"peers.{self.name}.auth.signer_certificates: {path} is not a certificate: {exc}"
            ) from None
        if len(certs) != 1:
            raise ConfigError(
                f"peers.{self.name}.auth.signer_certificates: {path} holds {len(certs)} certificates, not 1"
            )
        return certs[0]

    @property
    def unauthenticated(self) -> bool:
        return not self.settings.configured

    def _client_address(self, request: web.Request) -> str | None:
        """The direct peer's address; behind a trusted proxy, the last address it forwarded."""
        remote = request.remote
        if remote and self.proxies and self._in(remote, self.proxies):
            forwarded = request.headers.get("X-Forwarded-For", "")
            hops = [h.strip() for h in forwarded.split(",") if h.strip()]
            if hops:
                return hops[-1]
        return remote

    @staticmethod
    def _in(address: str, networks: Sequence[_Network]) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in networks)

    def check_request(self, request: web.Request) -> Refusal | None:
        """Address and client certificate: checked before the body is read or parsed."""
        if self.allowed:
            address = self._client_address(request)
            if address is None or not self._in(address, self.allowed):
                return Refusal("PEER_ADDRESS_NOT_ALLOWED", f"address {address} is not allowed for peer {self.name}")
        if self.fingerprints:
            if not (request.remote and self._in(request.remote, self.proxies)):
                return Refusal("PEER_CERTIFICATE_UNKNOWN", "client certificate header from an untrusted proxy")
            presented = _fingerprint(request.headers.get(self.settings.client_cert_header, ""))
            if presented not in self.fingerprints:
                return Refusal("PEER_CERTIFICATE_UNKNOWN", f"client certificate is not pinned for peer {self.name}")
        return None

    def check_message(self, root: etree._Element) -> Refusal | None:
        """The peer's signature over the SOAP Body, when certificates are pinned."""
        if not self.pinned:
            return None
        why = verify_soap_body(root, self.pinned)
        return None if why is None else Refusal("PEER_SIGNATURE_INVALID", why)
