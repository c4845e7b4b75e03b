"""A revoked API token stops working at once in every process (issue 14 finding 9): the token check
reads the journal on every request. Before, a per-process cache kept a token revoked by another
process (the `clients revoke` CLI, another replica) working for up to 10 s."""

from __future__ import annotations

from pathlib import Path

from gateway.common.secrets import DeploymentSecret
from gateway.intake.clients import ClientRegistry
from gateway.journal.engine import create_engine
from gateway.journal.migrate import upgrade

from .conftest import start_gateway


async def test_revocation_by_another_process_is_effective_for_the_next_request(tmp_path: Path) -> None:
    async with start_gateway(tmp_path) as gw:
        assert (await gw.client.get("/api/v1/submissions", headers=gw.auth)).status == 200
        # `clients revoke` runs in its own process with its own engine on the same journal
        other = create_engine(gw.config.database_url)
        try:
            await ClientRegistry(other, DeploymentSecret(b"x" * 32)).revoke("mis-alpha")
        finally:
            await other.dispose()
        resp = await gw.client.get("/api/v1/submissions", headers=gw.auth)
        assert resp.status == 401
        assert (await resp.json())["error"]["code"] == "UNAUTHORIZED"


async def test_two_registries_on_one_journal(db_url: str, secret: DeploymentSecret) -> None:
    a, b = create_engine(db_url), create_engine(db_url)
    try:
        if a.dialect.name == "sqlite":
            await upgrade(a)
        first, second = ClientRegistry(a, secret), ClientRegistry(b, secret)
        _, token = await first.add("mis-beta", ["1.2.3"])
        assert await first.authenticate(token) is not None
        assert await second.authenticate(token) is not None
        await second.revoke("mis-beta")
        assert await first.authenticate(token) is None
        new = await second.rotate("mis-beta")
        assert await first.authenticate(token) is None
        assert await first.authenticate(new) is not None
    finally:
        await a.dispose()
        await b.dispose()
