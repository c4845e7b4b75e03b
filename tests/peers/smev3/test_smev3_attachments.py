"""SMEV 3 attachments: MTOM/XOP, the file store, SignaturePKCS7 and PersonalSignature (ЭП-СП).

Envelopes built by the adapter with attachments validate against the official 1.1 XSDs and their
signatures verify with the project's verifiers; the twin (real HTTP on loopback) takes MTOM and
file-store attachments and refuses miscoordinated, oversize and badly signed ones with SMEV's
faults; the adapter refuses an oversize document before sending anything, and on receive checks
the attachments of what it takes before trusting it."""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from click.testing import CliRunner
from lxml import etree
from smev3_kit import T0, assert_valid, body_child, metadata

from adapters.smev3 import messages as m
from adapters.smev3.adapter import Smev3Adapter
from adapters.smev3.attachments import (
    DOCUMENT_ID,
    AttachmentTooLarge,
    OutgoingAttachment,
    file_store_hash,
    plan_attachments,
    sign_detached,
    verify_attachments,
)
from adapters.smev3.codec import SOAP_ACTIONS, Smev3Codec
from adapters.smev3.identity import new_message_id
from adapters.smev3.incoming import ATTACHMENT_INVALID
from adapters.smev3.mtom import XOP_NS, MtomError, Part, content_id_for, pack, parse_message, to_xop, unpack
from adapters.smev3.outgoing import build_send_request
from adapters.smev3.sandbox import TWIN_KEY, Smev3Twin, create_twin, smev3_schema
from adapters.smev3.sandbox.filestore import FileStore
from adapters.smev3.settings import Smev3Settings
from adapters.smev3.signing import Signer, verify_incoming
from gateway.cli import main
from gateway.common.clock import SimulatedClock
from gateway.intake.submission import CanonicalSubmission, SignatureEntry
from gateway.peers.contract import AnswerKind, PeerOutcome, Progress
from gateway.signatures.xml.verify import XmlVerifier

DECISION = b'<a:Decision xmlns:a="urn:test:answer"><a:RegistrationNumber>R-1</a:RegistrationNumber></a:Decision>'
CDA = b'<ClinicalDocument xmlns="urn:hl7-org:v3"><id root="1.2.3" extension="42"/></ClinicalDocument>'


def canonical(document: bytes = CDA, *, signatures: tuple[SignatureEntry, ...] = ()) -> CanonicalSubmission:
    return CanonicalSubmission(
        source_system="mis",
        local_uid="doc-att-1",
        kind="35",
        organization_oid="1.2.643.5.1.13.13.12.2.77.9001",
        creation_datetime=T0,
        document=document,
        document_mime="application/xml",
        signatures=signatures,
    )


def settings(url: str = "http://smev.invalid/", **kw: Any) -> Smev3Settings:
    return Smev3Settings(protocol="smev3", url=url, timeout_seconds=10.0, **kw)


def xop_stripped(root_xml: bytes) -> etree._Element:
    """The payload as XOP defines its infoset for validation: each xop:Include stands for the
    part's base64 (an empty value is as valid a base64Binary)."""
    payload = body_child(root_xml)
    for include in list(payload.iter(f"{{{XOP_NS}}}Include")):
        parent = include.getparent()
        assert parent is not None
        parent.remove(include)
    return payload


# --- MTOM ------------------------------------------------------------------------------------------


def test_mtom_pack_and_unpack_round_trip_binary_parts() -> None:
    binary = bytes(range(256)) * 40 + b"\r\n--MIMEBoundary_not_it\r\n"
    content_type, body = pack(b"<root/>", [Part("a@x", binary), Part("b@x", b"")], boundary="MIMEBoundary_1")
    assert content_type.startswith('multipart/related; type="application/xop+xml"; boundary="MIMEBoundary_1"')
    assert b"Content-Transfer-Encoding: binary" in body and base64.b64encode(binary) not in body
    root, parts = unpack(content_type, body)
    assert root == b"<root/>"
    assert {k: bytes(v) for k, v in parts.items()} == {"a@x": binary, "b@x": b""}


