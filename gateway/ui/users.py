"""Local operator accounts for the UI: argon2id password hashes, roles, server-side sessions."""

from __future__ import annotations

import enum
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.common.clock import Clock, SystemClock
from gateway.ui.schema import ui_sessions, ui_users

__all__ = ["Role", "Session", "User", "UserExists", "UserStore"]

_HASHER: Final = PasswordHasher()  # argon2id with the library's current recommended parameters
# A hash of a random password, verified when the user does not exist, so a login attempt takes
# the same time whether or not the name is known.
_DUMMY_HASH: Final = _HASHER.hash(secrets.token_urlsafe(16))
MIN_PASSWORD_LENGTH: Final = 10


class Role(enum.StrEnum):
    VIEWER = "viewer"  # reads everything the UI shows
    OPERATOR = "operator"  # and acts on submissions (resend, resolve, cancel)
    ADMIN = "admin"  # and sees the audit trail of every operator

    def at_least(self, other: Role) -> bool:
        order = (Role.VIEWER, Role.OPERATOR, Role.ADMIN)
        return order.index(self) >= order.index(other)


@dataclass(frozen=True, slots=True)
class User:
    username: str
    role: Role
    created_at: datetime
    disabled: bool


@dataclass(frozen=True, slots=True)
class Session:
    username: str
    role: Role
    csrf_token: str
    expires_at: datetime


class UserExists(Exception):
    pass


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class UserStore:
    """Accounts and sessions in the journal database."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Clock | None = None,
        idle: timedelta = timedelta(hours=1),
        max_age: timedelta = timedelta(hours=12),
    ) -> None:
        self.engine = engine
        self.clock: Clock = clock or SystemClock()
        self.idle = idle
        self.max_age = max_age

    # -- accounts ----------------------------------------------------------------------------

    async def add(self, username: str, password: str, role: Role) -> User:
        """Create an account; UserExists if the name is taken, ValueError for a short password."""
        _check_password(password)
        now = self.clock.now()
        try:
            async with self.engine.begin() as conn:
                await conn.execute(
                    ui_users.insert().values(
                        username=username, password_hash=_HASHER.hash(password), role=str(role), created_at=now
                    )
                )
        except IntegrityError:
            raise UserExists(username) from None
        return User(username, role, now, False)

    async def set_password(self, username: str, password: str) -> bool:
        """Change a password and end the user's sessions. False if there is no such user."""
        _check_password(password)
        async with self.engine.begin() as conn:
            result = await conn.execute(
                ui_users.update().where(ui_users.c.username == username).values(password_hash=_HASHER.hash(password))
            )
            await conn.execute(ui_sessions.delete().where(ui_sessions.c.username == username))
        return int(result.rowcount) == 1

    async def set_role(self, username: str, role: Role) -> bool:
        async with self.engine.begin() as conn:
            result = await conn.execute(ui_users.update().where(ui_users.c.username == username).values(role=str(role)))
        return int(result.rowcount) == 1

    async def set_disabled(self, username: str, disabled: bool) -> bool:
        """Disable (ending every open session at once) or enable an account. False if there is
        no such user."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                ui_users.update()
                .where(ui_users.c.username == username)
                .values(disabled_at=self.clock.now() if disabled else None)
            )
            if disabled:
                await conn.execute(ui_sessions.delete().where(ui_sessions.c.username == username))
        return int(result.rowcount) == 1

    async def list_users(self) -> list[User]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(sa.select(ui_users).order_by(ui_users.c.username))).all()
        return [User(r.username, Role(r.role), r.created_at, r.disabled_at is not None) for r in rows]

    async def verify(self, username: str, password: str) -> User | None:
        """The user if the password is right and the account enabled, else None (same cost)."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(sa.select(ui_users).where(ui_users.c.username == username))).first()
        stored = row.password_hash if row is not None else _DUMMY_HASH
        try:
            _HASHER.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if row is None or row.disabled_at is not None:
            return None
        if _HASHER.check_needs_rehash(stored):
            async with self.engine.begin() as conn:
                await conn.execute(
                    ui_users.update()
                    .where(ui_users.c.username == username)
                    .values(password_hash=_HASHER.hash(password))
                )
        return User(row.username, Role(row.role), row.created_at, False)

    # -- sessions ----------------------------------------------------------------------------

    async def open_session(self, user: User) -> tuple[str, Session]:
        """A new session: returns the cookie token (shown once, stored hashed) and the session."""
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = self.clock.now()
        expires = now + self.max_age
        async with self.engine.begin() as conn:
            await conn.execute(ui_sessions.delete().where(ui_sessions.c.expires_at < now))
            await conn.execute(
                ui_sessions.insert().values(
                    token_sha256=_token_hash(token),
                    username=user.username,
                    csrf_token=csrf,
                    created_at=now,
                    last_seen_at=now,
                    expires_at=expires,
                )
            )
        return token, Session(user.username, user.role, csrf, expires)

    async def session(self, token: str) -> Session | None:
        """The live session for a cookie token (idle and absolute limits applied), or None."""
        now = self.clock.now()
        s, u = ui_sessions.c, ui_users.c
        stmt = (
            sa.select(s.username, s.csrf_token, s.expires_at, s.last_seen_at, u.role, u.disabled_at)
            .join(ui_users, u.username == s.username)
            .where(s.token_sha256 == _token_hash(token))
        )
        async with self.engine.connect() as conn:
            row = (await conn.execute(stmt)).first()
        if row is None or row.disabled_at is not None or row.expires_at <= now or row.last_seen_at + self.idle <= now:
            return None
        if now - row.last_seen_at > timedelta(minutes=1):  # do not write on every page view
            async with self.engine.begin() as conn:
                await conn.execute(
                    ui_sessions.update().where(s.token_sha256 == _token_hash(token)).values(last_seen_at=now)
                )
        return Session(row.username, Role(row.role), row.csrf_token, row.expires_at)

    async def close_session(self, token: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(ui_sessions.delete().where(ui_sessions.c.token_sha256 == _token_hash(token)))


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
