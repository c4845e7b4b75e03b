"""The REMD-compatible SOAP front door over real HTTP: a REMD-style SOAP client (zeep, from the
reconstructed WSDL) registers through it; real ClientRegistry (SQLite); a recording fake of the
core's FrontDoorCore (the lead's implementation lives in gateway/)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
import requests
import zeep
from aiohttp import web
from aiohttp.test_utils import TestServer
from remd_kit import ORG, cms_bytes, document_bytes
from test_remd_soap import BILLION_LAUGHS, XXE

from adapters.remd import FrontDoor, codec
from adapters.remd.messages import (
    CodedValue,
    DocumentFile,
    Patient,
    PersonalSignature,
    RegisterDocumentRequest,
    SearchRegistryItemRequest,
    SignatureData,
    Signer,
)
from adapters.remd.soap import WSA_ANONYMOUS, Addressing, build_envelope, parse_envelope
from adapters.remd.wsdl import wsdl_dir
from gateway.common.secrets import DeploymentSecret
from gateway.errors import DuplicateConflict, StoreError
from gateway.intake.clients import Client, ClientRegistry
from gateway.intake.submission import parse_submission
from gateway.journal.engine import create_engine
from gateway.journal.migrate import upgrade

ENTITY = "9b2e7c1a-4f3d-4e5a-8b6c-1d2e3f4a5b6c"
OTHER_ORG = "1.2.643.5.1.13.13.12.2.16.1601"
T0 = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)


@dataclass
class FakeCore:
    """Records what the front door hands over; validates the JSON as the real core does."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    fail: Exception | None = None
    registered: list[tuple[str, str, datetime]] = field(default_factory=list)
    searches: list[tuple[Any, ...]] = field(default_factory=list)

    async def accept(
        self, client: Client, canonical_json: dict[str, Any], *, envelope: bytes, message_id: str, reply_to: str | None
    ) -> tuple[str, bool]:
        if self.fail is not None:
            raise self.fail
        parse_submission(canonical_json)  # raises SchemaViolation like the core
        self.calls.append(
            {
                "client": client,
                "json": canonical_json,
                "envelope": envelope,
                "message_id": message_id,
                "reply_to": reply_to,
            }
        )
        return f"sub-{len(self.calls)}", True

    async def search(
        self, client: Client, organization: str, kind: str, begin: datetime, end: datetime, snils: str | None
    ) -> list[tuple[str, str, datetime]]:
        self.searches.append((client.source_system, organization, kind, begin, end, snils))
        return self.registered


@dataclass
class Door:
    url: str
    token: str
    other_token: str
    core: FakeCore
    session: aiohttp.ClientSession

    async def post(
        self,
        body: bytes,
        *,
        token: str | None = "default",  # noqa: S107 - "default": this door's own token
    ) -> tuple[int, bytes, dict[str, str]]:
        headers = {"Content-Type": "application/soap+xml; charset=utf-8"}
        if token is not None:
            headers["X-MSE-Token"] = self.token if token == "default" else token
        async with self.session.post(self.url, data=body, headers=headers) as resp:
            return resp.status, await resp.read(), dict(resp.headers)


@pytest.fixture
async def registry(sqlite_url: str, secret: DeploymentSecret) -> AsyncIterator[ClientRegistry]:
    engine = create_engine(sqlite_url)
    await upgrade(engine)
    try:
        yield ClientRegistry(engine, secret)
    finally:
        await engine.dispose()


async def _door(registry: ClientRegistry, *, require_token: bool = True) -> tuple[Door, TestServer]:
    _, token = await registry.add("mis-alpha", [ORG], soap_client_entity_id=ENTITY)
    _, other = await registry.add("mis-beta", [ORG], soap_client_entity_id=str(uuid.uuid4()))
    core = FakeCore()
    app = web.Application(client_max_size=30 * 1024 * 1024)
    app.add_routes(FrontDoor(core, registry, require_token=require_token, max_body_bytes=2_000_000).routes())
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    session = aiohttp.ClientSession()
    return Door(str(server.make_url("/remd/service")), token, other, core, session), server


