"""The sandbox's demo operator: an account a vendor can log in with at once."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from pathlib import Path
from typing import Final

import sqlalchemy as sa

from gateway.config import GatewayConfig
from gateway.journal.engine import create_engine
from gateway.journal.migrate import upgrade
from gateway.ui.schema import ui_users
from gateway.ui.users import Role, UserStore

__all__ = ["DEMO_FILE", "DEMO_USERNAME", "ensure_demo_operator", "ensure_demo_operator_async"]

DEMO_USERNAME: Final = "demo-operator"
DEMO_FILE: Final = "sandbox-operator.json"


async def ensure_demo_operator_async(config: GatewayConfig) -> tuple[str, str]:
    """Create (or re-key) the demo operator and write its credentials to
    ``<data-dir>/sandbox-operator.json`` (mode 0600); returns ``(username, password)``.

    The password is random per call: the file is the one place it is written down."""
    password = secrets.token_urlsafe(18)
    engine = create_engine(config.database_url)
    try:
        if config.storage.auto_migrate:
            await upgrade(engine)
        store = UserStore(engine)
        async with engine.connect() as conn:
            exists = (
                await conn.execute(sa.select(ui_users.c.username).where(ui_users.c.username == DEMO_USERNAME))
            ).first()
        if exists:
            await store.set_password(DEMO_USERNAME, password)
            await store.set_role(DEMO_USERNAME, Role.OPERATOR)
        else:
            await store.add(DEMO_USERNAME, password, Role.OPERATOR)
    finally:
        await engine.dispose()
    path = Path(config.data_dir) / DEMO_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"username": DEMO_USERNAME, "password": password, "url": "/ui/login"}, fh)
    return DEMO_USERNAME, password


def ensure_demo_operator(config: GatewayConfig) -> tuple[str, str]:
    """Synchronous form for the CLI (runs its own event loop: call it before the app starts)."""
    return asyncio.run(ensure_demo_operator_async(config))
