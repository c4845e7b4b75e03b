"""Alembic, driven from code: the migrations ship inside the package, so no alembic.ini is needed
at run time and `mse-gateway db upgrade` works from any directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["alembic_config", "compare_options", "current_revision", "head_revision", "upgrade"]

_MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return cfg


def compare_options(dialect: str) -> dict[str, Any]:
    """Options for Alembic's metadata comparison (autogenerate, the drift tests) on ``dialect``:
    an index declared for one dialect only (``Index(...).ddl_if(dialect="postgresql")``, such as
    the prefix-search indexes) is not expected on another. Alembic itself ignores ``ddl_if``."""

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        only = getattr(obj, "_ddl_if", None)
        return not (type_ == "index" and not reflected and only is not None and only.dialect not in (None, dialect))

    return {"compare_type": True, "include_object": include}


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _upgrade_sync(connection: sa.Connection, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


def _current_sync(connection: sa.Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade_sync, revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(_current_sync)
