"""Alembic environment: runs on the connection handed over by gateway.journal.migrate."""

from __future__ import annotations

from alembic import context

import gateway.ui.schema  # noqa: F401 - the UI's tables share the journal's metadata
from gateway.journal.migrate import compare_options
from gateway.journal.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the gateway always passes a connection
    raise RuntimeError("run migrations through `mse-gateway db upgrade`")

context.configure(
    connection=connection, target_metadata=metadata, render_as_batch=True, **compare_options(connection.dialect.name)
)
with context.begin_transaction():
    context.run_migrations()
