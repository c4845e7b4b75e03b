"""Tokens of the operator API (``/api/v1/operator/...``): apart from the MIS clients' tokens, each
with a role — a ``reader`` may list, an ``operator`` may also act. Issued and revoked with
``mse-gateway ops tokens``; the database keeps only the token's SHA-256 (a 256-bit random value
needs no slow hash: there is no dictionary to try)."""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.common.clock import Clock, SystemClock
from gateway.ui.schema import operator_tokens

__all__ = ["OperatorToken", "OperatorTokenStore", "TokenExists", "TokenRole"]

_T = operator_tokens.c


class TokenRole(enum.StrEnum):
    READER = "reader"  # lists and previews
    OPERATOR = "operator"  # also resend, resolve, cancel


class TokenExists(Exception):
    pass


@dataclass(frozen=True, slots=True)
class OperatorToken:
    name: str
    role: TokenRole

    @property
    def may_act(self) -> bool:
        return self.role is TokenRole.OPERATOR

    @property
    def actor(self) -> str:
        """The name the audit trail records for this token's actions."""
        return f"api:{self.name}"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class OperatorTokenStore:
    def __init__(self, engine: AsyncEngine, *, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock: Clock = clock or SystemClock()

    async def add(self, name: str, role: TokenRole) -> str:
        """Issue a token (shown once: only its digest is kept)."""
        token = secrets.token_urlsafe(32)
        try:
            async with self.engine.begin() as conn:
                await conn.execute(
                    operator_tokens.insert().values(
                        name=name, role=str(role), token_sha256=_digest(token), created_at=self.clock.now()
                    )
                )
        except IntegrityError:
            raise TokenExists(f"an operator token named {name!r} exists") from None
        return token

    async def revoke(self, name: str) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(
                operator_tokens.update()
                .where(_T.name == name, _T.revoked_at.is_(None))
                .values(revoked_at=self.clock.now())
            )
        return int(result.rowcount) == 1

    async def list(self) -> list[dict[str, object]]:
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(sa.select(_T.name, _T.role, _T.created_at, _T.revoked_at).order_by(_T.name))
            ).all()
        return [dict(r._mapping) for r in rows]

    async def authenticate(self, token: str) -> OperatorToken | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(_T.name, _T.role).where(_T.token_sha256 == _digest(token), _T.revoked_at.is_(None))
                )
            ).first()
        return OperatorToken(row.name, TokenRole(row.role)) if row else None
