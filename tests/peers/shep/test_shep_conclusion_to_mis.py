"""Issue 17 item 6: ЦБДИ's conclusion back to the MIS, through the whole gateway (real journal,
SQLite and PostgreSQL) and the ШЭП/ЦБДИ twins over loopback HTTP.

The AsyncChannel receive path hands every conclusion to the inbound path before its delivery
notification: verified (the expert's enveloped KZ GOST 2015 XMLDSig, the role policy), linked to the
031/у, offered to the MIS by the HMAC webhook and ``GET /api/v1/inbox`` with its Russian and Kazakh
texts — once, however often ШЭП redelivers it. A conclusion with an altered text, signed by someone
else, naming an unknown 031/у or without its expert is journalled, flagged and never applied."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer
from lxml import etree
from mis_webhook import MisWebhook, mis_webhook
from shep_kit import PASSWORD, SENDER_ID, identity
from test_shep_e2e import _setup, expert_of, queued_031u

from adapters.shep import PLUGIN
from adapters.shep import messages as m
from adapters.shep.sandbox import Delay, FaultProfile, Probabilities, ShepTwin, create_twin, twin_of
from gateway.appkeys import CLIENTS_KEY
from gateway.common.clock import SimulatedClock
from gateway.documents.kz_conclusion import Conclusion, build_conclusion
from gateway.flk.sample_pki import SampleSigners
from gateway.flk.samples import make_submission
from gateway.journal.inbound import InboundJournal
from gateway.journal.store import Journal
from gateway.model import State
from gateway.signatures.xml.sign import sign_xml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/peers: the contract test kit
from contract.kit import event_rows, inbox_rows, journal_of, running, state_is, until

TOKEN = "msegw_kz-mis-token"
MIS = "mis-kz"
SEEDS = range(1, 16)  # the 031/у of these seeds are sent by this MIS
FAST = FaultProfile(relay_delay=Delay(seconds=0.05), decision_delay=Delay(seconds=0.2))


@dataclass
class Run:
    client: Any
    journal: Journal
    twin: ShepTwin
    hook: MisWebhook
    callback_key: bytes

    async def inbox(self) -> list[dict[str, Any]]:
        resp = await self.client.get("/api/v1/inbox", headers={"Authorization": f"Bearer {TOKEN}"})
        assert resp.status == 200, await resp.text()
        items: list[dict[str, Any]] = (await resp.json())["items"]
        return items

    async def send(self, signers: SampleSigners, seed: int) -> Any:
        data = make_submission("kz-031u", seed, signers, source_system=MIS)
        return await queued_031u(self.journal, data, callback_url=self.hook.url)


@contextlib.asynccontextmanager
async def gateway(
    tmp_path: Path, db_url: str, signers: SampleSigners, profile: FaultProfile, **twin: Any
) -> AsyncIterator[Run]:
    gw, tw = identity("gateway MIS"), identity("ШЭП twin", "ecdsa")
    twin.setdefault("expert", expert_of(signers))
    app = create_twin(
        profile,
        SimulatedClock(1.0),
        seed=7,
        identity=tw,
        sender=(SENDER_ID, PASSWORD),
        sender_certificate=gw[1],
        **twin,
    )
    async with mis_webhook() as hook, TestServer(app) as server:
        config = _setup(tmp_path, db_url, str(server.make_url("/shep/ws")), gw, tw, signers).with_overrides(
            security={"callback_hosts": ["127.0.0.1"], "allow_private_callbacks": True},
            notifications={"backoff_base_seconds": 0.05, "backoff_cap_seconds": 0.2},
        )
        async with running(config, {"shep": PLUGIN}) as client:
            registry = client.app[CLIENTS_KEY]
            orgs = sorted({make_submission("kz-031u", seed, signers)["organization_oid"] for seed in SEEDS})
            mis, _ = await registry.add(MIS, orgs, token=TOKEN)
            await registry.set_callback_hosts(MIS, ["127.0.0.1"])
            key = await registry.callback_key(mis.id)
            yield Run(client, journal_of(client), twin_of(app), hook, key)


async def _inbound(journal: Journal, **kw: Any) -> list[Any]:
    return list(await InboundJournal(journal).listing(**kw))


async def test_the_conclusion_reaches_the_mis_once_in_russian_and_kazakh(
    tmp_path: Path, db_url: str, signers_dir: SampleSigners
) -> None:
    # Every delivery notification is lost: ШЭП delivers each message again and again.
    profile = FAST.model_copy(update={"probabilities": Probabilities(lost_notification=1.0), "redelivery_seconds": 0.3})
    async with gateway(tmp_path, db_url, signers_dir, profile) as run:
        sub = await run.send(signers_dir, 11)
        done = await until(lambda: state_is(run.journal, sub.id, State.REGISTERED, State.FAILED), timeout=30)
        assert done.state is State.REGISTERED, done
        await until(lambda: _redelivered(run.twin, 4), timeout=30)
        [doc] = await _inbound(run.journal)
        assert doc.state == "ACCEPTED" and doc.kind == "kz-cbdi-conclusion" and doc.submission_id == sub.id
        assert doc.local_uid == done.peer_registration_id  # the act number
        [item] = await run.inbox()
        assert item["id"] == doc.id and item["referral"]["local_uid"] == sub.local_uid
        texts = item["summary"]["texts"]
        assert set(texts) == {"ru", "kk"} and all(texts.values())
        signed = base64.b64decode(item["document"])
        for text in texts.values():
            assert text.encode() in signed  # the texts are the signed document's
        # The webhook: one HMAC-signed notice for the conclusion, however many redeliveries.
        hooked = await until(lambda: _hooked(run.hook, 1), timeout=20)
        [(headers, body)] = hooked
        assert body["id"] == doc.id and body["summary"]["texts"] == texts
        raw = next(b for h, b in run.hook.received if json.loads(b).get("event") == "inbound.document")
        mac = hmac.new(run.callback_key, headers["X-MSE-Timestamp"].encode() + b"." + raw, hashlib.sha256)
        assert headers["X-MSE-Signature"] == "sha256=" + mac.hexdigest()
        # ШЭП's messages (registration notice, conclusion) each recorded once in the peer inbox.
        assert len(await inbox_rows(run.journal, peer="shep")) == 2
        acked = await run.client.post(
            "/api/v1/inbox/ack", json={"ids": [doc.id]}, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert (await acked.json())["acknowledged"] == [doc.id]
        assert await run.inbox() == []
        assert len(run.hook.documents()) == 1


async def _redelivered(twin: ShepTwin, n: int) -> bool:
    return twin.stats.redelivered >= n


async def _hooked(hook: MisWebhook, n: int) -> list[tuple[dict[str, str], dict[str, Any]]] | None:
    found = hook.documents()
    return found if len(found) >= n else None


async def _held(run: Run, sub_id: str, reason: str) -> Any:
    docs = await _inbound(run.journal)
    assert len(docs) <= 1
    if not docs:
        return None
    [doc] = docs
    assert (doc.state, doc.reason_code) == ("FLAGGED", reason), doc
    await until(lambda: _notified(run.twin), timeout=20)
    assert (await run.journal.get(sub_id)).state is not State.REGISTERED  # never applied
    assert await run.inbox() == []  # never offered
    return doc


async def _notified(twin: ShepTwin) -> bool:
    return twin.stats.notified >= 2  # the registration notice and the conclusion


async def test_an_altered_conclusion_is_flagged_and_never_applied(
    tmp_path: Path, db_url: str, signers_dir: SampleSigners
) -> None:
    profile = FAST.model_copy(update={"probabilities": Probabilities(bad_expert_signature=1.0)})
    async with gateway(tmp_path, db_url, signers_dir, profile) as run:
        sub = await run.send(signers_dir, 12)
        doc = await until(lambda: _held(run, sub.id, "INBOUND_SIGNATURE_INVALID"), timeout=30)
        assert doc.submission_id == sub.id
        timeline = await event_rows(run.journal, sub.id)
        [held] = [e for e in timeline if e.kind == "outcome-held"]
        assert held.code == "INBOUND_SIGNATURE_INVALID"
        assert run.twin.stats.bad_expert_signatures == 1
        assert run.hook.documents() == []
        # An operator releases the conclusion: the held outcome is applied with it, and the
        # conclusion is offered to the MIS.
        await InboundJournal(run.journal).release(doc.id, "operator:test", "checked by phone with ЦБДИ")
        done = await run.journal.get(sub.id)
        assert done.state is State.REGISTERED and done.peer_registration_id, done
        [item] = await until(run.inbox, timeout=10)
        assert item["id"] == doc.id


async def test_a_dismissed_conclusion_leaves_the_031u_waiting(
    tmp_path: Path, db_url: str, signers_dir: SampleSigners
) -> None:
    profile = FAST.model_copy(update={"probabilities": Probabilities(bad_expert_signature=1.0)})
    async with gateway(tmp_path, db_url, signers_dir, profile) as run:
        sub = await run.send(signers_dir, 10)
        doc = await until(lambda: _held(run, sub.id, "INBOUND_SIGNATURE_INVALID"), timeout=30)
        await InboundJournal(run.journal).dismiss(doc.id, "operator:test", "forged, asked ЦБДИ to resend")
        assert (await run.journal.get(sub.id)).state is not State.REGISTERED
        assert await run.inbox() == []


async def test_a_conclusion_signed_by_someone_else_is_flagged_by_the_role_policy(
    tmp_path: Path, db_url: str, signers_dir: SampleSigners
) -> None:
    # ЦБДИ's conclusion signed with a legal entity employee's certificate, not an individual's.
    employee = (signers_dir.key("kz-employee"), signers_dir.certificate("kz-employee"), (signers_dir.pki.ca,))
    async with gateway(tmp_path, db_url, signers_dir, FAST, expert=employee) as run:
        sub = await run.send(signers_dir, 13)
        await until(lambda: _held(run, sub.id, "INBOUND_ROLE_POLICY"), timeout=30)


async def test_a_conclusion_naming_another_expert_than_its_signer_is_flagged(
    tmp_path: Path, db_url: str, signers_dir: SampleSigners
) -> None:
    chair = signers_dir.certificate("kz-vkk-chair").identity()
    async with gateway(tmp_path, db_url, signers_dir, FAST, expert_named=("Другой эксперт", chair.iin or "")) as run:
        sub = await run.send(signers_dir, 14)
        await until(lambda: _held(run, sub.id, "INBOUND_ROLE_POLICY"), timeout=30)


async def test_a_conclusion_without_its_expert_is_flagged_document_invalid(
    tmp_path: Path, db_url: str, signers_dir: SampleSigners
) -> None:
    async with gateway(tmp_path, db_url, signers_dir, FAST, expert_named=("Эксперт", "")) as run:
        sub = await run.send(signers_dir, 15)
        await until(lambda: _held(run, sub.id, "INBOUND_DOCUMENT_INVALID"), timeout=30)


async def test_a_conclusion_for_an_unknown_031u_is_flagged_and_recorded_unattributed(
    tmp_path: Path, db_url: str, signers_dir: SampleSigners
) -> None:
    async with gateway(tmp_path, db_url, signers_dir, FAST) as run:
        org = make_submission("kz-031u", 1, signers_dir)["organization_oid"]
        expert = signers_dir.certificate("kz-expert").identity()
        now = run.twin.clock.now()
        element = build_conclusion(
            Conclusion(
                "a-031u-nobody-sent",
                "MSE-2026-7777777",
                "disability",
                now - timedelta(minutes=5),
                expert.common_name or "",
                "3",
                40,
                {"ru": "третья группа", "kk": "үшінші топ"},
                organization_oid=org,
                expert_iin=expert.iin or "",
            )
        )
        signed = sign_xml(
            etree.tostring(element),
            signers_dir.key("kz-expert"),
            signers_dir.certificate("kz-expert"),
            reference_id=element.get("Id"),
            chain=(signers_dir.pki.ca,),
        )
        run.twin._enqueue(
            SENDER_ID,
            m.MessageType.RESPONSE,
            "00000000-0000-4000-8000-000000000001",
            etree.fromstring(signed),
            now,
            "75",
        )
        await until(lambda: _unattributed(run.journal), timeout=20)
        [doc] = await _inbound(run.journal)
        assert (doc.state, doc.reason_code, doc.submission_id) == ("FLAGGED", "INBOUND_UNKNOWN_REFERRAL", None)
        assert await run.inbox() == []


async def _unattributed(journal: Journal) -> bool:
    rows = await inbox_rows(journal, peer="shep")
    return any(r.kind == "unattributed" for r in rows)
