"""Helpers for the REMD adapter tests: a fast clock, submissions built from the project's
test vectors, and a harness running the adapter's callback endpoints and the REMD twin as two real
HTTP servers on loopback."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from loopback_ports import free_port

from adapters.remd import Adapter
from adapters.remd.callbacks import DocumentSource, callback_routes
from adapters.remd.sandbox import TWIN_KEY, FaultProfile, RemdTwin, create_twin
from adapters.remd.sandbox.twin import Verifier
from adapters.remd.settings import RemdSettings as RemdPeerConfig
from gateway.intake.submission import CanonicalSubmission, parse_submission
from gateway.model import State, Submission
from gateway.peers.contract import PeerOutcome

VECTORS = Path(__file__).resolve().parents[2] / "vectors"
ORG = "1.2.643.5.1.13.13.12.2.77.7973"
PATIENT_SNILS = "112-233-445 95"
SIGNER_SNILS = "123-456-789 64"


class FastClock:
    """Simulated time: ``speed`` simulated seconds per real second, plus manual jumps."""

    def __init__(self, speed: float = 1.0, start: datetime | None = None) -> None:
        self.speed = speed
        self.start = start or datetime.now(UTC)
        self._t0 = time.monotonic()
        self._offset = 0.0

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self._t0) * self.speed + self._offset)

    def advance(self, seconds: float) -> None:
        self._offset += seconds


def document_bytes() -> bytes:
    return (VECTORS / "semd" / "referral-121-seed0.xml").read_bytes()


def unique_document(local_uid: str) -> bytes:
    """The test referral made unique per submission (as real documents are), so the twin's
    same-document-twice check does not see every test document as one."""
    return document_bytes() + f"<!-- {local_uid} -->\n".encode()


def cms_bytes(bits: int = 256) -> bytes:
    return (VECTORS / "cms" / f"openssl-gost{bits}-detached.p7s").read_bytes()


def canonical_json(local_uid: str, *, document: bytes | None = None, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "source_system": "mis-alpha",
        "local_uid": local_uid,
        "kind": "121",
        "organization_oid": ORG,
        "creation_datetime": "2026-11-20T10:00:00+03:00",
        "document_number": "088-2026-001",
        "patient": {"snils": PATIENT_SNILS, "family": "Иванов"},
        "document": base64.b64encode(document if document is not None else document_bytes()).decode(),
        "document_mime": "application/x-hl7-cda-level-one+xml",
        "signatures": [
            {
                "type": "personal",
                "signer": {
                    "snils": SIGNER_SNILS,
                    "local_id": "doc-17",
                    "role_code": "AUTHOR",
                    "position_code": "73",
                    "speciality_code": "27",
                },
                "cms": base64.b64encode(cms_bytes(256)).decode(),
            },
            {"type": "organization", "cms": base64.b64encode(cms_bytes(512)).decode()},
        ],
    }
    data.update(overrides)
    return data


def make_submission(
    local_uid: str | None = None,
    *,
    created_at: datetime | None = None,
    document: bytes | None = None,
    patient_snils: str = PATIENT_SNILS,
) -> tuple[Submission, CanonicalSubmission]:
    uid = local_uid or str(uuid.uuid4())
    data = canonical_json(
        uid, document=document if document is not None else unique_document(uid), patient={"snils": patient_snils}
    )
    canonical = parse_submission(data)
    now = created_at or datetime.now(UTC)
    sub = Submission(
        id=str(uuid.uuid4()),
        source_system=canonical.source_system,
        local_uid=uid,
        kind=canonical.kind,
        organization_oid=canonical.organization_oid,
        patient_key=None,
        region="77",
        destination="remd",
        state=State.QUEUED,
        attempts=0,
        next_attempt_at=None,
        answer_deadline=None,
        outcome_code=None,
        outcome_message=None,
        peer_registration_id=None,
        content_hash="0" * 64,
        callback_url=None,
        created_at=now,
        updated_at=now,
    )
    return sub, canonical


@dataclass
class Sink:
    """A CallbackSink that keeps what it is given."""

    outcomes: list[PeerOutcome] = field(default_factory=list)
    fail_with: Exception | None = None
    _event: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, outcome: PeerOutcome) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.outcomes.append(outcome)
        self._event.set()

    async def wait(self, count: int = 1, timeout: float = 10.0) -> list[PeerOutcome]:
        deadline = time.monotonic() + timeout
        while len(self.outcomes) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"expected {count} callback(s), got {len(self.outcomes)}")
            self._event.clear()
            try:
                await asyncio.wait_for(self._event.wait(), remaining)
            except TimeoutError:
                continue
        return self.outcomes


@dataclass
class Harness:
    adapter: Adapter
    twin: RemdTwin
    twin_url: str
    gateway_url: str
    sink: Sink
    session: aiohttp.ClientSession
    clock: FastClock


HarnessFactory = Callable[..., Awaitable[Harness]]


@pytest.fixture
async def harness() -> AsyncIterator[HarnessFactory]:
    """Build (and finally tear down) a gateway-side callback server plus a REMD twin."""
    cleanups: list[Callable[[], Awaitable[None]]] = []

    async def build(
        profile: FaultProfile | None = None,
        *,
        speed: float = 1000.0,
        seed: int = 7,
        verifier: Verifier | None = None,
        document_source: DocumentSource | None = None,
        inline_document: bool = True,
        timeout_seconds: float = 5.0,
    ) -> Harness:
        clock = FastClock(speed)
        session = aiohttp.ClientSession()
        cleanups.append(session.close)
        twin_app = create_twin(profile or FaultProfile(), clock, session=session, verifier=verifier, seed=seed)
        twin_server = TestServer(twin_app, host="127.0.0.1")
        await twin_server.start_server()
        cleanups.append(twin_server.close)
        port = free_port()
        gateway_url = f"http://127.0.0.1:{port}"
        config = RemdPeerConfig(
            client_entity_id="4f9a1c52-7d1e-4b8a-9a6e-0c2d5e7f8a91",
            public_url=gateway_url,
            timeout_seconds=timeout_seconds,
        )
        twin_url = str(twin_server.make_url("")).rstrip("/")
        adapter = Adapter(
            config,
            session,
            base_url=twin_url,
            clock=clock,
            inline_document=inline_document,
        )
        sink = Sink()
        app = web.Application()
        app.add_routes(callback_routes(sink, document_source=document_source))
        gateway_server = TestServer(app, host="127.0.0.1", port=port)
        await gateway_server.start_server()
        cleanups.append(gateway_server.close)
        return Harness(adapter, twin_app[TWIN_KEY], twin_url, gateway_url, sink, session, clock)

    yield build
    for cleanup in reversed(cleanups):
        await cleanup()
