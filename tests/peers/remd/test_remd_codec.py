"""Every REMD message: built → valid against the reconstructed XSD → parsed back to the same value.
The zeep client (built from the WSDL) and the lxml codec must agree on every message they share."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from remd_kit import ORG, cms_bytes, document_bytes, make_submission

from adapters.remd import codec, mapping
from adapters.remd.client import (
    decode_search_response,
    decode_status_response,
    register_envelope,
    zeep_register_envelope,
    zeep_search_envelope,
)
from adapters.remd.messages import (
    CodedValue,
    DocumentFile,
    GetDocumentFileRequest,
    GetDocumentFileResponse,
    Patient,
    PersonalSignature,
    RegisterDocumentRequest,
    RegisterDocumentResult,
    RegistryItem,
    RegistryMatch,
    SearchRegistryItemRequest,
    SearchRegistryItemResponse,
    SignatureData,
    Signer,
    StatusResponse,
    checksum,
)
from adapters.remd.soap import Addressing, build_envelope, parse_envelope
from adapters.remd.wsdl import callback_schema, service_schema

MSK = codec.MOSCOW
T0 = datetime(2026, 11, 20, 10, 0, 0, tzinfo=MSK)


def _valid(schema: etree.XMLSchema, el: etree._Element) -> None:
    schema.assertValid(etree.ElementTree(copy.deepcopy(el)))


def full_request() -> RegisterDocumentRequest:
    return RegisterDocumentRequest(
        local_uid="3f1d3a0e-8c5b-4d8e-9d61-1b2c3d4e5f60",
        kind="121",
        organization=ORG,
        creation_datetime=T0,
        document=DocumentFile.of(document_bytes()),
        department="1.2.643.5.1.13.13.12.2.77.7973.0.1",
        document_number="088-2026-001",
        patient=Patient(snils="11223344595"),
        org_signature=SignatureData.of(cms_bytes(512)),
        personal_signatures=(
            PersonalSignature(
                Signer(
                    local_id="doc-17",
                    snils="12345678964",
                    role=CodedValue("AUTHOR", "2.4"),
                    position=CodedValue("73"),
                    speciality=CodedValue("27", "8.1"),
                    department="1.2.643.5.1.13.13.12.2.77.7973.0.1",
                ),
                SignatureData.of(cms_bytes(256)),
            ),
        ),
    )


def test_register_document_request_round_trip() -> None:
    req = full_request()
    el = codec.build_register_document_request(req)
    _valid(service_schema(), el)
    assert codec.parse_register_document_request(el) == req


def test_register_document_request_without_content_carries_the_checksum() -> None:
    req = RegisterDocumentRequest("u-1", "121", ORG, T0, DocumentFile.of(b"<doc/>", inline=False))
    el = codec.build_register_document_request(req)
    _valid(service_schema(), el)
    parsed = codec.parse_register_document_request(el)
    assert parsed.document.data is None
    assert parsed.document.checksum == checksum(b"<doc/>")


@pytest.mark.parametrize(
    "resp",
    [StatusResponse(True), StatusResponse(False, (("RATE_LIMIT", "лимит"), ("INTERNAL_ERROR", "")))],
)
def test_register_document_response_round_trip(resp: StatusResponse) -> None:
    el = codec.build_register_document_response(resp)
    _valid(service_schema(), el)
    assert codec.parse_register_document_response(el) == resp


def test_search_round_trip() -> None:
    req = SearchRegistryItemRequest(ORG, "121", T0 - timedelta(days=1), T0 + timedelta(days=1), "11223344595")
    el = codec.build_search_request(req)
    _valid(service_schema(), el)
    assert codec.parse_search_request(el) == req
    resp = SearchRegistryItemResponse(
        True, (RegistryMatch("u-1", "E-1", T0, kind="121", organization=ORG), RegistryMatch("u-2", "E-2", T0))
    )
    el = codec.build_search_response(resp)
    _valid(service_schema(), el)
    assert codec.parse_search_response(el) == resp
    refused = SearchRegistryItemResponse(False, errors=(("ACCESS_DENIED", "нет"),))
    assert codec.parse_search_response(codec.build_search_response(refused)) == refused


@pytest.mark.parametrize(
    "result",
    [
        RegisterDocumentResult("m-1", True, "121", ORG, "u-1", RegistryItem("E-7", T0, T0 - timedelta(hours=1))),
        RegisterDocumentResult(
            "m-2", False, "121", ORG, "u-2", errors=(("ASYNC_RESPONSE_TIMEOUT", "Не удалось зарегистрировать"),)
        ),
    ],
)
def test_register_document_result_round_trip(result: RegisterDocumentResult) -> None:
    el = codec.build_register_document_result(result)
    _valid(callback_schema(), el)
    assert codec.parse_register_document_result(el) == result
    ack = codec.build_result_ack(True)
    _valid(callback_schema(), ack)
    assert codec.parse_result_ack(ack) is True


def test_get_document_file_round_trip() -> None:
    req = GetDocumentFileRequest("u-1", ORG, "121")
    el = codec.build_get_document_file_request(req)
    _valid(service_schema(), el)
    assert codec.parse_get_document_file_request(el) == req
    for resp in (
        GetDocumentFileResponse(True, DocumentFile.of(b"<doc/>")),
        GetDocumentFileResponse(False, errors=(("FILE_WAS_NOT_SENT", "нет"),)),
    ):
        el = codec.build_get_document_file_response(resp)
        _valid(service_schema(), el)
        assert codec.parse_get_document_file_response(el) == resp


def test_naive_timestamps_are_moscow_time() -> None:
    assert codec.parse_datetime("2021-09-13T17:12:09.896") == datetime(2021, 9, 13, 17, 12, 9, 896000, tzinfo=MSK)
    assert codec.parse_datetime("2021-09-13T14:12:09Z") == datetime(2021, 9, 13, 14, 12, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("xml", "field"),
    [
        ("<registerDocumentResult><status>success</status></registerDocumentResult>", "localUid"),
        ("<registerDocumentResult><localUid>u</localUid><status>maybe</status></registerDocumentResult>", "status"),
        (
            "<registerDocumentResult><localUid>u</localUid><status>success</status><registryItem><emdrId>E</emdrId>"
            "<registrationDateTime>yesterday</registrationDateTime></registryItem></registerDocumentResult>",
            "registrationDateTime",
        ),
    ],
)
def test_garbled_messages_raise_a_coded_error(xml: str, field: str) -> None:
    with pytest.raises(codec.MessageError) as info:
        codec.parse_register_document_result(etree.fromstring(xml))
    assert info.value.code == "SCHEMA_INVALID"
    assert field in info.value.message


def test_zeep_and_lxml_build_the_same_register_request() -> None:
    """The request zeep builds from the WSDL and the one the codec builds are the same message."""
    sub, canonical = make_submission()
    req = mapping.to_register_request(sub, canonical)
    by_zeep = zeep_register_envelope(
        req, client_entity_id="e-1", message_id="m-1", to="https://remd/emdr", reply_to="https://gw/remd/callback"
    )
    by_lxml = mapping.build_register_document(
        sub,
        canonical,
        message_id="m-1",
        reply_to="https://gw/remd/callback",
        client_entity_id="e-1",
        to="https://remd/emdr",
    )
    env_z, env_l = parse_envelope(by_zeep), parse_envelope(by_lxml)
    assert env_z.addressing == env_l.addressing
    assert env_z.addressing.reply_to == "https://gw/remd/callback"
    assert env_z.client_entity_id == env_l.client_entity_id == "e-1"
    assert env_z.body is not None and env_l.body is not None
    _valid(service_schema(), env_z.body)
    _valid(service_schema(), env_l.body)
    assert codec.parse_register_document_request(env_z.body) == codec.parse_register_document_request(env_l.body) == req


@pytest.mark.parametrize("reply_to", ["https://gw/remd/callback", None])
def test_the_clients_register_envelope_is_the_one_zeep_builds(reply_to: str | None) -> None:
    """The client sends registerDocument built by the codec, not zeep: same headers, same body
    (element for element, canonicalised), valid against the service XSD."""
    for req in (full_request(), mapping.to_register_request(*make_submission())):
        args = {"client_entity_id": "e-1", "message_id": "m-1", "to": "https://remd/emdr", "reply_to": reply_to}
        env_z, env_h = (
            parse_envelope(zeep_register_envelope(req, **args)),
            parse_envelope(register_envelope(req, **args)),
        )
        assert env_h.addressing == env_z.addressing
        assert env_h.addressing.reply_to == reply_to
        assert env_h.client_entity_id == env_z.client_entity_id == "e-1"
        assert env_h.body is not None and env_z.body is not None
        _valid(service_schema(), env_h.body)
        assert (
            codec.parse_register_document_request(env_h.body)
            == codec.parse_register_document_request(env_z.body)
            == req
        )
        # Element for element (qualified names, attributes, text, order); only prefixes differ.
        assert _infoset(env_h.body) == _infoset(env_z.body)


def _infoset(el: etree._Element) -> list[tuple[str, list[tuple[str, str]], str]]:
    return [(str(e.tag), sorted(e.attrib.items()), (e.text or "").strip()) for e in el.iter()]


def test_zeep_builds_a_valid_search_request() -> None:
    req = SearchRegistryItemRequest(ORG, "121", T0 - timedelta(days=1), T0 + timedelta(days=1), "11223344595")
    env = parse_envelope(zeep_search_envelope(req, client_entity_id="e-1", message_id="m-2", to="https://remd/emdr"))
    assert env.body is not None
    _valid(service_schema(), env.body)
    assert codec.parse_search_request(env.body) == req


@pytest.mark.parametrize(
    "resp", [StatusResponse(True), StatusResponse(False, (("NOT_UNIQUE_PROVIDED_ID", "уже зарегистрирован"),))]
)
def test_zeep_and_codec_decode_status_answers_alike(resp: StatusResponse) -> None:
    env = parse_envelope(
        build_envelope(codec.build_register_document_response(resp), addressing=Addressing(relates_to="m"))
    )
    assert decode_status_response(env) == mapping._decode_status(env) == resp


def test_zeep_and_codec_decode_search_answers_alike() -> None:
    resp = SearchRegistryItemResponse(True, (RegistryMatch("u-1", "E-1", T0, kind="121", organization=ORG),))
    env = parse_envelope(build_envelope(codec.build_search_response(resp)))
    assert decode_search_response(env) == mapping._decode_search(env) == resp


_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40).filter(
    lambda s: s.strip() == s and s != ""
)


@settings(max_examples=60, deadline=None)
@given(
    local_uid=_text,
    kind=st.sampled_from(["121", "109", "35", "108", "257"]),
    number=st.none() | _text,
    doc=st.binary(min_size=1, max_size=300),
    sigs=st.lists(st.binary(min_size=1, max_size=80), max_size=3),
    role=st.none() | _text,
)
def test_register_request_round_trip_property(
    local_uid: str, kind: str, number: str | None, doc: bytes, sigs: list[bytes], role: str | None
) -> None:
    req = RegisterDocumentRequest(
        local_uid=local_uid,
        kind=kind,
        organization=ORG,
        creation_datetime=T0,
        document=DocumentFile.of(doc),
        document_number=number,
        personal_signatures=tuple(
            PersonalSignature(Signer(snils="12345678964", role=CodedValue(role) if role else None), SignatureData.of(s))
            for s in sigs
        ),
    )
    el = codec.build_register_document_request(req)
    env = parse_envelope(build_envelope(el))  # through serialisation and the safe parser
    assert env.body is not None
    assert codec.parse_register_document_request(env.body) == req