@pytest.fixture
async def door(registry: ClientRegistry) -> AsyncIterator[Door]:
    d, server = await _door(registry)
    yield d
    await d.session.close()
    await server.close()


def _request(**overrides: Any) -> RegisterDocumentRequest:
    fields: dict[str, Any] = {
        "local_uid": str(uuid.uuid4()),
        "kind": "121",
        "organization": ORG,
        "creation_datetime": T0,
        "document": DocumentFile.of(document_bytes()),
        "patient": Patient(snils="11223344595"),
        "org_signature": SignatureData.of(cms_bytes(512)),
        "personal_signatures": (
            PersonalSignature(
                Signer(local_id="d1", snils="12345678964", role=CodedValue("AUTHOR", "2.4")),
                SignatureData.of(cms_bytes(256)),
            ),
        ),
    }
    fields.update(overrides)
    return RegisterDocumentRequest(**fields)


def _envelope(
    req: RegisterDocumentRequest,
    *,
    entity: str | None = ENTITY,
    message_id: str | None = "mis-msg-1",
    reply_to: str | None = "https://mis.example/remd-callback",
) -> bytes:
    return build_envelope(
        codec.build_register_document_request(req),
        addressing=Addressing(message_id=message_id, action="registerDocument", reply_to=reply_to),
        client_entity_id=entity,
    )


def _status(body: bytes) -> tuple[bool, tuple[tuple[str, str], ...]]:
    env = parse_envelope(body)
    assert env.body is not None, env.fault
    resp = codec.parse_register_document_response(env.body)
    return resp.success, resp.errors


def _zeep_round_trip(url: str, token: str, message_id: str) -> Any:
    """What an MIS does with its REMD client: zeep from the WSDL, requests as transport."""
    session = requests.Session()
    session.headers["X-MSE-Token"] = token
    transport = zeep.transports.Transport(session=session)  # type: ignore[no-untyped-call]
    client = zeep.Client(str(wsdl_dir() / "emdr-service.wsdl"), transport=transport)  # type: ignore[no-untyped-call]
    binding = "{http://egisz.rosminzdrav.ru/iehr/emdr/service/}EmdrServiceSoap12Binding"
    service = client.create_service(binding, url)  # type: ignore[no-untyped-call]
    return service.registerDocument(
        localUid="mis-doc-42",
        kind="121",
        organization=ORG,
        documentNumber="088-42",
        creationDateTime=T0,
        patient={"snils": "11223344595"},
        document={"data": document_bytes(), "checksum": DocumentFile.of(document_bytes()).checksum},
        orgSignature={"data": cms_bytes(512), "checksum": SignatureData.of(cms_bytes(512)).checksum},
        personalSignatures={
            "item": [
                {
                    "signer": {
                        "localId": "d1",
                        "snils": "12345678964",
                        "role": {"_value_1": "AUTHOR", "version": "2.4"},
                    },
                    "signature": {"data": cms_bytes(256), "checksum": SignatureData.of(cms_bytes(256)).checksum},
                }
            ]
        },
        _soapheaders={
            "transportHeader": {"authInfo": {"clientEntityId": ENTITY}},
            "MessageID": message_id,
            "Action": "registerDocument",
            "To": url,
            "ReplyTo": {"Address": "https://mis.example/remd-callback"},
        },
    )


async def test_a_remd_style_client_registers_through_the_front_door(door: Door) -> None:
    result = await asyncio.to_thread(_zeep_round_trip, door.url, door.token, "mis-msg-42")
    assert result.body.status == "success"
    assert result.header.RelatesTo._value_1 == "mis-msg-42"
    (call,) = door.core.calls
    assert call["client"].source_system == "mis-alpha"
    assert call["message_id"] == "mis-msg-42"
    assert call["reply_to"] == "https://mis.example/remd-callback"
    assert parse_envelope(call["envelope"]).addressing.message_id == "mis-msg-42"
    data = call["json"]
    canonical = parse_submission(data)
    assert (canonical.source_system, canonical.local_uid, canonical.kind) == ("mis-alpha", "mis-doc-42", "121")
    assert canonical.document == document_bytes()
    assert canonical.callback_url == "https://mis.example/remd-callback"
    assert canonical.document_number == "088-42"
    assert {(s.type, s.cms) for s in canonical.signatures} == {
        ("organization", cms_bytes(512)),
        ("personal", cms_bytes(256)),
    }
    assert data["patient"] == {"snils": "11223344595"}