@pytest.mark.parametrize(
    ("content_type", "body", "code"),
    [
        ("multipart/related", b"--x\r\n\r\n", "MTOM_MALFORMED"),
        ('multipart/related; boundary="x"', b"nothing here", "MTOM_MALFORMED"),
        (
            'multipart/related; boundary="x"; start="<r>"',
            b"--x\r\nContent-ID: <s>\r\n\r\n<a/>\r\n--x--\r\n",
            "MTOM_NO_ROOT",
        ),
        (
            'multipart/related; boundary="x"',
            b"--x\r\nContent-Type: application/xop+xml\r\nContent-Transfer-Encoding: base64\r\n"
            b"\r\nPGEvPg==\r\n--x--\r\n",
            "MTOM_MALFORMED",
        ),
    ],
)
def test_mtom_refusals_are_coded(content_type: str, body: bytes, code: str) -> None:
    with pytest.raises(MtomError) as caught:
        unpack(content_type, body)
    assert caught.value.code == code


def test_a_part_the_envelope_points_at_must_be_there(is_signers: dict[str, Signer]) -> None:
    codec = Smev3Codec(signer=is_signers["gost2012-256"])
    msg = build_send_request(settings(), canonical(), message_id=new_message_id())
    empty = dataclasses.replace(msg, attachments=(m.AttachmentContent(DOCUMENT_ID, b""),))
    root = to_xop(codec.send_request(empty), {DOCUMENT_ID: content_id_for(DOCUMENT_ID)})
    content_type, body = pack(root, [])
    with pytest.raises(MtomError) as caught:
        parse_message(codec, content_type, body)
    assert caught.value.code == "MTOM_MISSING_PART"


# --- envelopes: XSD and signatures -------------------------------------------------------------------


def test_mtom_send_request_validates_and_its_signatures_verify(
    is_signers: dict[str, Signer], verifier: XmlVerifier
) -> None:
    personal = is_signers["gost2012-512"]
    chosen = settings(personal_signature=True)
    msg = build_send_request(chosen, canonical(), message_id=new_message_id(), personal_signer=personal)
    (header,) = msg.data.attachment_headers
    assert (header.content_id, header.mime_type) == (DOCUMENT_ID, "application/xml")
    assert header.signature_pkcs7 is not None and msg.data.personal_signature is not None
    codec = Smev3Codec(signer=is_signers["gost2012-256"])
    inline = codec.send_request(msg)
    assert_valid(body_child(inline))  # inline base64: the official XSDs as they are
    empty = dataclasses.replace(msg, attachments=(m.AttachmentContent(DOCUMENT_ID, b""),))
    root = to_xop(codec.send_request(empty), {DOCUMENT_ID: content_id_for(DOCUMENT_ID)})
    assert_valid(xop_stripped(root))  # the MTOM root part, as XOP defines its infoset
    content_type, body = pack(root, [Part(content_id_for(DOCUMENT_ID), CDA)])
    parsed, xml = parse_message(codec, content_type, body)
    assert isinstance(parsed, m.SendRequestRequest) and parsed.attachments == (m.AttachmentContent(DOCUMENT_ID, CDA),)
    verdicts = verify_incoming(xml, verifier)
    caller, person = verdicts.of("CallerInformationSystemSignature"), verdicts.of("PersonalSignature")
    assert [v.valid for v in caller] == [True] and [v.valid for v in person] == [True]
    assert person[0].target == "Referral" and person[0].covers_target
    # SignaturePKCS7: the project's CMS verifier, over the attachment's bytes
    (good,) = verify_attachments(parsed.data.attachment_headers, {DOCUMENT_ID: CDA}, verifier.verifier)
    assert (good.present, good.signed, good.valid) == (True, True, True)
    (bad,) = verify_attachments(parsed.data.attachment_headers, {DOCUMENT_ID: CDA + b" "}, verifier.verifier)
    assert (bad.valid, bad.code) == (False, "SignatureIsInvalid") and any("DIGEST" in r for r in bad.reasons)


