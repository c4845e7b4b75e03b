"""A real gateway over real HTTP (aiohttp test server on loopback) with a registered client."""

from __future__ import annotations

import base64
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import create_app
from gateway.appkeys import CLIENTS_KEY, JOURNAL_KEY
from gateway.config import GatewayConfig, load_config
from gateway.intake.clients import ClientExists
from gateway.journal.store import Journal

from .structural import StructuralChecker

ORG = "1.2.643.5.1.13.13.12.2.77.7973"
DOC = '<?xml version="1.0" encoding="UTF-8"?><ClinicalDocument xmlns="urn:hl7-org:v3"><id root="1"/></ClinicalDocument>'


def make_config(data_dir: Path, **sections: dict[str, Any]) -> GatewayConfig:
    base: dict[str, dict[str, Any]] = {
        "storage": {"data_dir": str(data_dir)},
        "workers": {"idle_sleep_seconds": 0.05},
        "notifications": {"backoff_base_seconds": 0.05, "backoff_cap_seconds": 0.2, "timeout_seconds": 5.0},
        # The test MIS receiving notices listen on loopback (tests/api/test_outbound.py tests the
        # allowlist itself with its own settings).
        "security": {"callback_hosts": ["127.0.0.1"], "allow_private_callbacks": True},
    }
    for name, values in sections.items():
        base.setdefault(name, {}).update(values)
    return load_config(environ={}).with_overrides(**base)


def submission(local_uid: str | None = None, *, document: str = DOC, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "source_system": "mis-alpha",
        "local_uid": local_uid or str(uuid.uuid4()),
        "kind": "121",
        "organization_oid": ORG,
        "creation_datetime": "2026-11-20T10:00:00+03:00",
        "patient": {"snils": "112-233-445 95", "family": "Иванов", "given": "Пётр"},
        "document": base64.b64encode(document.encode()).decode(),
        "document_mime": "application/x-hl7-cda-level-one+xml",
        "signatures": [
            {"type": "personal", "signer": {"snils": "112-233-445 95", "role_code": "1"}, "cms": "MIIB"},
            {"type": "organization", "cms": "MIIC"},
        ],
    }
    body.update(overrides)
    return body


@dataclass
class Gateway:
    client: TestClient[Any, Any]
    token: str
    journal: Journal
    config: GatewayConfig

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


GatewayFactory = Callable[..., Any]


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    async with start_gateway(tmp_path) as gw:
        yield gw


class start_gateway:
    def __init__(self, data_dir: Path, **sections: dict[str, Any]) -> None:
        self.config = make_config(data_dir, **sections)

    async def __aenter__(self) -> Gateway:
        # The REST mechanics are under test here, not signatures: the structural checker is enough.
        app = create_app(self.config, checker=StructuralChecker())
        self.client = TestClient(TestServer(app))
        await self.client.start_server()
        registry = app[CLIENTS_KEY]
        with contextlib.suppress(ClientExists):  # a restarted gateway on the same data dir has it
            await registry.add("mis-alpha", [ORG], token="msegw_test-token-alpha")
        return Gateway(self.client, "msegw_test-token-alpha", app[JOURNAL_KEY], self.config)

    async def __aexit__(self, *exc: object) -> None:
        await self.client.close()
