"""Helpers of the ШЭП tests (imported as a plain module, like smev3_kit)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

from gateway.wire.soap11 import parse_envelope

ROOT = Path(__file__).resolve().parents[3]
ALL_XSD = ROOT / "wsdl" / "shep" / "all.xsd"
WHEN = datetime(2025, 7, 1, 10, 59, 0, tzinfo=UTC)  # 15:59 in Astana

_schema: etree.XMLSchema | None = None


def schema() -> etree.XMLSchema:
    global _schema
    if _schema is None:
        _schema = etree.XMLSchema(etree.parse(str(ALL_XSD)))
    return _schema


def body_payload(envelope: bytes) -> etree._Element:
    env = parse_envelope(envelope)
    if env.fault is not None:
        return env.fault.detail[0]
    assert env.payload is not None
    return env.payload


def assert_valid(envelope: bytes) -> None:
    """The Body's element validates against the ШЭП XSDs (wsdl/shep/all.xsd)."""
    element = body_payload(envelope)
    doc = etree.ElementTree(etree.fromstring(etree.tostring(element)))
    s = schema()
    assert s.validate(doc), str(s.error_log)


# --- an adapter against the twins over real HTTP --------------------------------------------------

import contextlib  # noqa: E402
from collections.abc import AsyncIterator  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

import aiohttp  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402

from adapters.shep.adapter import ShepAdapter  # noqa: E402
from adapters.shep.pilot import PilotTable  # noqa: E402
from adapters.shep.sandbox import FaultProfile, ShepTwin, create_twin, twin_of  # noqa: E402
from adapters.shep.settings import ShepSettings  # noqa: E402
from gateway.common.clock import SimulatedClock  # noqa: E402
from gateway.peers.contract import PeerOutcome, Progress  # noqa: E402
from gateway.signatures.certificates import Certificate  # noqa: E402
from gateway.signatures.keys import PrivateKey, generate_key  # noqa: E402
from gateway.signatures.pki.builder import build_certificate, build_name  # noqa: E402

SENDER_ID, PASSWORD = "mis-almaty", "correct horse"


def identity(name: str, algorithm: str = "rsa") -> tuple[PrivateKey, Certificate]:
    key = generate_key(algorithm)
    now = datetime.now(UTC)
    from datetime import timedelta

    cert = build_certificate(
        subject=build_name([("2.5.4.3", name)]),
        subject_key=key.public,
        issuer_key=key,
        issuer=None,
        serial=int.from_bytes(name.encode()[:7], "big") + 1,
        not_before=now - timedelta(days=1),
        not_after=now + timedelta(days=365),
    )
    return key, cert


@dataclass
class Sink:
    outcomes: list[PeerOutcome] = field(default_factory=list)
    progress_items: list[Progress] = field(default_factory=list)
    fail_next: int = 0

    async def __call__(self, outcome: PeerOutcome) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("journal down")
        self.outcomes.append(outcome)

    async def progress(self, progress: Progress) -> None:
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("journal down")
        self.progress_items.append(progress)


@dataclass
class Rig:
    adapter: ShepAdapter
    twin: ShepTwin
    clock: SimulatedClock
    gateway_identity: tuple[PrivateKey, Certificate]
    twin_identity: tuple[PrivateKey, Certificate]


@contextlib.asynccontextmanager
async def rig(
    *,
    profile: FaultProfile | None = None,
    start: datetime = WHEN,
    password: str = PASSWORD,
    pin_twin: bool = True,
    seed: int = 1,
    **settings: Any,
) -> AsyncIterator[Rig]:
    clock = SimulatedClock(1.0, sim_epoch=start)
    gw = identity("gateway MIS")
    tw = identity("ШЭП twin", "ecdsa")
    app = create_twin(
        profile or FaultProfile(),
        clock,
        seed=seed,
        identity=tw,
        sender=(SENDER_ID, PASSWORD),
        sender_certificate=gw[1],
    )
    async with TestServer(app) as server, aiohttp.ClientSession() as session:
        chosen = ShepSettings(
            url=str(server.make_url("/shep/ws")), sender_id=SENDER_ID, sender_password=password, **settings
        )
        adapter = ShepAdapter(
            chosen,
            session,
            name="shep",
            key=gw[0],
            certificate=gw[1],
            pinned=[tw[1]] if pin_twin else [identity("someone else", "ecdsa")[1]],
            pilot=PilotTable.load(ROOT / "config" / "kz_pilot_regions.tsv"),
            clock=clock,
        )
        yield Rig(adapter, twin_of(app), clock, gw, tw)
