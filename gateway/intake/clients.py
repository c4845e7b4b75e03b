"""API clients: the MIS and regional GIS allowed to hand documents to the gateway.

Each client has a bearer token (shown once, stored as SHA-256), the set of organisation OIDs it may
submit for (a regional GIS relays for many), optionally the REMD ``clientEntityId`` it uses on the
SOAP front door, the hosts it may name as callback addresses (gateway.wire.outbound), and a key for
signing outcome notices (HMAC-SHA256).

Token checks read the journal on every request, with no cache: a revocation (``clients revoke``,
from any process) is effective for the next request of every process. The indexed lookup costs
about 0.7 ms on SQLite and on PostgreSQL (measured, docs/security.md), small beside the rest of a
request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from gateway.common.clock import Clock, SystemClock
from gateway.common.secrets import DeploymentSecret
from gateway.errors import GatewayError, NotFound
from gateway.journal.codec import BodyCodec
from gateway.journal.engine import READ_ONLY
from gateway.journal.schema import clients
from gateway.model import ErrorCode
from gateway.wire.outbound import normalise_host

__all__ = ["TOKEN_PREFIX", "Client", "ClientExists", "ClientRegistry", "sign_notice"]

TOKEN_PREFIX = "msegw_"  # noqa: S105 - a prefix that makes leaked tokens greppable, not a secret


class ClientExists(GatewayError):
    code = ErrorCode.DUPLICATE_CONFLICT
    http_status = 409


@dataclass(frozen=True, slots=True)
class Client:
    id: str
    source_system: str
    organization_oids: tuple[str, ...]
    soap_client_entity_id: str | None
    created_at: datetime
    revoked_at: datetime | None
    callback_hosts: tuple[str, ...] = ()

    def may_submit_for(self, organization_oid: str) -> bool:
        return "*" in self.organization_oids or organization_oid in self.organization_oids


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def sign_notice(key: bytes, timestamp: str, body: bytes) -> str:
    """The value of ``X-MSE-Signature``: ``sha256=<hex HMAC of "<timestamp>.<body>">``. The
    timestamp is inside the MAC so a captured notice cannot be replayed later as new."""
    mac = hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={mac}"


def _hosts(hosts: Iterable[str]) -> list[str] | None:
    cleaned = sorted({normalise_host(h) for h in hosts if h.strip()})
    return cleaned or None


def _row(r: sa.Row[Any]) -> Client:
    m = r._mapping
    return Client(
        id=m["id"],
        source_system=m["source_system"],
        organization_oids=tuple(m["organization_oids"]),
        soap_client_entity_id=m["soap_client_entity_id"],
        created_at=m["created_at"],
        revoked_at=m["revoked_at"],
        callback_hosts=tuple(m["callback_hosts"] or ()),
    )


class ClientRegistry:
    def __init__(
        self,
        engine: AsyncEngine,
        secret: DeploymentSecret,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.engine = engine
        self.clock: Clock = clock or SystemClock()
        self._codec = BodyCodec(secret.derive("client-keys"))

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncConnection]:
        # Read-only: on SQLite a plain connect() would BEGIN IMMEDIATE, taking the write lock (and
        # waiting for the writer of the moment) for every request's token look-up.
        async with self.engine.connect() as conn:
            yield await conn.execution_options(**{READ_ONLY: True})

    async def add(
        self,
        source_system: str,
        organization_oids: Iterable[str],
        *,
        soap_client_entity_id: str | None = None,
        token: str | None = None,
        callback_hosts: Iterable[str] = (),
    ) -> tuple[Client, str]:
        """Create a client; returns it with its token (the only time the token is visible)."""
        token = token or TOKEN_PREFIX + secrets.token_urlsafe(32)
        cid = str(uuid.uuid4())
        try:
            async with self.engine.begin() as conn:
                await conn.execute(
                    clients.insert().values(
                        id=cid,
                        source_system=source_system,
                        token_sha256=_token_digest(token),
                        organization_oids=sorted(set(organization_oids)),
                        soap_client_entity_id=soap_client_entity_id,
                        callback_key=self._codec.seal(secrets.token_bytes(32), bind=cid),
                        created_at=self.clock.now(),
                        callback_hosts=_hosts(callback_hosts),
                    )
                )
        except IntegrityError:
            raise ClientExists(f"a client named {source_system!r} (or with that entity id) exists") from None
        return await self.get(source_system), token

    async def get(self, source_system: str) -> Client:
        async with self._reading() as conn:
            row = (await conn.execute(sa.select(clients).where(clients.c.source_system == source_system))).first()
        if row is None:
            raise NotFound(f"no client {source_system!r}")
        return _row(row)

    async def authenticate(self, token: str) -> Client | None:
        """The active client holding ``token``, or None. Comparison is on a digest looked up by
        index, so timing reveals nothing about the token."""
        if not token.startswith(TOKEN_PREFIX):
            return None
        digest = _token_digest(token)
        async with self._reading() as conn:
            row = (
                await conn.execute(
                    sa.select(clients).where(clients.c.token_sha256 == digest, clients.c.revoked_at.is_(None))
                )
            ).first()
        return None if row is None else _row(row)

    async def by_id(self, client_id: str) -> Client | None:
        async with self._reading() as conn:
            row = (await conn.execute(sa.select(clients).where(clients.c.id == client_id))).first()
        return None if row is None else _row(row)

    async def set_callback_hosts(self, source_system: str, hosts: Iterable[str]) -> Client:
        """Replace a client's registered callback hosts (effective for the next intake and send)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                clients.update().where(clients.c.source_system == source_system).values(callback_hosts=_hosts(hosts))
            )
        if result.rowcount != 1:
            raise NotFound(f"no client {source_system!r}")
        return await self.get(source_system)

    async def by_entity_id(self, entity_id: str) -> Client | None:
        async with self._reading() as conn:
            row = (
                await conn.execute(
                    sa.select(clients).where(
                        clients.c.soap_client_entity_id == entity_id, clients.c.revoked_at.is_(None)
                    )
                )
            ).first()
        return _row(row) if row else None

    async def list(self) -> list[Client]:
        async with self._reading() as conn:
            rows = (await conn.execute(sa.select(clients).order_by(clients.c.source_system))).all()
        return [_row(r) for r in rows]

    async def revoke(self, source_system: str) -> Client:
        async with self.engine.begin() as conn:
            result = await conn.execute(
                clients.update()
                .where(clients.c.source_system == source_system, clients.c.revoked_at.is_(None))
                .values(revoked_at=self.clock.now())
            )
        if result.rowcount != 1:
            raise NotFound(f"no active client {source_system!r}")
        return await self.get(source_system)

    async def rotate(self, source_system: str, *, token: str | None = None) -> str:
        """Give a client a new token (the old one stops working at once) and reactivate it."""
        token = token or TOKEN_PREFIX + secrets.token_urlsafe(32)
        async with self.engine.begin() as conn:
            result = await conn.execute(
                clients.update()
                .where(clients.c.source_system == source_system)
                .values(token_sha256=_token_digest(token), revoked_at=None)
            )
        if result.rowcount != 1:
            raise NotFound(f"no client {source_system!r}")
        return token

    async def callback_key(self, client_id: str) -> bytes:
        async with self._reading() as conn:
            sealed = (
                await conn.execute(sa.select(clients.c.callback_key).where(clients.c.id == client_id))
            ).scalar_one()
        return self._codec.open(sealed, bind=client_id)
