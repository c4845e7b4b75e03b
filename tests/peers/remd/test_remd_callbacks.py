"""The endpoints REMD calls on the gateway, over real HTTP: callbacks acknowledged only once the
sink returned, faults (with codes) for anything unusable, getDocumentFile answers."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from remd_kit import ORG, Sink
from test_remd_soap import BILLION_LAUGHS, XXE

from adapters.remd import codec
from adapters.remd.callbacks import callback_routes
from adapters.remd.mapping import build_register_document_result_envelope
from adapters.remd.messages import GetDocumentFileRequest, RegisterDocumentResult, RegistryItem, checksum
from adapters.remd.soap import SOAP12_CONTENT_TYPE, Addressing, build_envelope, parse_envelope
from gateway.errors import NotFound, StoreError

T0 = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)


class Endpoint:
    def __init__(self, base: str, session: aiohttp.ClientSession, sink: Sink) -> None:
        self.base = base
        self.session = session
        self.sink = sink

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        async with self.session.post(self.base + path, data=body, headers={"Content-Type": SOAP12_CONTENT_TYPE}) as r:
            return r.status, await r.read()


@pytest.fixture
async def endpoint() -> AsyncIterator[Endpoint]:
    store = {"u-known": b"<ClinicalDocument/>"}

    async def source(local_uid: str, organization: str) -> bytes | None:
        if local_uid == "u-broken":
            raise RuntimeError("disk on fire")
        return store.get(local_uid) if organization == ORG else None

    sink = Sink()
    app = web.Application()
    app.add_routes(callback_routes(sink, document_source=source, max_bytes=200_000))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession() as session:
        yield Endpoint(str(server.make_url("")).rstrip("/"), session, sink)
    await server.close()


def _callback(success: bool = True) -> bytes:
    result = RegisterDocumentResult(
        "our-message-1",
        success,
        "121",
        ORG,
        "u-1",
        registry_item=RegistryItem("E-1", T0) if success else None,
        errors=() if success else (("INVALID_CONTENT", "формат"),),
    )
    return build_register_document_result_envelope(result, message_id="remd-msg-9", to="x", relates_to="our-message-1")


async def test_a_callback_is_recorded_then_acknowledged(endpoint: Endpoint) -> None:
    body = _callback()
    status, answer = await endpoint.post("/remd/callback", body)
    assert status == 200
    env = parse_envelope(answer)
    assert env.body is not None and codec.parse_result_ack(env.body) is True
    assert env.addressing.relates_to == "remd-msg-9"
    (outcome,) = endpoint.sink.outcomes
    assert (outcome.local_uid, outcome.success, outcome.peer_registration_id) == ("u-1", True, "E-1")
    assert outcome.envelopes[0].body == body and outcome.envelopes[1].body == answer


@pytest.mark.parametrize(
    ("failure", "status", "subcode"),
    [
        (StoreError("database down"), 500, "STORE_UNAVAILABLE"),  # Receiver fault: REMD may retry
        (NotFound("no such document"), 400, "NOT_FOUND"),  # Sender fault: retrying will not help
        (RuntimeError("bug"), 500, "INTERNAL_ERROR"),
    ],
)
async def test_a_callback_the_core_could_not_record_is_not_acknowledged(
    endpoint: Endpoint, failure: Exception, status: int, subcode: str
) -> None:
    endpoint.sink.fail_with = failure
    got_status, answer = await endpoint.post("/remd/callback", _callback())
    env = parse_envelope(answer)
    assert env.fault is not None and env.fault.subcode == subcode
    assert got_status == status
    assert endpoint.sink.outcomes == []


@pytest.mark.parametrize(
    ("body", "subcode"),
    [
        (XXE, "XML_FORBIDDEN_CONSTRUCT"),
        (BILLION_LAUGHS, "XML_FORBIDDEN_CONSTRUCT"),
        (b"garbage", "XML_MALFORMED"),
        (build_envelope(codec.build_result_ack()), "UNKNOWN_OPERATION"),
        (
            build_envelope(
                codec.build_register_document_result(RegisterDocumentResult("m", True, "121", ORG, "u"))
            ).replace(b"<cb:localUid>u</cb:localUid>", b""),
            "SCHEMA_INVALID",
        ),
    ],
)
async def test_unusable_bodies_get_a_coded_fault(endpoint: Endpoint, body: bytes, subcode: str) -> None:
    started = time.monotonic()
    status, answer = await endpoint.post("/remd/callback", body)
    assert time.monotonic() - started < 2
    assert status == 400
    env = parse_envelope(answer)
    assert env.fault is not None and env.fault.code == "Sender" and env.fault.subcode == subcode
    assert b"root:" not in answer
    assert endpoint.sink.outcomes == []


async def test_an_oversize_body_is_refused(endpoint: Endpoint) -> None:
    status, answer = await endpoint.post("/remd/callback", b"<a>" + b"x" * 300_000 + b"</a>")
    assert status == 413
    env = parse_envelope(answer)
    assert env.fault is not None and env.fault.subcode == "PAYLOAD_TOO_LARGE"


def _pull(local_uid: str) -> bytes:
    req = codec.build_get_document_file_request(GetDocumentFileRequest(local_uid, ORG, "121"))
    return build_envelope(req, addressing=Addressing(message_id="pull-1", action="getDocumentFile"))


@pytest.mark.parametrize("path", ["/remd/getDocumentFile", "/remd/callback"])
async def test_get_document_file(endpoint: Endpoint, path: str) -> None:
    status, answer = await endpoint.post(path, _pull("u-known"))
    assert status == 200
    env = parse_envelope(answer)
    assert env.body is not None and env.addressing.relates_to == "pull-1"
    resp = codec.parse_get_document_file_response(env.body)
    assert resp.success and resp.document is not None
    assert resp.document.data == b"<ClinicalDocument/>"
    assert resp.document.checksum == checksum(b"<ClinicalDocument/>")


@pytest.mark.parametrize(("local_uid", "code"), [("u-unknown", "FILE_WAS_NOT_SENT"), ("u-broken", "RMIS_ERROR")])
async def test_get_document_file_errors(endpoint: Endpoint, local_uid: str, code: str) -> None:
    status, answer = await endpoint.post("/remd/getDocumentFile", _pull(local_uid))
    assert status == 200
    env = parse_envelope(answer)
    assert env.body is not None
    resp = codec.parse_get_document_file_response(env.body)
    assert not resp.success and resp.errors[0][0] == code


async def test_get_document_file_without_a_source() -> None:
    app = web.Application()
    app.add_routes(callback_routes(Sink(), document_source=None))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.post(str(server.make_url("/remd/getDocumentFile")), data=_pull("u-known")) as r,
        ):
            env = parse_envelope(await r.read())
    finally:
        await server.close()
    assert env.body is not None
    assert codec.parse_get_document_file_response(env.body).errors[0][0] == "FILE_WAS_NOT_SENT"
