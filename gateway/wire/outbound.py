"""Which URLs the gateway may call back: the outbound allowlist (SSRF defence).

A submission's ``callback_url`` (REST) and the ``wsa:ReplyTo`` of a registerDocumentRequest (REMD
SOAP front door) are addresses chosen by the sender. Without a rule, anyone holding a client token
could make the gateway POST to its own loopback services, to the metadata service of the cloud it
runs in, or to any host of the internal network. The rule, applied twice:

* **at intake** (:meth:`CallbackPolicy.check_intake`), answered with a coded 422
  (``CALLBACK_NOT_ALLOWED``): the scheme is http or https; the host is one the client registered
  (``clients add --callback-host``) or one of the global ``[security] callback_hosts``; a host
  written as an IP address must not be private, loopback, link-local, multicast, reserved or
  unspecified unless ``[security] allow_private_callbacks`` is true. Names are not resolved here:
  an answer at intake proves nothing about the address used days later (DNS rebinding), and
  accepting a durable document must not depend on the receiver's DNS.
* **at send time**: the notifier checks the URL again (a client's hosts may have been removed
  since) and its HTTP session resolves names through :class:`GuardedResolver`, which refuses the
  whole answer when any resolved address is forbidden. The connector connects only to addresses
  this resolver returned, so the check and the connection use the same resolution — a name that
  answered a public address at intake and 127.0.0.1 now is refused now.

Host patterns: an exact name or address (case-insensitive, trailing dot ignored), ``*.example.org``
for any name under example.org (not example.org itself), or ``*`` for any host — the latter an
explicit opt-out meant for the sandbox, whose vendors test from wherever they are.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from gateway.errors import GatewayError
from gateway.model import ErrorCode

__all__ = [
    "CallbackNotAllowed",
    "CallbackPolicy",
    "GuardedResolver",
    "forbidden_address_reason",
    "host_matches",
    "normalise_host",
]

SCHEMES: Final = frozenset({"http", "https"})


class CallbackNotAllowed(GatewayError):
    """A callback address the outbound allowlist refuses."""

    code = ErrorCode.CALLBACK_NOT_ALLOWED
    http_status = 422


def normalise_host(host: str) -> str:
    """Lower-case, no trailing dot, IPv6 without brackets: the form patterns are compared in."""
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host


def host_matches(host: str, patterns: Iterable[str]) -> bool:
    host = normalise_host(host)
    for raw in patterns:
        pattern = normalise_host(raw)
        if pattern == "*" or pattern == host:
            return True
        if pattern.startswith("*.") and host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
            return True
    return False


def forbidden_address_reason(address: str) -> str | None:
    """Why ``address`` (an IP literal) may not be called without ``allow_private_callbacks``,
    or None when it is a public unicast address. IPv4-mapped IPv6 (::ffff:127.0.0.1) is judged
    by the IPv4 address it carries, since that is where the packets go."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    checks = (
        ("loopback", ip.is_loopback),
        ("unspecified", ip.is_unspecified),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("not globally routable", not ip.is_global),
    )
    return next((name for name, hit in checks if hit), None)


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class CallbackPolicy:
    """The allowlist from ``[security]``; a client's own registered hosts are passed per call."""

    global_hosts: tuple[str, ...] = ()
    allow_private: bool = False

    def refusal(self, url: str, client_hosts: Sequence[str] = ()) -> str | None:
        """Why ``url`` may not be called for a client registered with ``client_hosts``, or None."""
        try:
            parts = urlsplit(url)
            host = parts.hostname or ""
            parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
        except ValueError as exc:
            return f"not a valid URL: {exc}"
        if parts.scheme.lower() not in SCHEMES:
            return f"scheme {parts.scheme or '(none)'!r} is not allowed: http or https only"
        if not host:
            return "the URL has no host"
        host = normalise_host(host)
        if not host_matches(host, (*client_hosts, *self.global_hosts)):
            return f"host {host!r} is not among the client's registered callback hosts nor [security] callback_hosts"
        if host == "localhost" or host.endswith(".localhost"):
            reason: str | None = "loopback"  # RFC 6761: always the local machine
        else:
            reason = forbidden_address_reason(host) if _is_ip_literal(host) else None
        if reason is not None and not self.allow_private:
            return f"host {host!r} is a {reason} address ([security] allow_private_callbacks is false)"
        return None

    def check_intake(self, url: str | None, client_hosts: Sequence[str] = (), *, field: str) -> None:
        """Raise CallbackNotAllowed (422) when ``url`` is given and may not be called."""
        if url is None:
            return
        reason = self.refusal(url, client_hosts)
        if reason is not None:
            raise CallbackNotAllowed(
                f"callback address refused: {reason}",
                details={"errors": [{"field": field, "message": reason}]},
            )


class AddressRefused(OSError):
    """A name resolved to an address the policy forbids (raised inside aiohttp's connector).

    Built as OSError(EACCES, message): aiohttp's connection error shows only ``strerror``, so the
    reason reaches the notice's ``last_error`` (and the operators) whatever the channel."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.EACCES, message)


class GuardedResolver(AbstractResolver):
    """aiohttp resolver that refuses forbidden addresses. Every resolved address must pass, not
    only the first: the connector would try the next one when the first fails."""

    def __init__(self, *, allow_private: bool, inner: AbstractResolver | None = None) -> None:
        self.allow_private = allow_private
        self._inner = inner or DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        if not self.allow_private:
            for result in results:
                reason = forbidden_address_reason(result["host"])
                if reason is not None:
                    raise AddressRefused(f"callback host {host!r} resolves to {result['host']}, a {reason} address")
        return results

    async def close(self) -> None:
        await self._inner.close()
