"""The outbound allowlist (SSRF, issue 14 finding 7): callback_url (REST) and wsa:ReplyTo (REMD SOAP
front door) are refused at intake with a coded 422 unless the host is registered for the client or
allowed globally, and non-public addresses unless allowed explicitly; at send time a name that now
resolves to a forbidden address is refused by the notifier's resolver (DNS rebinding)."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer

from adapters.remd import codec
from adapters.remd.messages import (
    CodedValue,
    DocumentFile,
    Patient,
    PersonalSignature,
    RegisterDocumentRequest,
    SignatureData,
    Signer,
)
from adapters.remd.soap import Addressing, build_envelope, parse_envelope
from gateway.appkeys import CLIENTS_KEY
from gateway.journal.schema import notifications
from gateway.journal.store import SearchQuery
from gateway.wire.outbound import CallbackPolicy, GuardedResolver, forbidden_address_reason

from .conftest import DOC, ORG, start_gateway, submission
from .test_rest import wait_state

STRICT = {"security": {"callback_hosts": [], "allow_private_callbacks": False}}


# -- the rule itself ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:8080/cb", "loopback"),
        ("http://[::1]/cb", "loopback"),
        ("http://[::ffff:127.0.0.1]/cb", "loopback"),  # IPv4-mapped: judged by where packets go
        ("http://localhost/cb", "loopback"),
        ("http://api.localhost/cb", "loopback"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),  # cloud metadata service
        ("http://10.1.2.3/cb", "private"),
        ("http://192.168.0.10/cb", "private"),
        ("http://0.0.0.0/cb", "unspecified"),
        ("http://224.0.0.1/cb", "multicast"),
        ("http://100.64.0.1/cb", "not globally routable"),  # carrier-grade NAT
    ],
)
def test_non_public_addresses_are_refused_even_when_listed(url: str, reason: str) -> None:
    policy = CallbackPolicy(global_hosts=("*",))
    refusal = policy.refusal(url)
    assert refusal is not None and reason in refusal
    assert CallbackPolicy(global_hosts=("*",), allow_private=True).refusal(url) is None


@pytest.mark.parametrize(
    ("url", "client_hosts", "allowed"),
    [
        ("https://mis.example.org/cb", ("mis.example.org",), True),
        ("https://MIS.Example.org./cb", ("mis.example.org",), True),
        ("https://evil.example.com/cb", ("mis.example.org",), False),
        ("https://a.mis.example.org/cb", ("*.mis.example.org",), True),
        ("https://mis.example.org/cb", ("*.mis.example.org",), False),  # the wildcard is for subdomains
        ("https://xmis.example.org/cb", ("*.mis.example.org",), False),
        ("https://gis.region.ru/cb", (), True),  # the global list
        ("ftp://mis.example.org/cb", ("mis.example.org",), False),
        ("file:///etc/passwd", ("*",), False),
        ("gopher://mis.example.org/", ("mis.example.org",), False),
        ("http:///cb", ("*",), False),
        ("http://mis.example.org:99999/cb", ("mis.example.org",), False),
        ("https://8.8.8.8/cb", ("8.8.8.8",), True),
    ],
)
def test_hosts_must_be_registered(url: str, client_hosts: tuple[str, ...], allowed: bool) -> None:
    policy = CallbackPolicy(global_hosts=("gis.region.ru",))
    assert (policy.refusal(url, client_hosts) is None) is allowed


def test_public_addresses_are_not_flagged() -> None:
    assert forbidden_address_reason("8.8.8.8") is None
    assert forbidden_address_reason("2a00:1450:4010:c0e::64") is None
    assert forbidden_address_reason("not-an-ip") is None


# -- REST intake ---------------------------------------------------------------------------------


async def _post(gw: Any, **overrides: Any) -> tuple[int, dict[str, Any]]:
    resp = await gw.client.post("/api/v1/submissions", json=submission(**overrides), headers=gw.auth)
    return resp.status, await resp.json()


async def test_rest_refuses_loopback_and_unregistered_callbacks(tmp_path: Path) -> None:
    async with start_gateway(tmp_path, **STRICT) as gw:
        for url in (
            "http://127.0.0.1:9/cb",
            "http://localhost/cb",
            "http://169.254.169.254/",
            "https://mis.example.org/",
        ):
            status, body = await _post(gw, callback_url=url)
            assert status == 422, (url, body)
            assert body["error"]["code"] == "CALLBACK_NOT_ALLOWED"
            assert body["error"]["details"]["errors"][0]["field"] == "/callback_url"
        # nothing was journalled for any of them
        items, _ = await gw.journal.search(_everything())
        assert items == []
        # registering the host for this client makes the same URL acceptable at once
        await gw.client.server.app[CLIENTS_KEY].set_callback_hosts("mis-alpha", ["mis.example.org"])
        status, body = await _post(gw, callback_url="https://mis.example.org/cb")
        assert status == 202, body
        # no callback at all needs no allowlist
        status, _ = await _post(gw)
        assert status == 202


async def test_rest_listed_loopback_needs_allow_private(tmp_path: Path) -> None:
    async with start_gateway(
        tmp_path, security={"callback_hosts": ["127.0.0.1"], "allow_private_callbacks": False}
    ) as gw:
        status, body = await _post(gw, callback_url="http://127.0.0.1:9/cb")
        assert status == 422 and "loopback" in body["error"]["message"]


def _everything() -> SearchQuery:
    return SearchQuery(source_system="mis-alpha", limit=50)


# -- SOAP front door (wsa:ReplyTo) ---------------------------------------------------------------


def _register_envelope(reply_to: str, entity: str) -> bytes:
    req = RegisterDocumentRequest(
        local_uid=str(uuid.uuid4()),
        kind="121",
        organization=ORG,
        creation_datetime=datetime(2026, 11, 20, 7, 0, tzinfo=UTC),
        document=DocumentFile.of(DOC.encode()),
        patient=Patient(snils="11223344595"),
        org_signature=SignatureData.of(b"\x30\x82" + b"o" * 300),
        personal_signatures=(
            PersonalSignature(
                Signer(local_id="d1", snils="12345678964", role=CodedValue("AUTHOR", "2.4")),
                SignatureData.of(b"\x30\x82" + b"p" * 200),
            ),
        ),
    )
    return build_envelope(
        codec.build_register_document_request(req),
        addressing=Addressing(message_id=f"mis-{uuid.uuid4()}", action="registerDocument", reply_to=reply_to),
        client_entity_id=entity,
    )


async def test_soap_front_door_refuses_a_loopback_reply_to(tmp_path: Path) -> None:
    async with start_gateway(tmp_path, **STRICT) as gw:
        registry = gw.client.server.app[CLIENTS_KEY]
        entity = str(uuid.uuid4())
        _, token = await registry.add(
            "mis-soap", [ORG], soap_client_entity_id=entity, callback_hosts=["mis.example.org"]
        )
        headers = {"Content-Type": "application/soap+xml; charset=utf-8", "X-MSE-Token": token}

        async def register(reply_to: str) -> tuple[bool, tuple[tuple[str, str], ...]]:
            resp = await gw.client.post("/remd/service", data=_register_envelope(reply_to, entity), headers=headers)
            env = parse_envelope(await resp.read())
            assert env.body is not None, env.fault
            answer = codec.parse_register_document_response(env.body)
            return answer.success, answer.errors

        ok, errors = await register("http://127.0.0.1:8080/internal-admin")
        assert not ok
        assert errors[0][0] == "VALIDATION_ERROR" and "wsa:ReplyTo" in errors[0][1], errors
        ok, errors = await register("https://mis.example.org/remd-callback")
        assert ok, errors


# -- send time: the resolver guards the address actually connected to -----------------------------


@pytest.fixture
def loopback_name() -> Iterator[str]:
    """A host *name* (not an IP literal, not "localhost") that resolves to a loopback or private
    address on this machine — the machine's own name, as /etc/hosts maps it."""
    name = socket.gethostname()
    try:
        addresses = {ai[4][0] for ai in socket.getaddrinfo(name, 80, proto=socket.IPPROTO_TCP)}
    except OSError:
        pytest.skip(f"{name!r} does not resolve here")
    if not all(forbidden_address_reason(str(a)) for a in addresses):
        pytest.skip(f"{name!r} resolves to a public address here: {addresses}")
    yield name