async def test_the_answer_names_the_submission(door: Door) -> None:
    status, body, headers = await door.post(_envelope(_request()))
    assert status == 200 and _status(body) == (True, ())
    assert headers["X-MSE-Submission-Id"] == "sub-1"
    assert parse_envelope(body).addressing.relates_to == "mis-msg-1"


@pytest.mark.parametrize(
    ("entity", "token", "code"),
    [
        (None, "default", "NO_RMIS"),
        ("00000000-0000-4000-8000-00000000dead", "default", "NO_RMIS"),
        (ENTITY, None, "ACCESS_DENIED"),
        (ENTITY, "msegw_not-a-real-token", "ACCESS_DENIED"),
        (ENTITY, "other", "ACCESS_DENIED"),
    ],
)
async def test_authentication(door: Door, entity: str | None, token: str | None, code: str) -> None:
    if token == "other":
        token = door.other_token  # a valid token, but of another client
    status, body, _ = await door.post(_envelope(_request(), entity=entity), token=token)
    assert status == 401
    env = parse_envelope(body)
    assert env.fault is not None and env.fault.subcode == "UNAUTHORIZED"
    assert env.fault.errors[0][0] == code
    assert door.core.calls == []


async def test_a_revoked_client_is_refused(door: Door, registry: ClientRegistry) -> None:
    await registry.revoke("mis-alpha")
    status, _, _ = await door.post(_envelope(_request()))
    assert status == 401


async def test_entity_id_alone_when_the_network_authenticates(registry: ClientRegistry) -> None:
    d, server = await _door(registry, require_token=False)
    try:
        status, body, _ = await d.post(_envelope(_request()), token=None)
    finally:
        await d.session.close()
        await server.close()
    assert status == 200 and _status(body)[0]


@pytest.mark.parametrize(
    ("request_", "envelope_kw", "code"),
    [
        (_request(organization=OTHER_ORG), {}, "ACCESS_DENIED"),
        (_request(kind="58"), {}, "VALIDATION_ERROR"),
        (_request(document=DocumentFile.of(b"<doc/>", inline=False)), {}, "FILE_WAS_NOT_SENT"),
        (_request(), {"message_id": None}, "WRONG_MESSAGE_ID"),
    ],
)
async def test_refusals_speak_remd(
    door: Door, request_: RegisterDocumentRequest, envelope_kw: dict[str, Any], code: str
) -> None:
    status, body, _ = await door.post(_envelope(request_, **envelope_kw))
    assert status == 200
    success, errors = _status(body)
    assert not success and errors[0][0] == code
    assert door.core.calls == []


async def test_schema_problems_are_listed_one_by_one(door: Door) -> None:
    _, body, _ = await door.post(_envelope(_request(kind="58", document_number="x" * 300)))
    success, errors = _status(body)
    assert not success
    assert [code for code, _ in errors] == ["VALIDATION_ERROR", "VALIDATION_ERROR"]
    assert sorted(message.split(":")[0] for _, message in errors) == ["/document_number", "/kind"]


async def test_core_refusals(door: Door) -> None:
    door.core.fail = DuplicateConflict("this local_uid was already submitted with different content")
    status, body, _ = await door.post(_envelope(_request()))
    assert status == 200 and _status(body)[1][0][0] == "NOT_UNIQUE_PROVIDED_ID"
    door.core.fail = StoreError("database unavailable")
    status, body, _ = await door.post(_envelope(_request()))
    assert status == 503
    env = parse_envelope(body)
    assert env.fault is not None and (env.fault.code, env.fault.subcode) == ("Receiver", "STORE_UNAVAILABLE")
    door.core.fail = RuntimeError("bug")
    status, body, _ = await door.post(_envelope(_request()))
    assert status == 500 and parse_envelope(body).fault is not None