def test_file_store_request_validates_and_verifies(is_signers: dict[str, Signer], verifier: XmlVerifier) -> None:
    sig = SignatureEntry("organization", {}, sign_detached(CDA, is_signers["gost2012-256"]), False)
    chosen = settings(attachment_threshold_bytes=64)
    mid = new_message_id()
    msg = build_send_request(
        chosen, canonical(signatures=(sig,)), message_id=mid, personal_signer=is_signers["gost2012-256"]
    )
    assert msg.attachments == () and msg.data.attachment_headers == ()
    ids = [r.mime_type for r in msg.data.ref_attachment_headers]
    assert ids == ["application/xml", "application/pkcs7-signature"]
    document = msg.data.ref_attachment_headers[0]
    assert document.hash == file_store_hash(CDA) and len(base64.b64decode(document.hash)) == 32
    envelope = Smev3Codec(signer=is_signers["gost2012-256"]).send_request(msg)
    # the official XSDs read with Java's meaning of the MIME pattern (docs/smev3.md): a hyphen is a hyphen
    assert smev3_schema().validate(etree.ElementTree(body_child(envelope))), smev3_schema().error_log
    assert verify_incoming(envelope, verifier).of("CallerInformationSystemSignature")[0].valid


def test_plan_is_mtom_up_to_the_threshold_then_file_store_then_refused() -> None:
    items = [
        OutgoingAttachment("a", "application/xml", b"x" * 60),
        OutgoingAttachment("b", "application/xml", b"y" * 40),
    ]
    assert len(plan_attachments(items, threshold=100, hard_limit=200).inline) == 2
    assert len(plan_attachments(items, threshold=99, hard_limit=200).by_reference) == 2
    with pytest.raises(AttachmentTooLarge) as caught:
        plan_attachments(items, threshold=50, hard_limit=99)
    assert caught.value.code == "AttachmentSizeLimitExceeded" and caught.value.total == 100


# --- through the twin ----------------------------------------------------------------------------------


@pytest.fixture
async def twin(smev_signer: Signer, verifier: XmlVerifier) -> AsyncIterator[tuple[Smev3Twin, str]]:
    app: web.Application = create_twin("none", SimulatedClock(1.0), seed=3, identity=smev_signer, verifier=verifier)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield app[TWIN_KEY], str(server.make_url("/smev3/ws"))
    await server.close()


async def _adapter_send(
    url: str, signer: Signer, verifier: XmlVerifier, document: bytes, **kw: Any
) -> tuple[Any, Smev3Adapter]:
    async with aiohttp.ClientSession() as session:
        adapter = Smev3Adapter(
            settings(url, filestore_url="/_filestore/", **kw),
            session,
            name="smev",
            signer=signer,
            verifier=verifier,
            personal_signer=signer,
        )

        class Sub:
            local_uid = "doc-att-1"

        answer = await adapter.send(Sub(), canonical(document), message_id=new_message_id())  # type: ignore[arg-type]
        return answer, adapter


async def test_mtom_request_is_accepted_by_the_twin(
    twin: tuple[Smev3Twin, str], is_signers: dict[str, Signer], verifier: XmlVerifier
) -> None:
    state, url = twin
    answer, _ = await _adapter_send(url, is_signers["gost2012-256"], verifier, CDA)
    assert answer.kind is AnswerKind.ACCEPTED, answer
    out = answer.envelopes[0]
    assert out.content_type == "application/xop+xml" and f"cid:{content_id_for(DOCUMENT_ID)}".encode() in out.body
    assert state.stats.accepted == 1 and state.filestore.uploads == 0


async def test_file_store_request_is_uploaded_and_accepted(
    twin: tuple[Smev3Twin, str], is_signers: dict[str, Signer], verifier: XmlVerifier
) -> None:
    state, url = twin
    document = CDA + b"<!--" + b"x" * 200_000 + b"-->"
    answer, _ = await _adapter_send(
        url, is_signers["gost2012-256"], verifier, document, attachment_threshold_bytes=100_000
    )
    assert answer.kind is AnswerKind.ACCEPTED, answer
    (stored,) = state.filestore.files.values()
    assert stored.size == len(document) and stored.hash == file_store_hash(document)
    assert stored.path.read_bytes() == document
    assert b"RefAttachmentHeader" in answer.envelopes[0].body and b"AttachmentContent" not in answer.envelopes[0].body


