"""The address of the client behind a request, trusting X-Forwarded-For only from configured proxies.

``request.remote`` is the direct peer: behind a reverse proxy that is the proxy, the same for every
user (issue 14 finding 9: 20 failed logins from one address locked out everyone behind the proxy,
and /metrics, open to loopback, was open to anyone the local proxy relayed). With
``[server] trusted_proxies`` the client is the right-most X-Forwarded-For address that is not a
trusted proxy itself (the left part of the header is whatever the client wrote, so it is never
believed). A header from a peer that is not a trusted proxy is ignored.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from functools import lru_cache

from aiohttp import web

from gateway.appkeys import CONFIG_KEY

__all__ = ["FORWARDING_HEADERS", "client_address", "via_proxy"]

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


@lru_cache(maxsize=16)
def _networks(configured: tuple[str, ...]) -> tuple[_Network, ...]:
    return tuple(ipaddress.ip_network(n, strict=False) for n in configured)


def _trusted(address: str, networks: Sequence[_Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in n for n in networks)


def _proxies(request: web.Request) -> tuple[_Network, ...]:
    config = request.config_dict.get(CONFIG_KEY)
    return _networks(tuple(config.server.trusted_proxies)) if config is not None else ()


def client_address(request: web.Request) -> str | None:
    """The client's address: the direct peer, or through trusted proxies the X-Forwarded-For hop."""
    peer = request.remote
    networks = _proxies(request)
    if peer is None or not networks or not _trusted(peer, networks):
        return peer
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return None  # garbage where an address should be: no address rather than a forged one
    return hops[0] if hops else peer


def via_proxy(request: web.Request) -> bool:
    """Whether the request was relayed: it carries a forwarding header, or its peer is a trusted
    proxy. A loopback peer relaying for someone else is not a local client."""
    if any(h in request.headers for h in FORWARDING_HEADERS):
        return True
    peer = request.remote
    networks = _proxies(request)
    return peer is not None and bool(networks) and _trusted(peer, networks)
