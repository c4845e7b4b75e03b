"""`envelope inspect` on real SMEV 3 envelopes captured from public sources
(tests/vectors/smev3/captured/SOURCES.md): each is classified correctly, and signatures by
certificates this gateway does not trust get a clear verdict instead of a crash."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gateway.cli import main

CAPTURED = Path(__file__).resolve().parents[2] / "vectors" / "smev3" / "captured"
XMLDSIG = Path(__file__).resolve().parents[2] / "vectors" / "xmldsig"


def _inspect(path: Path) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["envelope", "inspect", str(path), "--json"])
    assert result.exit_code == 0, result.output
    found: dict[str, Any] = json.loads(result.output)
    return found


# file, expected fields, (holder, integrity) of each signature in document order
CASES: list[tuple[str, dict[str, Any], list[tuple[str, str]]]] = [
    (
        "send-request-1.2-signed.xml",
        {"operation": "SendRequest", "message_id": "39f52a38-9a54-11ea-b23a-3316e2108089"},
        [("CallerInformationSystemSignature", "valid")],
    ),
    (
        "send-request-response-1.2.xml",
        {
            "operation": "SendRequestResponse",
            "smev_message_id": "39f52a38-9a54-11ea-b23a-3316e2108089",
            "status": "requestIsQueued",
        },
        [("SMEVSignature", "valid")],
    ),
    (
        "get-response-response-business-1.2.xml",
        {
            "operation": "GetResponseResponse",
            "response_kind": "business",
            "original_message_id": "39f52a38-9a54-11ea-b23a-3316e2108089",
            "message_id": "c0938f39-9a55-11ea-8ec7-2dd0b486eb66",
        },
        [("SenderInformationSystemSignature", "valid"), ("SMEVSignature", "valid")],
    ),
    (
        "ack-request-1.2.xml",
        {"operation": "Ack", "message_id": "c0938f39-9a55-11ea-8ec7-2dd0b486eb66", "accepted": True},
        [("CallerInformationSystemSignature", "valid")],
    ),
    (
        "get-request-response-1.1.xml",
        {"operation": "GetRequestResponse", "message_id": "047b500c-04a4-11eb-af32-fa163eff7bf8", "empty": False},
        [("SMEVSignature", "invalid")],
    ),
    (
        "send-request-attachment-pkcs7-1.2.xml",
        {"operation": "SendRequest", "message_id": "4034b590-aef8-11ea-ac86-5b7a89790fcb"},
        [("CallerInformationSystemSignature", "valid")],
    ),
    (
        "get-response-rejected-1.1-gost2001.xml",
        {
            "operation": "GetResponseResponse",
            "response_kind": "rejected",
            "original_message_id": "257eec40-7edc-11e8-8664-b1d321bf4237",
        },
        [("SenderInformationSystemSignature", "invalid"), ("SMEVSignature", "invalid")],
    ),
    (
        "get-response-async-rejected-1.2-bare.xml",
        {
            "operation": "GetResponseResponse",
            "bare_payload": True,
            "response_kind": "async-status",
            "status": "requestIsRejectedBySmev",
            "original_message_id": "b077cd84-3959-11f1-b8b2-0242333cce59",
            "message_id": "b09d7e45-3959-11f1-a763-938a8f3d61d2",
        },
        [("SMEVSignature", "invalid")],
    ),
    (
        "fault-signature-verification-no-signature-1.1.xml",
        {
            "operation": "Fault",
            "fault_code": "SignatureVerificationFault",
            "fault_subcode": "NoSignatureFound",
            "fault_class": "permanent",
        },
        [],
    ),
]


@pytest.mark.parametrize(("name", "expected", "signatures"), CASES, ids=[c[0] for c in CASES])
def test_captured_envelope_is_classified(
    name: str, expected: dict[str, Any], signatures: list[tuple[str, str]]
) -> None:
    found = _inspect(CAPTURED / name)
    assert found["protocol"] == "smev3"
    for key, value in expected.items():
        assert found.get(key) == value, (key, found.get(key))
    assert [(s["holder"], s["integrity"]) for s in found["signatures"]] == signatures
    for sig in found["signatures"]:
        # nothing captured is signed by a certificate this gateway trusts: never "valid"
        assert sig["valid"] is False
        if sig["integrity"] == "valid":
            assert "not trusted by this gateway" in sig["verdict"], sig
        else:
            assert sig["verdict"].startswith("NOT VALID"), sig


def test_rejection_reason_and_async_fault_are_read() -> None:
    rejected = _inspect(CAPTURED / "get-response-rejected-1.1-gost2001.xml")
    (rejection,) = rejected["rejections"]
    assert rejection["code"] == "UNKNOWN_REQUEST_DESCRIPTION"
    assert any("UNKNOWN_ALGORITHM" in r for s in rejected["signatures"] for r in s["reasons"])
    bare = _inspect(CAPTURED / "get-response-async-rejected-1.2-bare.xml")
    assert bare["fault_code"] == "028122"
    (sig,) = bare["signatures"]
    assert any(r.startswith("SIGNATURE_VERIFICATION_ERROR") for r in sig["reasons"])
    fault = _inspect(CAPTURED / "fault-signature-verification-no-signature-1.1.xml")
    assert "Отсутствует" in fault["fault_text"]


def test_a_real_attachment_signature_gets_a_verdict() -> None:
    found = _inspect(CAPTURED / "send-request-attachment-pkcs7-1.2.xml")
    (attachment,) = found["attachments"]
    assert attachment["id"].endswith(".full_request_rr_try0.zip")
    assert (attachment["present"], attachment["signed"], attachment["valid"]) == (True, True, False)
    # the real CryptoPro CMS over the real zip verifies; only its signer is not trusted here
    assert any(r.startswith("integrity valid, chain ") for r in attachment["reasons"]), attachment


def test_the_real_13_response_verifies_but_is_not_trusted() -> None:
    found = _inspect(XMLDSIG / "smev3-response-signed-by-smev.xml")
    assert (found["operation"], found["response_kind"]) == ("GetResponseResponse", "business")
    (sig,) = found["signatures"]
    assert (sig["holder"], sig["integrity"], sig["covers_target"], sig["valid"]) == (
        "SMEVSignature",
        "valid",
        True,
        False,
    )


def test_every_captured_file_is_listed_in_sources() -> None:
    sources = (CAPTURED / "SOURCES.md").read_text("utf-8")
    files = sorted(p.name for p in CAPTURED.glob("*.xml"))
    assert files == sorted(c[0] for c in CASES)
    for name in files:
        assert f"`{name}`" in sources
