"""A 202 is never given for a submission that a crash right after it would lose.

The gateway runs as a real ``serve`` process; a sender posts signed documents concurrently and,
the moment it reads the n-th 202 of a round, SIGKILLs the gateway — while other submissions are
in flight and the process is in the middle of its next commits (intake, validation, delivery to
the REMD twin, callbacks). The gateway is started again on the same journal and every submission
that was answered 202, in every round, must be there with its payload. A change that answered
before its row was durable (a group commit that acknowledged early, an intake buffered in memory)
fails here. On SQLite (``synchronous=FULL``, WAL on disk) and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from loopback_ports import free_port

from gateway.bench.process import GatewayProcess, gateway_env
from gateway.common.clock import SystemClock
from gateway.config import load_config
from gateway.journal.engine import create_engine
from gateway.journal.schema import payloads, submissions
from gateway.sandbox.setup import prepare_sandbox
from gateway.sandbox.simulate import Progress, generate_documents, read_documents, serve_app
from gateway.sandbox.twins import auth_env, plan_twins

ROUNDS = (1, 4, 9)  # kill on reading the 1st, the 4th, the 9th 202 of a round
PER_ROUND = 24


async def _round(gateway: GatewayProcess, token: str, bodies: list[dict[str, Any]], kill_at: int) -> set[str]:
    """Post ``bodies`` 8 at a time; SIGKILL the gateway on reading the ``kill_at``-th 202. The
    local uids answered 202 (before or, in flight, just as the kill came)."""
    assert gateway.proc is not None
    acked: set[str] = set()
    killed = False
    sem = asyncio.Semaphore(8)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:

        async def one(body: dict[str, Any]) -> None:
            nonlocal killed
            async with sem:
                if killed:
                    return
                try:
                    async with http.post(
                        f"{gateway.url}/api/v1/submissions", data=json.dumps(body).encode(), headers=headers
                    ) as resp:
                        if resp.status != 202:
                            return
                        acked.add(body["local_uid"])
                        if not killed and len(acked) >= kill_at:
                            killed = True
                            # No await between reading the answer and the kill: nothing the
                            # gateway does after answering gets to finish on our account.
                            gateway.proc.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
                except (aiohttp.ClientError, TimeoutError):
                    pass  # in flight at the kill: not acknowledged, the sender would resend

        await asyncio.gather(*(one(b) for b in bodies))
    gateway.proc.wait()
    assert killed, "the round ended before the kill point"
    return acked


async def _journalled(url: str, uids: set[str]) -> set[str]:
    """The local uids among ``uids`` whose submission row and payload are in the journal."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                sa.select(submissions.c.local_uid)
                .join(payloads, payloads.c.submission_id == submissions.c.id)
                .where(submissions.c.local_uid.in_(sorted(uids)))
            )
            return {r[0] for r in rows}
    finally:
        await engine.dispose()


@pytest.mark.slow
async def test_no_acknowledged_submission_is_lost_to_a_sigkill(db_url: str, tmp_path: Path) -> None:
    database_url = "" if db_url.startswith("sqlite") else db_url
    common = {
        "GATEWAY_LOGGING__LEVEL": '"warning"',
        "GATEWAY_STORAGE__DATABASE_URL": f'"{database_url}"',
        "GATEWAY_WORKERS__IDLE_SLEEP_SECONDS": "0.2",
    }
    config = load_config(environ=common).with_overrides(
        storage={"data_dir": str(tmp_path)}, sandbox={"fault_profile": "bench"}
    )
    config, (twin,) = plan_twins(config, SystemClock(), seed=3)
    port = free_port()
    common |= auth_env(config, "remd") | {
        "GATEWAY_PEERS__REMD__URL": f'"{twin.url}"',
        "GATEWAY_PEERS__REMD__PUBLIC_URL": f'"http://127.0.0.1:{port}"',
    }
    config, client, signers = await prepare_sandbox(config)
    documents = tmp_path / "documents.jsonl"
    await generate_documents(signers.directory, PER_ROUND * len(ROUNDS), 3, documents, Progress())
    bodies = list(read_documents(documents))
    common["GATEWAY_VALIDATION__TRUST_DIR"] = f'"{signers.directory}"'
    gateway = GatewayProcess(tmp_path, port, gateway_env(common))
    acked: set[str] = set()
    try:
        async with serve_app(twin.app, twin.port):
            for i, kill_at in enumerate(ROUNDS):
                await gateway.start()
                acked |= await _round(gateway, client.token, bodies[i * PER_ROUND : (i + 1) * PER_ROUND], kill_at)
            await gateway.start()  # recovery on the journal the kills left
            assert await _journalled(config.database_url, acked) == acked
    finally:
        gateway.stop()
    assert len(acked) >= sum(ROUNDS)
