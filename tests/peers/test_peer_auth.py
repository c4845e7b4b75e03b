"""Peer-facing endpoints authenticate their callers (issue 14, item 1).

End to end, the sandbox twin signs its callbacks with a certificate the gateway pins and calls
from loopback: documents register. A forged callback — unsigned, signed by another key, or with
its Body changed after signing — is refused with a SOAP fault, recorded as a security event, and
changes nothing. Address allowlists and client certificates passed by a trusted TLS proxy are
checked before the body is read.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from loopback_ports import free_port

from adapters.remd.mapping import build_register_document_result_envelope
from adapters.remd.messages import RegisterDocumentResult, RegistryItem
from gateway.app import create_app
from gateway.appkeys import JOURNAL_KEY
from gateway.cli.serve import refuse_unauthenticated_peers
from gateway.common.clock import SimulatedClock
from gateway.config import load_config
from gateway.flk.samples import make_submission
from gateway.model import State
from gateway.peers.auth import PeerAuthSettings, PeerGuard
from gateway.sandbox.setup import SANDBOX_CLIENT, prepare_sandbox
from gateway.sandbox.simulate import serve_app as _serve
from gateway.sandbox.twins import plan_twins, twin_identity
from gateway.signatures.xml.soap_body import sign_soap_body
from gateway.ui.schema import ui_audit


@asynccontextmanager
async def stack(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    gw_port = free_port()
    clock = SimulatedClock(600.0)
    config = load_config(environ={}).with_overrides(
        server={"port": gw_port, "public_url": f"http://127.0.0.1:{gw_port}"},
        storage={"data_dir": str(tmp_path)},
        workers={"idle_sleep_seconds": 0.05},
        peers={"remd": {"protocol": "remd"}},
    )
    config, (twin,) = plan_twins(config, clock, seed=3)
    assert config.peers["remd"]["auth"]["signer_certificates"]  # the sandbox pins its twin
    config, client, signers = await prepare_sandbox(config)
    gateway = create_app(config, clock=clock)
    async with _serve(twin.app, twin.port), _serve(gateway, gw_port):
        yield {
            "base": f"http://127.0.0.1:{gw_port}",
            "token": client.token,
            "journal": gateway[JOURNAL_KEY],
            "signers": signers,
        }


async def _registered(env: dict[str, Any]) -> Any:
    body = make_submission("35", 424_242, env["signers"], source_system=SANDBOX_CLIENT)
    headers = {"Authorization": f"Bearer {env['token']}"}
    url = f"{env['base']}/api/v1/submissions"
    async with aiohttp.ClientSession() as http, http.post(url, json=body, headers=headers) as resp:
        assert resp.status == 202, await resp.text()
    journal = env["journal"]
    for _ in range(300):
        sub = await journal.find(SANDBOX_CLIENT, body["local_uid"])
        if sub is not None and sub.state is State.REGISTERED:
            return sub
        await asyncio.sleep(0.1)
    raise AssertionError(f"not registered: {sub}")


def _forged_error(sub: Any) -> bytes:
    result = RegisterDocumentResult(
        relates_to_message=str(uuid.uuid4()),
        success=False,
        kind=sub.kind,
        organization=sub.organization_oid,
        local_uid=sub.local_uid,
        errors=(("SIGNATURE_VERIFICATION_ERROR", "forged"),),
    )
    return build_register_document_result_envelope(result, message_id=str(uuid.uuid4()), to=None, relates_to=None)


def _forged_success(sub: Any) -> bytes:
    result = RegisterDocumentResult(
        relates_to_message=str(uuid.uuid4()),
        success=True,
        kind=sub.kind,
        organization=sub.organization_oid,
        local_uid=sub.local_uid,
        registry_item=RegistryItem(emdr_id="forged-emdr-id", registered_at=datetime.now(UTC)),
    )
    return build_register_document_result_envelope(result, message_id=str(uuid.uuid4()), to=None, relates_to=None)


async def _post(env: dict[str, Any], body: bytes) -> tuple[int, str]:
    headers = {"Content-Type": "application/soap+xml; charset=utf-8"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{env['base']}/remd/callback", data=body, headers=headers) as r,
    ):
        return r.status, await r.text()


async def test_signed_callbacks_register_and_forged_ones_change_nothing(tmp_path: Path) -> None:
    async with stack(tmp_path) as env:
        sub = await _registered(env)  # the twin's signed callbacks were accepted
        journal = env["journal"]
        events_before = len(await journal.events(sub.id))

        other_key, other_cert, _ = twin_identity(tmp_path / "intruder", "intruder")
        forged = {
            "unsigned": _forged_error(sub),
            "another key": sign_soap_body(_forged_error(sub), other_key, other_cert),
            "success by another key": sign_soap_body(_forged_success(sub), other_key, other_cert),
        }
        for what, body in forged.items():
            status, text = await _post(env, body)
            assert status == 403, what
            assert "PEER_SIGNATURE_INVALID" in text, what

        after = await journal.get(sub.id)
        assert after.state is State.REGISTERED and after.peer_registration_id == sub.peer_registration_id
        assert len(await journal.events(sub.id)) == events_before  # not even a note
        async with journal.engine.connect() as conn:
            rows = (await conn.execute(sa.select(ui_audit).where(ui_audit.c.action == "peer-call-refused"))).all()
        assert len(rows) == 3 and {r.username for r in rows} == {"peer:remd"}
        assert all(r.outcome == "PEER_SIGNATURE_INVALID" for r in rows)
        assert sub.local_uid not in " ".join(r.comment for r in rows)  # no message content in the event


async def test_a_body_changed_after_signing_is_refused(tmp_path: Path) -> None:
    key, cert, path = twin_identity(tmp_path, "peer")

    class Sub:
        kind, organization_oid, local_uid = "35", "1.2.643.5.1.13.13.12.2.77.1", "uid-1"

    signed = sign_soap_body(_forged_error(Sub()), key, cert)
    tampered = signed.replace(b"forged", b"tampered")
    guard = PeerGuard("remd", PeerAuthSettings(signer_certificates=[str(path)]))
    from gateway.wire.safexml import parse_xml

    assert guard.check_message(parse_xml(signed)) is None
    refusal = guard.check_message(parse_xml(tampered))
    assert refusal is not None and refusal.code == "PEER_SIGNATURE_INVALID"
    assert "does not match" in refusal.reason
    success = sign_soap_body(_forged_success(Sub()), key, cert)
    assert guard.check_message(parse_xml(success)) is None


def _request(remote: str, headers: dict[str, str] | None = None) -> web.Request:
    req = make_mocked_request("POST", "/remd/callback", headers=headers or {})
    # make_mocked_request has no peer address: give it one the way aiohttp's transport would.
    return req.clone(remote=remote)


@pytest.mark.parametrize(
    ("remote", "forwarded", "allowed"),
    [
        ("10.1.2.3", None, True),
        ("192.168.0.5", None, False),
        ("127.0.0.1", "10.9.9.9", True),  # behind the trusted proxy: the forwarded client counts
        ("127.0.0.1", "192.168.0.5", False),
        ("192.168.0.5", "10.9.9.9", False),  # X-Forwarded-For from an untrusted caller is ignored
    ],
)
def test_address_allowlist(remote: str, forwarded: str | None, allowed: bool) -> None:
    guard = PeerGuard("gis-77", PeerAuthSettings(allow_addresses=["10.0.0.0/8"], trusted_proxies=["127.0.0.1/32"]))
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    refusal = guard.check_request(_request(remote, headers))
    assert (refusal is None) is allowed
    if refusal is not None:
        assert refusal.code == "PEER_ADDRESS_NOT_ALLOWED"


def test_client_certificate_from_a_trusted_proxy_only() -> None:
    fingerprint = "AB:CD:" + "00:" * 29 + "EF"
    settings = PeerAuthSettings(
        client_cert_header="X-Client-Cert-SHA256",
        client_cert_fingerprints=[fingerprint],
        trusted_proxies=["127.0.0.1/32"],
    )
    guard = PeerGuard("remd", settings)
    header = {"X-Client-Cert-SHA256": fingerprint.replace(":", "").lower()}
    assert guard.check_request(_request("127.0.0.1", header)) is None
    wrong = guard.check_request(_request("127.0.0.1", {"X-Client-Cert-SHA256": "00" * 32}))
    assert wrong is not None and wrong.code == "PEER_CERTIFICATE_UNKNOWN"
    spoofed = guard.check_request(_request("203.0.113.7", header))  # not through the proxy
    assert spoofed is not None and spoofed.code == "PEER_CERTIFICATE_UNKNOWN"
    missing = guard.check_request(_request("127.0.0.1"))
    assert missing is not None


def test_serve_refuses_unauthenticated_peers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = load_config(environ={}).with_overrides(storage={"data_dir": str(tmp_path)})
    with pytest.raises(SystemExit) as info:
        refuse_unauthenticated_peers(config)
    assert info.value.code == 2
    assert "peers.remd.auth" in capsys.readouterr().err
    explicit = config.with_overrides(peers={"remd": {"auth": {"allow_unauthenticated": True}}})
    refuse_unauthenticated_peers(explicit)  # said explicitly: starts (and warns)
    allowed = config.with_overrides(peers={"remd": {"auth": {"allow_addresses": ["10.0.0.0/8"]}}})
    refuse_unauthenticated_peers(allowed)


def test_a_peer_without_endpoints_needs_no_auth_to_be_served(tmp_path: Path) -> None:
    """SMEV 3 polls and is never called: ``serve`` starts without auth settings for it (it used
    to refuse, which made a production SMEV 3 instance need a meaningless allow-list)."""
    config = load_config(environ={}).with_overrides(
        storage={"data_dir": str(tmp_path)},
        peers={"remd": {"auth": {"allow_addresses": ["10.0.0.0/8"]}}, "smev": {"protocol": "smev3"}},
    )
    refuse_unauthenticated_peers(config)


def test_a_pinned_certificate_that_cannot_be_read_stops_the_start(tmp_path: Path) -> None:
    config = load_config(environ={}).with_overrides(
        storage={"data_dir": str(tmp_path)},
        peers={"remd": {"auth": {"signer_certificates": [str(tmp_path / "missing.pem")]}}},
    )
    from gateway.errors import ConfigError

    with pytest.raises(ConfigError, match=r"peers\.remd\.auth\.signer_certificates: cannot read"):
        create_app(config)
