"""Opening the journal outside the web app (CLI commands, sandbox set-up): migrated, with the
deployment secret."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from gateway.common.secrets import load_or_create_secret
from gateway.config import GatewayConfig
from gateway.intake.clients import ClientRegistry
from gateway.journal.engine import create_engine
from gateway.journal.migrate import upgrade
from gateway.journal.store import Journal

__all__ = ["open_store"]


@asynccontextmanager
async def open_store(config: GatewayConfig) -> AsyncIterator[tuple[Journal, ClientRegistry]]:
    engine = create_engine(config.database_url)
    try:
        if config.storage.auto_migrate:
            await upgrade(engine)
        secret = load_or_create_secret(config.secret_key_path)
        yield Journal(engine, secret), ClientRegistry(engine, secret)
    finally:
        await engine.dispose()
