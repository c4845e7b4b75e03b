"""ЭП-ОВ made by the codec verifies with the project's XMLDSig verifier (GOST 2012-256 and -512,
exc-c14n + the SMEV transform, the signature in the sibling holder) and fails after tampering;
verify_incoming checks ЭП-СМЭВ and the forwarded sender's signature and never raises."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from lxml import etree
from smev3_kit import DS, T0, metadata, request_data, response_data

from adapters.smev3 import messages as m
from adapters.smev3.codec import Smev3Codec
from adapters.smev3.identity import new_message_id
from adapters.smev3.signing import Signer, verify_incoming
from gateway.signatures.xml import uris
from gateway.signatures.xml.verify import XmlVerifier

GOST_URIS = {
    "gost2012-256": (
        "urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34102012-gostr34112012-256",
        "urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34112012-256",
    ),
    "gost2012-512": (
        "urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34102012-gostr34112012-512",
        "urn:ietf:params:xml:ns:cpxmlsec:algorithms:gostr34112012-512",
    ),
}

# (operation, builder, signed element's local name, a text inside the signed element to tamper with)
REQUESTS: list[tuple[str, Callable[[Smev3Codec], bytes], str, bytes]] = [
    (
        "SendRequest",
        lambda c: c.send_request(m.SendRequestRequest(request_data(personal_signature=None))),
        "SenderProvidedRequestData",
        b"12345678901",
    ),
    (
        "SendResponse",
        lambda c: c.send_response(m.SendResponseRequest(response_data(m.ResponseKind.BUSINESS))),
        "SenderProvidedResponseData",
        b"<r:Code>1<",
    ),
    (
        "GetResponse",
        lambda c: c.get_response(m.GetResponseRequest(m.MessageTypeSelector(T0, "urn:test:a", "Decision"))),
        "MessageTypeSelector",
        b"urn:test:a",
    ),
    (
        "GetRequest",
        lambda c: c.get_request(m.GetRequestRequest(m.MessageTypeSelector(T0, "urn:test:a", "Referral"))),
        "MessageTypeSelector",
        b"urn:test:a",
    ),
    ("Ack", lambda c: c.ack(m.AckRequest("0b8f6a8e-ef4f-11f1-8000-02fc00000001", True)), "AckTargetMessage", b'"true"'),
    ("GetStatus", lambda c: c.get_status(m.GetStatusRequest(T0)), "Timestamp", b"2026-12-03T10"),
]
TAMPER = {b"12345678901": b"12345678902", b"<r:Code>1<": b"<r:Code>2<", b"urn:test:a": b"urn:test:b"}
TAMPER |= {b'"true"': b'"false"', b"2026-12-03T10": b"2026-12-03T11"}


@pytest.mark.parametrize("algorithm", sorted(GOST_URIS))
@pytest.mark.parametrize(("operation", "build", "target", "needle"), REQUESTS, ids=[r[0] for r in REQUESTS])
def test_caller_signature_verifies_and_fails_after_tampering(
    algorithm: str,
    operation: str,
    build: Callable[[Smev3Codec], bytes],
    target: str,
    needle: bytes,
    is_signers: dict[str, Signer],
    verifier: XmlVerifier,
) -> None:
    envelope = build(Smev3Codec(signer=is_signers[algorithm]))
    root = etree.fromstring(envelope)
    [signature] = root.iter(f"{{{DS}}}Signature")
    holder = signature.getparent()
    assert holder is not None and etree.QName(holder).localname == "CallerInformationSystemSignature"
    signed = holder.getparent()[0]  # type: ignore[index]
    assert etree.QName(signed).localname == target
    ref = signature.find(f".//{{{DS}}}Reference")
    assert ref is not None and ref.get("URI") == f"#{signed.get('Id')}"
    assert [t.get("Algorithm") for t in signature.iter(f"{{{DS}}}Transform")] == [uris.EXC_C14N, uris.SMEV_TRANSFORM]
    sig_uri, digest_uri = GOST_URIS[algorithm]
    assert signature.find(f".//{{{DS}}}SignatureMethod").get("Algorithm") == sig_uri  # type: ignore[union-attr]
    assert signature.find(f".//{{{DS}}}DigestMethod").get("Algorithm") == digest_uri  # type: ignore[union-attr]

    verdicts = verify_incoming(envelope, verifier)
    [verdict] = verdicts.of("CallerInformationSystemSignature")
    assert verdict.valid, verdict.reasons
    assert verdict.target == target and verdict.covers_target and verdict.chain == "trusted"
    assert verifier.verify_xml(envelope).valid  # the project's verifier, directly

    assert needle in envelope
    tampered = verify_incoming(envelope.replace(needle, TAMPER[needle], 1), verifier)
    [bad] = tampered.of("CallerInformationSystemSignature")
    assert not bad.valid and bad.integrity == "invalid"


def test_smev_signature_on_send_request_response(smev_signer: Signer, verifier: XmlVerifier) -> None:
    codec = Smev3Codec(smev_signer=smev_signer)
    envelope = codec.send_request_response(m.SendRequestResponse(metadata("REQUEST")))
    verdicts = verify_incoming(envelope, verifier)
    [verdict] = verdicts.of("SMEVSignature")
    assert verdict.valid and verdict.target == "MessageMetadata"
    assert b'Id="SIGNED_BY_SMEV"' in envelope and verdicts.smev_valid
    tampered = verify_incoming(envelope.replace(b"requestIsQueued", b"requestIsRejectedBySmev"), verifier)
    assert not tampered.smev_valid


def test_forwarded_sender_signature_survives_the_new_envelope(
    is_signers: dict[str, Signer], smev_signer: Signer, verifier: XmlVerifier
) -> None:
    """The provider signs SendResponse; SMEV forwards its SenderProvidedResponseData and signature
    inside GetResponseResponse/Response (other prefixes, other ancestors) and signs the Response:
    both verify, thanks to exc-c14n + the SMEV transform."""
    provider = Smev3Codec("1.1", signer=is_signers["gost2012-512"])
    sent = provider.send_response(m.SendResponseRequest(response_data(m.ResponseKind.STATUS)))
    parsed = provider.parse(sent)
    assert isinstance(parsed, m.SendResponseRequest)
    root = etree.fromstring(sent)
    [sender_sig] = root.iter(f"{{{DS}}}Signature")
    response = m.Response(parsed.data, metadata(), new_message_id(), sender_signature=etree.tostring(sender_sig))
    envelope = Smev3Codec(smev_signer=smev_signer).get_response_response(m.GetResponseResponse(response))
    verdicts = verify_incoming(envelope, verifier)
    assert verdicts.smev_valid and verdicts.all_valid, verdicts
    [sender] = verdicts.of("SenderInformationSystemSignature")
    assert sender.target == "SenderProvidedResponseData"
    [smev] = verdicts.of("SMEVSignature")
    assert smev.target == "Response"
    parsed_answer = Smev3Codec().parse(envelope)
    assert isinstance(parsed_answer, m.GetResponseResponse) and parsed_answer.response is not None
    assert parsed_answer.response.data == parsed.data


def test_signature_over_the_wrong_element_is_not_valid(is_signers: dict[str, Signer], verifier: XmlVerifier) -> None:
    """A genuine signature whose holder sits next to another element (a signature moved from
    its place) is reported as not covering its target."""
    codec = Smev3Codec(signer=is_signers["gost2012-256"])
    envelope = codec.send_request(m.SendRequestRequest(request_data(personal_signature=None)))
    root = etree.fromstring(envelope)
    holder = next(
        e for e in root.iter() if isinstance(e.tag, str) and e.tag.endswith("CallerInformationSystemSignature")
    )
    data = holder.getparent()[0]  # type: ignore[index]
    data.append(holder)  # the holder inside the signed element: its "first sibling" is MessageID
    moved = etree.tostring(root)
    [verdict] = verify_incoming(moved, verifier).of("CallerInformationSystemSignature")
    assert not verdict.valid and not verdict.covers_target


@pytest.mark.parametrize(
    "data",
    [b"", b"not xml", b"<a/>", b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', Smev3Codec().ack_response()],
)
def test_bad_or_unsigned_input_gives_verdicts_not_exceptions(data: bytes, verifier: XmlVerifier) -> None:
    verdicts = verify_incoming(data, verifier)
    assert not verdicts.smev_valid and not verdicts.all_valid and verdicts.signatures == ()


def test_untrusted_signer_is_not_valid(verifier: XmlVerifier, tmp_path_factory: pytest.TempPathFactory) -> None:
    from gateway.signatures.pki import TestPki

    other = TestPki.init(tmp_path_factory.mktemp("other-pki"), "gost2012-256").issue("mse-org")
    codec = Smev3Codec(smev_signer=Signer(other.key, other.certificate))
    envelope = codec.send_request_response(m.SendRequestResponse(metadata("REQUEST")))
    [verdict] = verify_incoming(envelope, verifier).of("SMEVSignature")
    assert verdict.integrity == "valid" and verdict.chain != "trusted" and not verdict.valid