async def test_a_name_resolving_to_loopback_is_refused_at_send_time(tmp_path: Path, loopback_name: str) -> None:
    hits: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(status=204)

    receiver = web.Application()
    receiver.router.add_post("/cb", handle)
    async with TestServer(receiver, host="0.0.0.0") as server:  # noqa: S104 - reachable under the machine's name
        url = f"http://{loopback_name}:{server.port}/cb"
        # The name passes intake (names are not resolved there) ...
        async with start_gateway(
            tmp_path, security={"callback_hosts": [loopback_name], "allow_private_callbacks": False}
        ) as gw:
            status, body = await _post(gw, document="<broken", callback_url=url)  # rejected: a final state
            assert status == 202, body
            await wait_state(gw, body["id"], "REJECTED")
            # ... and fails at every send: the resolver refuses the loopback answer.
            error = await _notice_error(gw, body["id"])
            assert "resolves to" in error and "loopback" in error, error
            assert hits == []
        # Control: with private callbacks allowed the same notice goes through.
        async with start_gateway(
            tmp_path / "allowed", security={"callback_hosts": [loopback_name], "allow_private_callbacks": True}
        ) as gw:
            status, body = await _post(gw, document="<broken", callback_url=url)
            assert status == 202
            deadline = asyncio.get_running_loop().time() + 20
            while not hits:
                assert asyncio.get_running_loop().time() < deadline, "notice never arrived"
                await asyncio.sleep(0.05)