async def test_oversize_is_refused_before_anything_is_sent(
    twin: tuple[Smev3Twin, str], is_signers: dict[str, Signer], verifier: XmlVerifier
) -> None:
    state, url = twin
    answer, _ = await _adapter_send(
        url,
        is_signers["gost2012-256"],
        verifier,
        CDA + b" " * 5000,
        attachment_threshold_bytes=1000,
        attachment_max_bytes=4000,
    )
    assert answer.kind is AnswerKind.REFUSED and answer.envelopes == ()
    ((code, text),) = answer.codes
    assert code == "AttachmentSizeLimitExceeded" and "refused before sending" in text
    assert state.stats.calls["SendRequest"] == 0 and state.filestore.uploads == 0


async def _post(url: str, envelope: bytes, parts: list[Part], root_hrefs: dict[str, str]) -> m.Fault | Any:
    codec = Smev3Codec()
    root = to_xop(envelope, root_hrefs) if root_hrefs else envelope
    content_type, body = pack(root, parts)
    async with aiohttp.ClientSession() as session:
        headers = {"Content-Type": content_type, "SOAPAction": SOAP_ACTIONS["SendRequest"]}
        async with session.post(url, data=body, headers=headers) as reply:
            return codec.parse(await reply.read())


def _request(
    signer: Signer,
    *,
    headers: tuple[m.AttachmentHeader, ...] = (),
    refs: tuple[m.RefAttachmentHeader, ...] = (),
    ids: tuple[str, ...] = (),
) -> bytes:
    data = m.SenderProvidedRequestData(
        new_message_id(),
        b'<r:Referral xmlns:r="urn:test:mse"/>',
        attachment_headers=headers,
        ref_attachment_headers=refs,
    )
    contents = tuple(m.AttachmentContent(i, b"") for i in ids)
    return Smev3Codec(signer=signer).send_request(m.SendRequestRequest(data, contents))


async def test_twin_checks_attachments_for_real(twin: tuple[Smev3Twin, str], is_signers: dict[str, Signer]) -> None:
    state, url = twin
    signer = is_signers["gost2012-256"]
    cid = content_id_for("doc")
    header = m.AttachmentHeader("doc", "application/xml", sign_detached(CDA, signer))
    # a header whose content is missing (declared vs actual)
    fault = await _post(url, _request(signer, headers=(header,)), [], {})
    assert fault.code == "AttachmentContentMiscoordination"
    # content without a header
    fault = await _post(url, _request(signer, ids=("doc",)), [Part(cid, CDA)], {"doc": cid})
    assert fault.code == "AttachmentContentMiscoordination"
    # the signature does not match the bytes
    fault = await _post(url, _request(signer, headers=(header,), ids=("doc",)), [Part(cid, CDA + b"!")], {"doc": cid})
    assert (fault.code, fault.subcode) == ("SignatureVerificationFault", "SignatureIsInvalid")
    # above the MTOM limit
    state.attachment_limit = 10
    fault = await _post(url, _request(signer, headers=(header,), ids=("doc",)), [Part(cid, CDA)], {"doc": cid})
    assert fault.code == "AttachmentSizeLimitExceeded"
    assert dict(fault.details) == {"PermittedTotalAttachmentSize": "10", "RealTotalAttachmentSize": str(len(CDA))}
    state.attachment_limit = 1 << 20
    # a file-store reference to nothing, then one with another hash
    ref = m.RefAttachmentHeader("11111111-2222-5333-8444-555555555555", file_store_hash(CDA), "application/xml")
    fault = await _post(url, _request(signer, refs=(ref,)), [], {})
    assert fault.code == "AttachmentContentMiscoordination"
    async with aiohttp.ClientSession() as session:
        put = url.replace("/smev3/ws", f"/_filestore/{ref.uuid}/doc.xml")
        async with session.put(
            put, data=CDA + b"changed", headers={"Authorization": aiohttp.encode_basic_auth("anonymous", "")}
        ) as reply:
            assert reply.status == 201
        async with session.put(put, data=CDA) as reply:
            assert reply.status == 401  # a login is required, as on SMEV's FTP
    fault = await _post(url, _request(signer, refs=(ref,)), [], {})
    assert fault.code == "AttachmentContentMiscoordination" and "хэш" in fault.message
    # the good ones pass (and the answers are valid SMEV answers)
    accepted = await _post(url, _request(signer, headers=(header,), ids=("doc",)), [Part(cid, CDA)], {"doc": cid})
    assert isinstance(accepted, m.SendRequestResponse)
    assert state.stats.faults["AttachmentContentMiscoordination"] == 4


