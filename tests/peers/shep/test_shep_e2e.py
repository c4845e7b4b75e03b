"""A 031/у through the whole gateway (real journal, SQLite and PostgreSQL) to the ШЭП/ЦБДИ twins
over loopback HTTP: delivered, ЦБДИ's registration on the timeline, the conclusion REGISTERED with
the act number; an answer to a messageId we never sent changes nothing; the client callback is
authenticated by its WS-Security signature."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from aiohttp.test_utils import TestServer
from shep_kit import PASSWORD, SENDER_ID, identity

from adapters.shep import PLUGIN
from adapters.shep import messages as m
from adapters.shep import payload as p
from adapters.shep.codec import ShepCodec, new_session_id
from adapters.shep.sandbox import Delay, FaultProfile, create_twin, twin_of
from gateway.common.clock import SimulatedClock
from gateway.flk.sample_pki import SampleSigners
from gateway.flk.samples import make_submission
from gateway.intake.submission import content_hash
from gateway.journal.inbound import InboundJournal
from gateway.journal.schema import peer_messages, submissions
from gateway.journal.store import Journal
from gateway.model import State, Submission, SubmissionDraft
from gateway.signatures._asn1 import der_to_pem
from gateway.signatures.xml.wssecurity import sign_wssecurity
from gateway.ui.alerts import AlertEvaluator, alerting_codes, measure
from gateway.ui.config import AlertsConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/peers: the contract test kit
from contract.kit import event_rows, gateway_config, inbox_rows, journal_of, running, state_is, until

FAST = FaultProfile(relay_delay=Delay(seconds=0.05), decision_delay=Delay(seconds=0.2))
# A Wednesday 10:00 in Astana: the twin's ЦБДИ works on its own simulated clock.
WEDNESDAY = datetime(2025, 7, 2, 5, 0, tzinfo=UTC)


async def queued_031u(journal: Journal, data: dict[str, Any], callback_url: str | None = None) -> Submission:
    draft = SubmissionDraft(
        source_system=data["source_system"],
        local_uid=data["local_uid"],
        kind=data["kind"],
        organization_oid=data["organization_oid"],
        content_hash=content_hash(data),
        payload=json.dumps(data).encode(),
        callback_url=callback_url,
    )
    sub, _ = await journal.submit(draft)
    async with journal.writing() as conn:
        await conn.execute(
            submissions.update()
            .where(submissions.c.id == sub.id)
            .values(
                state="QUEUED",
                destination="shep",
                next_attempt_at=journal.clock.now(),
                lease_owner=None,
                lease_until=None,
            )
        )
    return await journal.get(sub.id)


def _pem(tmp: Path, name: str, der: bytes) -> str:
    path = tmp / f"{name}.pem"
    path.write_bytes(der_to_pem(der, "CERTIFICATE"))
    return str(path)


def _setup(tmp_path: Path, db_url: str, url: str, gw: Any, tw: Any, trust: SampleSigners | None = None) -> Any:
    key_path = tmp_path / "gw-key.pem"
    key_path.write_bytes(gw[0].to_pem())
    twin_pem = _pem(tmp_path, "twin", tw[1].der)
    peer = {
        "protocol": "shep",
        "url": url,
        "sender_id": SENDER_ID,
        "sender_password": PASSWORD,
        "signing_key_file": str(key_path),
        "signing_certificate_file": _pem(tmp_path, "gw", gw[1].der),
        "trusted_certificates": [twin_pem],
        "auth": {"allow_addresses": ["127.0.0.0/8", "::1/128"], "signer_certificates": [twin_pem]},
        "receive_batch": 5,
    }
    config = gateway_config(tmp_path, {"shep": peer}, "shep", db_url)
    if trust is not None:  # the expert's conclusions verify against the sample PKI
        config = config.with_overrides(validation={"trust_dir": str(trust.directory)})
    return config


def expert_of(signers: SampleSigners) -> Any:
    """ЦБДИ's expert as the sandbox gives the twin: the sample PKI's individual certificate."""
    return signers.key("kz-expert"), signers.certificate("kz-expert"), (signers.pki.ca,)


async def test_031u_reaches_a_conclusion(tmp_path: Path, db_url: str, signers_dir: SampleSigners) -> None:
    gw, tw = identity("gateway MIS"), identity("ШЭП twin", "ecdsa")
    # The twin's clock is the real one here: the expert signs with a sample-PKI certificate
    # issued today, and a conclusion dated before it would rightly not verify.
    app = create_twin(
        FAST,
        SimulatedClock(1.0),
        seed=3,
        identity=tw,
        sender=(SENDER_ID, PASSWORD),
        sender_certificate=gw[1],
        expert=expert_of(signers_dir),
    )
    async with TestServer(app) as server:
        config = _setup(tmp_path, db_url, str(server.make_url("/shep/ws")), gw, tw, signers_dir)
        async with running(config, {"shep": PLUGIN}) as client:
            journal = journal_of(client)
            data = make_submission("kz-031u", 5, signers_dir)
            sub = await queued_031u(journal, data)
            done = await until(
                lambda: state_is(journal, sub.id, State.REGISTERED, State.FAILED, State.DEAD), timeout=30
            )
            assert done.state is State.REGISTERED, done
            assert done.peer_registration_id and done.peer_registration_id.startswith("MSE-")
            timeline = await event_rows(journal, sub.id)
            assert [e.code for e in timeline if e.kind == "progress"] == ["registered-at-cbdi"]
            twin = twin_of(app)
            await until(lambda: _notified(twin, 2))
            assert twin.stats.registered == 1 and twin.stats.duplicates_at_cbdi == 0
            assert len(await inbox_rows(journal, peer="shep")) == 2
            [offered] = await InboundJournal(journal).listing(states=["ACCEPTED"])  # type: ignore[list-item]
            assert offered.kind == "kz-cbdi-conclusion" and offered.submission_id == sub.id


async def _message_id(journal: Journal, sub_id: str) -> str:
    """The messageId the gateway persisted (and sent) for the submission."""
    async with journal.engine.connect() as conn:
        stmt = sa.select(peer_messages.c.message_id).where(peer_messages.c.submission_id == sub_id)
        return str((await conn.execute(stmt)).scalar_one())


async def _notified(twin: Any, n: int) -> bool:
    return bool(twin.stats.notified >= n)


async def test_answer_to_an_unknown_message_id_changes_nothing(tmp_path: Path, db_url: str) -> None:
    gw, tw = identity("gateway MIS"), identity("ШЭП twin", "ecdsa")
    clock = SimulatedClock(1.0, sim_epoch=WEDNESDAY)
    app = create_twin(FAST, clock, seed=4, identity=tw, sender=(SENDER_ID, PASSWORD), sender_certificate=gw[1])
    twin = twin_of(app)
    stray = p.build_refusal(p.Refusal("not-ours", "CBDI_EXAMS_MISSING", {"ru": "x"}, clock.now()))
    twin._enqueue(SENDER_ID, m.MessageType.RESPONSE, "00000000-0000-4000-8000-000000000000", stray, clock.now(), "75")
    async with TestServer(app) as server:
        config = _setup(tmp_path, db_url, str(server.make_url("/shep/ws")), gw, tw)
        async with running(config, {"shep": PLUGIN}) as client:
            journal = journal_of(client)
            await until(lambda: _notified(twin, 1))
            [row] = await inbox_rows(journal, peer="shep")
            assert row.kind == "unattributed"


async def test_client_callback_is_authenticated_and_recorded(
    tmp_path: Path, db_url: str, signers_dir: SampleSigners
) -> None:
    gw, tw = identity("gateway MIS"), identity("ШЭП twin", "ecdsa")
    app = create_twin(
        FaultProfile(relay_delay=Delay(seconds=3600)),
        SimulatedClock(1.0, sim_epoch=WEDNESDAY),
        identity=tw,
        sender=(SENDER_ID, PASSWORD),
        sender_certificate=gw[1],
    )
    async with TestServer(app) as server:
        config = _setup(tmp_path, db_url, str(server.make_url("/shep/ws")), gw, tw)
        async with running(config, {"shep": PLUGIN}) as client:
            journal = journal_of(client)
            sub = await queued_031u(journal, make_submission("kz-031u", 6, signers_dir))
            await until(lambda: state_is(journal, sub.id, State.SENT), timeout=20)
            message_id = await _message_id(journal, sub.id)
            now = datetime.now(UTC)
            notify = m.ChangeStatusNotify(
                "n-1",
                message_id,
                now,
                m.MessageState.DELIVERED,
                "DELIVERED",
                "доставлено",
                now,
                now,
                None,
                new_session_id(),
            )
            body = ShepCodec().build(notify)
            unsigned = await client.post("/shep/callback", data=body, headers={"Content-Type": "text/xml"})
            assert unsigned.status == 403 and b"PEER_SIGNATURE_INVALID" in await unsigned.read()
            signed = sign_wssecurity(body, tw[0], tw[1])
            ok = await client.post("/shep/callback", data=signed, headers={"Content-Type": "text/xml"})
            assert ok.status == 200, await ok.text()
            answer = ShepCodec.parse(await ok.read())
            assert isinstance(answer, m.ChangeStatusNotifyResponse)
            timeline = await event_rows(journal, sub.id)
            assert [e.code for e in timeline if e.kind == "progress"] == ["shep-delivered"]
            assert (await journal.get(sub.id)).state is State.SENT
            forged = signed.replace(b"DELIVERED</messageState>", b"NOT_DELIVERED</messageState>")
            refused = await client.post("/shep/callback", data=forged, headers={"Content-Type": "text/xml"})
            assert refused.status == 403


async def test_wrong_credentials_fail_the_document_and_raise_the_default_alert(
    tmp_path: Path, db_url: str, signers_dir: SampleSigners
) -> None:
    gw, tw = identity("gateway MIS"), identity("ШЭП twin", "ecdsa")
    app = create_twin(
        FAST,
        SimulatedClock(1.0, sim_epoch=WEDNESDAY),
        identity=tw,
        sender=(SENDER_ID, "another"),
        sender_certificate=gw[1],
    )
    async with TestServer(app) as server:
        config = _setup(tmp_path, db_url, str(server.make_url("/shep/ws")), gw, tw)
        async with running(config, {"shep": PLUGIN}) as client:
            journal = journal_of(client)
            sub = await queued_031u(journal, make_submission("kz-031u", 7, signers_dir))
            failed = await until(lambda: state_is(journal, sub.id, State.FAILED), timeout=20)
            assert failed.outcome_code == "SENDER_AUTH_FAILED"
            values = await measure(journal, 0, alerting=alerting_codes(client.app))
            assert values.alerting_refusals == 1
            sent: list[dict[str, Any]] = []

            async def notify(message: dict[str, Any]) -> None:
                sent.append(message)

            evaluator = AlertEvaluator(journal.engine, AlertsConfig(), notify)  # the default rules
            await evaluator.evaluate(values, journal.clock.now())
            assert [(m["alert"], m["status"], m["severity"]) for m in sent] == [
                ("peer-refusals-needing-action", "firing", "critical")
            ]