async def _notice_error(gw: Any, submission_id: str, timeout: float = 20) -> str:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with gw.journal.engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(notifications.c.last_error).where(notifications.c.submission_id == submission_id)
                )
            ).first()
        if row is not None and row[0]:
            return str(row[0])
        assert asyncio.get_running_loop().time() < deadline, "no failed delivery recorded"
        await asyncio.sleep(0.05)


class _Rebinding(AbstractResolver):
    """A DNS server under the attacker's control: a public address first, loopback afterwards."""

    def __init__(self) -> None:
        self.answers = ["93.184.216.34", "127.0.0.1"]

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        address = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return [{"hostname": host, "host": address, "port": port, "family": family, "proto": 0, "flags": 0}]

    async def close(self) -> None:
        return None


async def test_dns_rebinding_is_refused_at_connect() -> None:
    rebinding = _Rebinding()
    assert (await rebinding.resolve("cb.attacker.example"))[0]["host"] == "93.184.216.34"  # what intake would see
    resolver = GuardedResolver(allow_private=False, inner=rebinding)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=resolver)) as session:
        with pytest.raises(aiohttp.ClientConnectorError) as info:
            await session.post("http://cb.attacker.example:9/cb", data=b"{}")
    assert "127.0.0.1" in str(info.value) and "loopback" in str(info.value)


async def test_a_notice_to_a_host_no_longer_registered_is_given_up(tmp_path: Path) -> None:
    async with start_gateway(tmp_path, **STRICT) as gw:
        registry = gw.client.server.app[CLIENTS_KEY]
        await registry.set_callback_hosts("mis-alpha", ["mis.example.org"])
        status, body = await _post(gw, document="<broken", callback_url="https://mis.example.org/cb")
        assert status == 202
        await wait_state(gw, body["id"], "REJECTED")
        await _notice_error(gw, body["id"])  # a first attempt failed (the name does not resolve here)
        await registry.set_callback_hosts("mis-alpha", [])  # the operator withdrew the host
        deadline = asyncio.get_running_loop().time() + 20
        while True:  # the next attempt gives the notice up for the operators instead of retrying
            async with gw.journal.engine.connect() as conn:
                state, error = (
                    await conn.execute(
                        sa.select(notifications.c.state, notifications.c.last_error).where(
                            notifications.c.submission_id == body["id"]
                        )
                    )
                ).one()
            if state == "dead":
                break
            assert asyncio.get_running_loop().time() < deadline, (state, error)
            await asyncio.sleep(0.05)
        assert "callback address refused" in error
