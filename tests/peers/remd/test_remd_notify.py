"""The remd-soap notice channel: an outcome notice reaches the MIS as REMD's registerDocumentResult,
correlated by the MIS's own MessageID, over real HTTP."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from lxml import etree
from remd_kit import ORG, free_port, make_submission

from adapters.remd import CHANNEL, codec, remd_soap_sender
from adapters.remd.notify import notice_message_id
from adapters.remd.soap import parse_envelope
from adapters.remd.wsdl import callback_schema
from gateway.model import PendingNotice, State
from gateway.notices.build import build_notice, encode_notice
from gateway.notices.notifier import DeliveryError

T0 = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)


@dataclass
class Receiver:
    url: str
    bodies: list[bytes] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)
    status: int = 200


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    state = Receiver(url="")

    async def handle(request: web.Request) -> web.Response:
        state.bodies.append(await request.read())
        state.content_types.append(request.headers.get("Content-Type", ""))
        return web.Response(status=state.status, body=b"", content_type="application/soap+xml")

    app = web.Application()
    app.router.add_post("/mis/remd-callback", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    state.url = str(server.make_url("/mis/remd-callback"))
    yield state
    await server.close()


def _notice(
    url: str, state: State = State.REGISTERED, *, origin_ref: str | None = "mis-msg-77", **kw: str
) -> PendingNotice:
    sub, _ = make_submission("mis-doc-77")
    record = replace(sub, state=state, origin="remd-soap", origin_ref=origin_ref, updated_at=T0, callback_url=url, **kw)
    return PendingNotice(
        id=5, submission_id=sub.id, client_id=None, channel=CHANNEL, url=url,
        body=encode_notice(build_notice(record)), attempts=0, created_at=T0,
    )  # fmt: skip


async def test_registered_notice_becomes_a_success_callback(receiver: Receiver) -> None:
    notice = _notice(receiver.url, peer_registration_id="E-77")
    async with aiohttp.ClientSession() as session:
        await remd_soap_sender()(notice, session)
    (body,) = receiver.bodies
    assert receiver.content_types[0].startswith("application/soap+xml")
    env = parse_envelope(body)
    assert env.addressing.relates_to == "mis-msg-77"
    assert env.addressing.message_id == notice_message_id(notice)
    assert env.addressing.action == "sendRegisterDocumentResult"
    assert env.body is not None
    callback_schema().assertValid(etree.ElementTree(copy.deepcopy(env.body)))
    result = codec.parse_register_document_result(env.body)
    assert result.relates_to_message == "mis-msg-77"
    assert (result.success, result.local_uid, result.organization, result.kind) == (True, "mis-doc-77", ORG, "121")
    assert result.registry_item is not None and result.registry_item.emdr_id == "E-77"
    assert result.registry_item.registered_at == T0


async def test_failed_notice_becomes_an_error_callback(receiver: Receiver) -> None:
    notice = _notice(
        receiver.url,
        State.FAILED,
        outcome_code="POSITION_TO_ROLE_MISMATCH",
        outcome_message="Несоответствие должности и роли",
    )
    async with aiohttp.ClientSession() as session:
        await remd_soap_sender()(notice, session)
    env = parse_envelope(receiver.bodies[0])
    assert env.body is not None
    result = codec.parse_register_document_result(env.body)
    assert not result.success and result.registry_item is None
    assert result.errors == (("POSITION_TO_ROLE_MISMATCH", "Несоответствие должности и роли"),)


async def test_the_message_id_is_stable_across_retries(receiver: Receiver) -> None:
    notice = _notice(receiver.url)
    async with aiohttp.ClientSession() as session:
        await remd_soap_sender()(notice, session)
        await remd_soap_sender()(replace(notice, attempts=3), session)
    ids = {parse_envelope(b).addressing.message_id for b in receiver.bodies}
    assert len(ids) == 1 and len(receiver.bodies) == 2


@pytest.mark.parametrize("status", [500, 404, 302])
async def test_non_2xx_is_a_delivery_error(receiver: Receiver, status: int) -> None:
    receiver.status = status
    async with aiohttp.ClientSession() as session:
        with pytest.raises(DeliveryError, match=f"HTTP {status}"):
            await remd_soap_sender()(_notice(receiver.url), session)


async def test_unreachable_receiver_is_a_delivery_error() -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(DeliveryError):
            await remd_soap_sender(timeout_seconds=2)(_notice(f"http://127.0.0.1:{free_port()}/cb"), session)


async def test_a_notice_without_the_mis_message_id_cannot_be_sent(receiver: Receiver) -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(DeliveryError, match="origin_ref"):
            await remd_soap_sender()(_notice(receiver.url, origin_ref=None), session)
    assert receiver.bodies == []
    assert json.loads(_notice(receiver.url).body)["origin"] == "remd-soap"