# --- receive side -----------------------------------------------------------------------------------------


class RecordingSink:
    """The core's sink as the adapter sees it: outcomes recorded, no progress expected."""

    def __init__(self) -> None:
        self.outcomes: list[PeerOutcome] = []

    async def __call__(self, outcome: PeerOutcome) -> None:
        self.outcomes.append(outcome)

    async def progress(self, progress: Progress) -> None:
        raise AssertionError(progress)


async def test_received_attachments_are_verified_before_trust(
    is_signers: dict[str, Signer], smev_signer: Signer, verifier: XmlVerifier
) -> None:
    """A GetResponse answer carrying an MTOM attachment signed with ЭП-СП: taken and Acked when the
    signature matches; recorded as untrusted and Acked accepted="false" when the bytes changed."""
    signer = is_signers["gost2012-256"]
    codec = Smev3Codec(smev_signer=smev_signer)
    queue: list[bytes] = []
    acks: list[tuple[str, bool]] = []

    def answer(document: bytes) -> tuple[str, bytes]:
        mid = new_message_id()
        data = m.SenderProvidedResponseData(
            new_message_id(),
            "reply",
            content=DECISION,
            attachment_headers=(m.AttachmentHeader("decision", "application/xml", sign_detached(CDA, signer)),),
        )
        md = dataclasses.replace(metadata(), message_id=mid)
        response = m.Response(data, md, original_message_id="orig")
        envelope = codec.get_response_response(m.GetResponseResponse(response, (m.AttachmentContent("decision", b""),)))
        hrefs = {"decision": content_id_for("decision")}
        content_type, body = pack(to_xop(envelope, hrefs), [Part(hrefs["decision"], document)])
        return content_type, body

    async def handle(request: web.Request) -> web.Response:
        parsed, _ = parse_message(Smev3Codec(), request.headers["Content-Type"], await request.read())
        if isinstance(parsed, m.AckRequest):
            acks.append((parsed.message_id, parsed.accepted))
            return web.Response(body=codec.ack_response(), content_type="text/xml")
        if queue:
            content_type, body = queue.pop(0)
            return web.Response(body=body, headers={"Content-Type": content_type})
        return web.Response(body=codec.get_response_response(m.GetResponseResponse()), content_type="text/xml")

    app = web.Application()
    app.router.add_post("/", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    queue.extend([answer(CDA), answer(CDA.replace(b"42", b"43"))])

    sink = RecordingSink()
    try:
        async with aiohttp.ClientSession() as session:
            adapter = Smev3Adapter(
                settings(str(server.make_url("/")), receive_concurrency=1),  # one lane: the outcomes in queue order
                session,
                name="smev",
                signer=signer,
                verifier=verifier,
            )
            assert await adapter.receive(sink) == 2  # type: ignore[arg-type]
    finally:
        await server.close()
    # the receive lanes run at once: the two are recorded in whichever order their checks end
    [good] = [o for o in sink.outcomes if o.success]
    [bad] = [o for o in sink.outcomes if not o.success]
    assert good.peer_registration_id == "R-1" and good.relates_to == "orig"
    # the attachment itself was recorded with the message (what is Acked was kept whole)
    assert CDA in [e.body for e in good.envelopes if e.direction == "in"]
    assert not bad.success and bad.relates_to is None and bad.codes[0][0] == ATTACHMENT_INVALID
    assert "SignatureIsInvalid" in bad.codes[0][1]
    assert sorted(a for _, a in acks) == [False, True]


async def test_file_store_attachments_of_a_response_are_downloaded_and_checked(
    is_signers: dict[str, Signer], smev_signer: Signer, verifier: XmlVerifier
) -> None:
    """A response naming a file-store attachment (RefAttachmentHeader + FSAttachment): the adapter
    downloads it with the FSAttachment login from the store (the twin's), checks its hash and
    SignaturePKCS7, and only then trusts the message; a file whose hash differs is not trusted."""
    signer = is_signers["gost2012-256"]
    codec = Smev3Codec(smev_signer=smev_signer)
    store = FileStore(users={"reader": "secret"})
    queue: list[bytes] = []
    acks: list[bool] = []

    def answer(uuid: str, declared: bytes) -> bytes:
        ref = m.RefAttachmentHeader(uuid, file_store_hash(declared), "application/xml", sign_detached(declared, signer))
        data = m.SenderProvidedResponseData(new_message_id(), "reply", content=DECISION, ref_attachment_headers=(ref,))
        md = dataclasses.replace(metadata(), message_id=new_message_id())
        fs = (m.FSAttachment(uuid, "reader", "secret", "decision.xml"),)
        return codec.get_response_response(
            m.GetResponseResponse(m.Response(data, md, original_message_id="orig", fs_attachments=fs))
        )

    async def handle(request: web.Request) -> web.Response:
        parsed = Smev3Codec().parse(await request.read())
        if isinstance(parsed, m.AckRequest):
            acks.append(parsed.accepted)
            return web.Response(body=codec.ack_response(), content_type="text/xml")
        body = queue.pop(0) if queue else codec.get_response_response(m.GetResponseResponse())
        return web.Response(body=body, content_type="text/xml")

    app = web.Application()
    app.router.add_post("/smev", handle)
    store.add_routes(app)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    good_id, bad_id = "0e4c1f6a-1111-5222-8333-444455556666", "0e4c1f6a-1111-5222-8333-777788889999"
    async with aiohttp.ClientSession() as session:
        auth = {"Authorization": aiohttp.encode_basic_auth("reader", "secret")}
        for uuid, data in ((good_id, CDA), (bad_id, CDA + b"changed")):
            async with session.put(
                str(server.make_url(f"/_filestore/{uuid}/decision.xml")), data=data, headers=auth
            ) as r:
                assert r.status == 201
        queue.extend([answer(good_id, CDA), answer(bad_id, CDA)])

        sink = RecordingSink()
        try:
            adapter = Smev3Adapter(
                settings(
                    str(server.make_url("/smev")), filestore_url="/_filestore/", receive_concurrency=1
                ),  # queue order
                session,
                name="smev",
                signer=signer,
                verifier=verifier,
            )
            assert await adapter.receive(sink) == 2  # type: ignore[arg-type]
        finally:
            await server.close()
    # the receive lanes run at once: the two are recorded in whichever order their downloads end
    [good] = [o for o in sink.outcomes if o.success]
    [bad] = [o for o in sink.outcomes if not o.success]
    assert good.peer_registration_id == "R-1"
    assert bad.codes[0][0] == ATTACHMENT_INVALID and "hash mismatch" in bad.codes[0][1]
    assert sorted(acks) == [False, True]  # one Ack each, in the order the lanes finished


def test_envelope_inspect_reads_a_saved_mtom_body(tmp_path: Path, is_signers: dict[str, Signer]) -> None:
    """An MTOM HTTP body saved as is (``--boundary`` first): its envelope, attachments and their
    SignaturePKCS7 verdicts."""
    signer = is_signers["gost2012-256"]
    codec = Smev3Codec(signer=signer)
    msg = build_send_request(settings(), canonical(), message_id=new_message_id(), personal_signer=signer)
    empty = dataclasses.replace(msg, attachments=(m.AttachmentContent(DOCUMENT_ID, b""),))
    root = to_xop(codec.send_request(empty), {DOCUMENT_ID: content_id_for(DOCUMENT_ID)})
    _, body = pack(root, [Part(content_id_for(DOCUMENT_ID), CDA)])
    path = tmp_path / "body.mime"
    path.write_bytes(body)
    result = CliRunner().invoke(main, ["envelope", "inspect", str(path), "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert (found["operation"], found["mtom_parts"], found["message_id"]) == ("SendRequest", 1, msg.data.message_id)
    (attachment,) = found["attachments"]
    # integrity checked; the test PKI is not in the CLI's (empty) trust store
    assert (attachment["id"], attachment["present"], attachment["signed"]) == (DOCUMENT_ID, True, True)
    assert any(r.startswith("integrity valid") for r in attachment["reasons"]), attachment
    path.write_bytes(body.replace(CDA, CDA.replace(b"42", b"43")))
    changed = json.loads(CliRunner().invoke(main, ["envelope", "inspect", str(path), "--json"]).output)
    assert any(r.startswith("integrity invalid") for r in changed["attachments"][0]["reasons"])
