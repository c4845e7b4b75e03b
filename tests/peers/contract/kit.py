"""Driving the whole gateway app (create_app with injected plug-ins) against the real journal."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.appkeys import JOURNAL_KEY
from gateway.config import GatewayConfig
from gateway.intake.submission import content_hash
from gateway.journal.schema import events, peer_inbox, submissions
from gateway.journal.store import Journal
from gateway.model import State, Submission, SubmissionDraft
from gateway.peers.contract import PeerPlugin

ORG = "1.2.643.5.1.13.13.12.2.77.9001"


def gateway_config(tmp_path: Path, peers: Mapping[str, Mapping[str, Any]], destination: str, db_url: str) -> Any:
    routes = tmp_path / "routes.toml"
    routes.write_text(f'[[routes]]\nname = "all"\nkinds = ["*"]\ndestination = "{destination}"\n')
    return GatewayConfig.model_validate(
        {
            "storage": {"data_dir": str(tmp_path), "database_url": db_url},
            "routing": {"routes_file": str(routes)},
            "workers": {"idle_sleep_seconds": 0.02, "validation_processes": 0},
            "peers": {
                name: {"url": "http://peer.invalid", "backoff_base_seconds": 0.05, "backoff_cap_seconds": 0.1, **t}
                for name, t in peers.items()
            },
        }
    )


class _NoChecker:
    """Submissions are put in QUEUED directly: validation is not what these tests are about."""

    async def check(self, submission: Any) -> Any:
        raise RuntimeError("not used: submissions are queued directly")


@asynccontextmanager
async def running(config: Any, plugins: Mapping[str, PeerPlugin]) -> AsyncIterator[TestClient[Any, Any]]:
    app: web.Application = create_app(config, plugins=plugins, checker=_NoChecker())  # type: ignore[arg-type]
    async with TestClient(TestServer(app)) as client:
        yield client


def journal_of(client: TestClient[Any, Any]) -> Journal:
    return client.app[JOURNAL_KEY]


async def queued(journal: Journal, destination: str, *, due: bool = True) -> Submission:
    local_uid = str(uuid.uuid4())
    data = {
        "source_system": "mis",
        "local_uid": local_uid,
        "kind": "35",
        "organization_oid": ORG,
        "creation_datetime": datetime(2026, 11, 20, tzinfo=UTC).isoformat(),
        "patient": {"snils": "112-233-445 95"},
        "document": base64.b64encode(b"<doc>" + local_uid.encode() + b"</doc>").decode(),
        "document_mime": "application/xml",
        "signatures": [{"type": "organization", "cms": "MIIB"}],
    }
    draft = SubmissionDraft(
        source_system="mis",
        local_uid=local_uid,
        kind="35",
        organization_oid=ORG,
        content_hash=content_hash(data),
        payload=json.dumps(data).encode(),
        callback_url=None,
    )
    sub, _ = await journal.submit(draft)
    # One statement to QUEUED (the validation loop may have claimed the RECEIVED row meanwhile:
    # its lease is cleared and its own transition will find the row moved).
    at = journal.clock.now() + (timedelta(0) if due else timedelta(days=1))
    async with journal.writing() as conn:
        await conn.execute(
            submissions.update()
            .where(submissions.c.id == sub.id)
            .values(state="QUEUED", destination=destination, next_attempt_at=at, lease_owner=None, lease_until=None)
        )
    return await journal.get(sub.id)


async def until(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def state_is(journal: Journal, sub_id: str, *states: State) -> Submission | None:
    sub = await journal.get(sub_id)
    return sub if sub.state in states else None


async def event_rows(journal: Journal, sub_id: str) -> list[Any]:
    async with journal.engine.connect() as conn:
        stmt = sa.select(events).where(events.c.submission_id == sub_id).order_by(events.c.id)
        return list((await conn.execute(stmt)).all())


async def inbox_rows(journal: Journal, **where: Any) -> list[Any]:
    stmt = sa.select(peer_inbox).where(*(peer_inbox.c[k] == v for k, v in where.items()))
    async with journal.engine.connect() as conn:
        return list((await conn.execute(stmt)).all())


async def due_now(journal: Journal, sub_id: str) -> None:
    async with journal.writing() as conn:
        stmt = submissions.update().where(submissions.c.id == sub_id).values(next_attempt_at=journal.clock.now())
        await conn.execute(stmt)