async def test_anonymous_reply_to_means_no_callback(door: Door) -> None:
    _, body, _ = await door.post(_envelope(_request(), reply_to=WSA_ANONYMOUS))
    assert _status(body)[0]
    (call,) = door.core.calls
    assert "callback_url" not in call["json"] and call["reply_to"] == WSA_ANONYMOUS


@pytest.mark.parametrize(
    ("body", "status", "subcode"),
    [
        (XXE, 400, "XML_FORBIDDEN_CONSTRUCT"),
        (BILLION_LAUGHS, 400, "XML_FORBIDDEN_CONSTRUCT"),
        (b"<<<", 400, "XML_MALFORMED"),
        (
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>',
            400,  # a fault, never a 5xx: the sender's mistake (issue 14)
            "VERSION_MISMATCH",
        ),
        (build_envelope(codec.build_result_ack(), client_entity_id=ENTITY), 400, "UNKNOWN_OPERATION"),
        (b"<a>" + b"x" * 2_100_000 + b"</a>", 413, "PAYLOAD_TOO_LARGE"),
    ],
)
async def test_malformed_and_hostile_bodies_get_a_fault(door: Door, body: bytes, status: int, subcode: str) -> None:
    started = time.monotonic()
    got, answer, headers = await door.post(body)
    assert time.monotonic() - started < 3
    assert got == status
    assert headers["Content-Type"].startswith("application/soap+xml")
    env = parse_envelope(answer)
    assert env.fault is not None and env.fault.subcode == subcode
    assert b"root:x:0:0" not in answer
    assert door.core.calls == []


async def test_search_answers_from_the_core(door: Door) -> None:
    door.core.registered = [("mis-doc-1", "E-100", T0)]
    req = SearchRegistryItemRequest(ORG, "121", T0 - timedelta(days=1), T0 + timedelta(days=1), "11223344595")
    body = build_envelope(
        codec.build_search_request(req), addressing=Addressing(message_id="s-1"), client_entity_id=ENTITY
    )
    status, answer, _ = await door.post(body)
    assert status == 200
    env = parse_envelope(answer)
    assert env.body is not None and env.addressing.relates_to == "s-1"
    resp = codec.parse_search_response(env.body)
    assert resp.success and [(m.local_uid, m.emdr_id, m.registered_at) for m in resp.matches] == door.core.registered
    assert door.core.searches == [("mis-alpha", ORG, "121", req.begin, req.end, "11223344595")]
    other = SearchRegistryItemRequest(OTHER_ORG, "121", T0, T0)
    body = build_envelope(codec.build_search_request(other), client_entity_id=ENTITY)
    _, answer, _ = await door.post(body)
    env = parse_envelope(answer)
    assert env.body is not None and codec.parse_search_response(env.body).errors[0][0] == "ACCESS_DENIED"


# -- issue 14: authentication before parsing, media types, load shedding ---------------------------


