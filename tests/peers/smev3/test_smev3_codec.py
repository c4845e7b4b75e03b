"""Every envelope the codec builds validates against the official 1.1 XSDs, and parses back into
the message it was built from (build → parse round trip), for every operation and answer kind."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from lxml import etree
from smev3_kit import (
    BUSINESS,
    T0,
    assert_valid,
    body_child,
    metadata,
    request_data,
    response_data,
)

from adapters.smev3 import messages as m
from adapters.smev3.codec import Smev3Codec, Smev3FormatError
from adapters.smev3.identity import new_message_id
from adapters.smev3.signing import Signer

CODEC = Smev3Codec("1.1")
SELECTOR = m.MessageTypeSelector(T0, "urn:test:mse:answer", "Decision", "node-7")


def _cases() -> dict[str, tuple[Callable[[Smev3Codec, object], bytes], object]]:
    def build(name: str) -> Callable[[Smev3Codec, object], bytes]:
        return lambda codec, msg: getattr(codec, name)(msg)  # type: ignore[no-any-return]

    cases: dict[str, tuple[Callable[[Smev3Codec, object], bytes], object]] = {
        "SendRequestRequest": (
            build("send_request"),
            m.SendRequestRequest(request_data(), (m.AttachmentContent("doc-1", b"<doc/>"),)),
        ),
        "SendRequestRequest-minimal": (
            build("send_request"),
            m.SendRequestRequest(m.SenderProvidedRequestData(new_message_id(), BUSINESS)),
        ),
        "GetResponseRequest": (build("get_response"), m.GetResponseRequest(SELECTOR)),
        "GetResponseRequest-any-type": (build("get_response"), m.GetResponseRequest(m.MessageTypeSelector(T0))),
        "GetRequestRequest": (build("get_request"), m.GetRequestRequest(SELECTOR)),
        "AckRequest-accepted": (build("ack"), m.AckRequest(new_message_id(), True)),
        "AckRequest-refused": (build("ack"), m.AckRequest(new_message_id(), False)),
        "SendRequestResponse": (
            build("send_request_response"),
            m.SendRequestResponse(metadata("REQUEST", ident=m.SIGNED_BY_SMEV)),
        ),
        "SendResponseResponse": (
            build("send_response_response"),
            m.SendResponseResponse(metadata(ident=m.SIGNED_BY_SMEV)),
        ),
        "GetResponseResponse-empty": (build("get_response_response"), m.GetResponseResponse()),
        "GetRequestResponse-empty": (build("get_request_response"), m.GetRequestResponse()),
        "GetRequestResponse-request": (
            build("get_request_response"),
            m.GetRequestResponse(
                request=m.Request(
                    request_data(),
                    metadata("REQUEST"),
                    "reply-to-opaque",
                    (m.FSAttachment("f-1", "user", "secret", "big.pdf"),),
                ),
                attachments=(m.AttachmentContent("doc-1", b"%PDF-1.7"),),
            ),
        ),
        "GetRequestResponse-cancel": (
            build("get_request_response"),
            m.GetRequestResponse(cancel=m.Cancel(new_message_id(), new_message_id(), metadata("CANCEL"))),
        ),
        "GetStatusResponse-empty": (build("get_status_response"), m.GetStatusResponse()),
        "GetStatusResponse": (
            build("get_status_response"),
            m.GetStatusResponse(m.AsyncProcessingStatus(new_message_id(), "requestIsAcceptedBySmev", "ok")),
        ),
        "AckResponse": (lambda codec, msg: codec.ack_response(), m.AckResponse()),
    }
    for kind in m.ResponseKind:
        data = response_data(kind)
        cases[f"SendResponseRequest-{kind}"] = (build("send_response"), m.SendResponseRequest(data))
        response = m.Response(data, metadata(), new_message_id(), "tx-9", new_message_id())
        cases[f"GetResponseResponse-{kind}"] = (build("get_response_response"), m.GetResponseResponse(response))
    return cases


CASES = _cases()


@pytest.mark.parametrize("name", sorted(CASES))
def test_envelope_validates_against_official_xsd_and_round_trips(name: str) -> None:
    build, message = CASES[name]
    envelope = build(CODEC, message)
    payload = body_child(envelope)
    assert etree.QName(payload).localname == name.split("-")[0]
    assert_valid(payload)
    assert CODEC.parse(envelope) == message


@pytest.mark.parametrize("name", sorted(CASES))
def test_signed_envelope_validates_and_round_trips(
    name: str, is_signers: dict[str, Signer], smev_signer: Signer
) -> None:
    codec = Smev3Codec("1.1", signer=is_signers["gost2012-256"], smev_signer=smev_signer)
    build, message = CASES[name]
    envelope = build(codec, message)
    assert_valid(body_child(envelope))
    assert codec.parse(envelope) == message


def test_get_status_request_is_valid_only_signed(is_signers: dict[str, Signer]) -> None:
    # the 1.1 XSD makes GetStatusRequest's CallerInformationSystemSignature mandatory
    message = m.GetStatusRequest(T0)
    signed = Smev3Codec(signer=is_signers["gost2012-256"]).get_status(message)
    assert_valid(body_child(signed))
    assert CODEC.parse(signed) == message
    assert CODEC.parse(CODEC.get_status(message, sign=False)) == message


def test_empty_queue_answers() -> None:
    assert CODEC.parse(CODEC.get_response_response(m.GetResponseResponse())) == m.GetResponseResponse()
    parsed = CODEC.parse(CODEC.get_response_response(m.GetResponseResponse()))
    assert isinstance(parsed, m.GetResponseResponse) and parsed.empty


@pytest.mark.parametrize("kind", list(m.ResponseKind))
def test_response_kind_survives_the_round_trip(kind: m.ResponseKind) -> None:
    response = m.Response(response_data(kind), metadata())
    parsed = CODEC.parse(CODEC.get_response_response(m.GetResponseResponse(response)))
    assert isinstance(parsed, m.GetResponseResponse) and parsed.response is not None
    assert parsed.response.kind is kind


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_other_namespace_versions(version: str) -> None:
    codec = Smev3Codec(version)
    message = m.SendRequestRequest(request_data())
    envelope = codec.send_request(message)
    payload = body_child(envelope)
    assert (
        payload.tag == f"{{urn://x-artefacts-smev-gov-ru/services/message-exchange/types/{version}}}SendRequestRequest"
    )
    assert f"types/basic/{version}".encode() in envelope and b"types/1.1" not in envelope
    # any codec reads any version (deployments mix them)
    assert CODEC.parse(envelope) == message


def test_unknown_version_refused() -> None:
    with pytest.raises(ValueError):
        Smev3Codec("2.0")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"not xml", "XML_MALFORMED"),
        (b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', "XML_FORBIDDEN_CONSTRUCT"),
        (b"<a/>", "NOT_SOAP11"),
        (b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"/>', "NO_BODY"),
        (
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
            b'<s:Body><x xmlns="urn:x"/></s:Body></s:Envelope>',
            "NOT_SMEV3",
        ),
        (
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
            b'<t:Nope xmlns:t="urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.1"/></s:Body></s:Envelope>',
            "UNKNOWN_OPERATION",
        ),
        (
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
            b'<t:AckRequest xmlns:t="urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.1"/></s:Body></s:Envelope>',
            "BAD_MESSAGE",
        ),
    ],
)
def test_unusable_input_is_a_coded_error(data: bytes, code: str) -> None:
    with pytest.raises(Smev3FormatError) as caught:
        CODEC.parse(data)
    assert caught.value.code == code


def test_bad_timestamp_is_a_coded_error() -> None:
    envelope = CODEC.get_response(m.GetResponseRequest(SELECTOR)).replace(
        b"2026-12-03T10:15:30.123000+00:00", b"yesterday"
    )
    with pytest.raises(Smev3FormatError) as caught:
        CODEC.parse(envelope)
    assert caught.value.code == "BAD_MESSAGE"
