"""The fast signing template writes exactly what the engine's sign_cms writes (bar the randomised
signature value), and the engine verifies it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from asn1crypto import cms

from gateway.flk.fastsign import CmsTemplate, _length
from gateway.flk.sample_pki import SampleSigners
from gateway.signatures import Verifier, sign_cms


@pytest.mark.parametrize("role", ["vk-chair", "mo-org", "kz-vkk-chair"])
def test_same_bytes_as_sign_cms_except_the_signature(signers: SampleSigners, role: str) -> None:
    cert = signers.certificate(role)
    template = signers.template(role)
    content = b"<doc>" + "Проверка".encode() * 300 + b"</doc>"
    moment = datetime(2026, 3, 10, 8, 30, tzinfo=UTC)
    fast = template.sign(content, moment)
    slow = sign_cms(content, template.key, cert, chain=[signers.pki.ca], signing_time=moment)
    size = len(cms.ContentInfo.load(slow)["content"]["signer_infos"][0]["signature"].native)
    assert len(fast) == len(slow)
    assert fast[:-size] == slow[:-size]
    assert fast[-size:] != slow[-size:]  # GOST signatures are randomised


def test_template_signatures_verify(signers: SampleSigners) -> None:
    verifier = Verifier(signers.pki.trust_dir, [signers.pki.crl_path])
    content = b"<x>1</x>"
    moment = datetime(2026, 3, 10, 8, 30, tzinfo=UTC)
    report = verifier.verify_cms(signers.sign("vk-chair", content, moment), content, check_time=moment)
    assert report.valid, report.to_json()
    assert report.signatures[0].signing_time == "2026-03-10T08:30:00Z"
    tampered = verifier.verify_cms(signers.sign("vk-chair", content, moment), b"<x>2</x>", check_time=moment)
    assert not tampered.valid


def test_generalized_time_outside_utctime_range(signers: SampleSigners) -> None:
    template = CmsTemplate(signers.template("vk-chair").key, signers.certificate("vk-chair"), [signers.pki.ca])
    moment = datetime(2051, 1, 1, tzinfo=UTC)
    attrs = cms.ContentInfo.load(template.sign(b"x", moment))["content"]["signer_infos"][0]["signed_attrs"]
    times = [a["values"][0] for a in attrs if a["type"].native == "signing_time"]
    assert times[0].name == "generalized_time" and times[0].native == moment


@pytest.mark.parametrize("n", [0, 1, 127, 128, 255, 256, 65535, 65536, 10**7])
def test_der_length_encoding(n: int) -> None:
    from asn1crypto.core import OctetString

    encoded = OctetString(b"\0" * n).dump()
    assert encoded[1 : 1 + len(_length(n))] == _length(n)