async def test_token_checked_before_the_body_is_parsed(door: Door, monkeypatch: pytest.MonkeyPatch) -> None:
    """A request without a valid token is refused before its body is parsed: a hostile body from
    an unauthenticated sender costs the gateway no parse at all."""
    import adapters.remd.frontdoor as frontdoor

    parsed: list[int] = []
    real = frontdoor.parse_envelope

    def counting(data: bytes, **kw: object) -> object:
        parsed.append(len(data))
        return real(data, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(frontdoor, "parse_envelope", counting)
    for token in (None, "msegw_not-a-token"):
        status, answer, _ = await door.post(_envelope(_request()), token=token)
        env = parse_envelope(answer)
        assert status == 401 and env.fault is not None and env.fault.subcode == "UNAUTHORIZED"
    assert parsed == []
    status, _, _ = await door.post(_envelope(_request()))
    assert status == 200 and len(parsed) == 1


async def test_unknown_entity_refused_by_peek_without_parsing(
    registry: ClientRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without tokens the clientEntityId is inside the body: a bounded peek at the transport header
    refuses an unknown one before the envelope is parsed."""
    import adapters.remd.frontdoor as frontdoor

    parsed: list[int] = []
    real = frontdoor.parse_envelope

    def counting(data: bytes, **kw: object) -> object:
        parsed.append(len(data))
        return real(data, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(frontdoor, "parse_envelope", counting)
    door, server = await _door(registry, require_token=False)
    try:
        forged = _envelope(_request()).replace(ENTITY.encode(), str(uuid.uuid4()).encode())
        status, _, _ = await door.post(forged, token=None)
        assert status == 401 and parsed == []
        status, _, _ = await door.post(_envelope(_request(), entity=None), token=None)
        assert status == 401 and parsed == []
        status, _, _ = await door.post(_envelope(_request()), token=None)
        assert status == 200 and len(parsed) == 1
    finally:
        await door.session.close()
        await server.close()


async def test_media_types(door: Door) -> None:
    envelope = _envelope(_request())
    for content_type in ("application/json", "application/x-www-form-urlencoded", "text/plain"):
        async with door.session.post(
            door.url, data=envelope, headers={"Content-Type": content_type, "X-MSE-Token": door.token}
        ) as resp:
            assert resp.status == 415
            env = parse_envelope(await resp.read())
            assert env.fault is not None and env.fault.subcode == "UNSUPPORTED_MEDIA_TYPE"
    soap11 = b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body/></s:Envelope>'
    async with door.session.post(
        door.url,
        data=soap11,
        headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"x"', "X-MSE-Token": door.token},
    ) as resp:
        assert resp.status == 400  # SOAP 1.1 gets a VersionMismatch fault, not an HTTP 500
        env = parse_envelope(await resp.read())
        assert env.fault is not None and env.fault.code == "VersionMismatch"
    for content_type in ("text/xml", "application/xml"):
        async with door.session.post(
            door.url, data=envelope, headers={"Content-Type": content_type, "X-MSE-Token": door.token}
        ) as resp:
            assert resp.status == 200


async def test_overloaded_budget_sheds_with_a_fault(registry: ClientRegistry) -> None:
    from gateway.wire.budget import BODY_BUDGET_KEY, BodyBudget

    _, token = await registry.add("mis-alpha", [ORG], soap_client_entity_id=ENTITY)
    app = web.Application(client_max_size=30 * 1024 * 1024)
    budget = BodyBudget(3_000_000)
    app[BODY_BUDGET_KEY] = budget
    app.add_routes(FrontDoor(FakeCore(), registry, max_body_bytes=2_000_000).routes())
    async with TestServer(app, host="127.0.0.1") as server, aiohttp.ClientSession() as session:
        headers = {"Content-Type": "application/soap+xml", "X-MSE-Token": token}
        url = server.make_url("/remd/service")
        # Other requests hold all but 100 bytes of it: this one is shed before its body is read.
        async with (
            budget.hold(budget.capacity - 100),
            session.post(url, data=_envelope(_request()), headers=headers) as r,
        ):
            assert r.status == 503 and r.headers["Retry-After"] == "1"
            env = parse_envelope(await r.read())
            assert env.fault is not None and (env.fault.code, env.fault.subcode) == ("Receiver", "OVERLOADED")
        async with session.post(server.make_url("/remd/service"), data=_envelope(_request()), headers=headers) as r:
            assert r.status == 200
        # Markup so dense that its parse could never fit the budget: refused as too large, unparsed.
        dense = _envelope(_request()).replace(b"</soap:Body>", b"<x/>" * 400_000 + b"</soap:Body>")
        async with session.post(server.make_url("/remd/service"), data=dense, headers=headers) as r:
            assert r.status == 413
        assert budget.in_use == 0
