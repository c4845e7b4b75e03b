"""`mse-gateway envelope inspect/build` through the installed plug-ins (CliRunner)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from click.testing import CliRunner
from smev3_kit import metadata

from adapters.remd import codec as remd_codec
from adapters.remd.messages import StatusResponse
from adapters.remd.soap import Addressing
from adapters.remd.soap import build_envelope as remd_envelope
from adapters.smev3 import messages as m
from adapters.smev3.codec import Smev3Codec
from adapters.smev3.identity import new_message_id
from adapters.smev3.signing import Signer, verify_incoming
from gateway.cli import main
from gateway.signatures.certificates import load_certificates
from gateway.signatures.pki import TestPki
from gateway.signatures.xml.verify import XmlVerifier


def _inspect(tmp_path: Path, data: bytes, *extra: str) -> tuple[int, str]:
    path = tmp_path / "envelope.xml"
    path.write_bytes(data)
    result = CliRunner().invoke(main, ["envelope", "inspect", str(path), *extra])
    return result.exit_code, result.output


def test_inspect_an_smev3_response_with_its_signature(tmp_path: Path, smev_signer: Signer) -> None:
    ours = new_message_id()
    status = m.AsyncProcessingStatus(ours, "requestIsRejectedBySmev", "нет маршрута", fault_code="EX", has_fault=True)
    response = m.Response(m.SenderProvidedResponseData(new_message_id(), "r", async_status=status), metadata())
    data = Smev3Codec(smev_signer=smev_signer).get_response_response(m.GetResponseResponse(response))
    code, out = _inspect(tmp_path, data, "--json")
    assert code == 0, out
    found = json.loads(out)
    assert found["protocol"] == "smev3" and found["operation"] == "GetResponseResponse"
    assert found["response_kind"] == "async-status" and found["status"] == "requestIsRejectedBySmev"
    assert found["original_message_id"] == ours and found["fault_code"] == "EX"
    (sig,) = found["signatures"]
    assert sig["holder"] == "SMEVSignature" and sig["target"] == "Response" and sig["covers_target"]
    assert sig["integrity"] == "valid"
    code, out = _inspect(tmp_path, data)  # the line format
    assert code == 0 and "response_kind: async-status" in out and "SMEVSignature over Response" in out


def test_inspect_an_smev3_fault_gives_its_class_from_the_code_table(tmp_path: Path) -> None:
    code, out = _inspect(tmp_path, Smev3Codec().fault(m.Fault("SMEVFailure", "сбой")), "--json")
    found = json.loads(out)
    assert code == 0 and found["operation"] == "Fault"
    assert (found["fault_code"], found["fault_class"]) == ("SMEVFailure", "transient")
    fault = m.Fault("SignatureVerificationFault", "x", description="d", subcode="CertificateIsExpired")
    found = json.loads(_inspect(tmp_path, Smev3Codec().fault(fault), "--json")[1])
    assert found["fault_subcode"] == "CertificateIsExpired" and found["fault_class"] == "permanent"


def test_inspect_a_remd_envelope_and_refuse_what_nobody_knows(tmp_path: Path) -> None:
    body = remd_codec.build_register_document_response(StatusResponse(False, (("NOT_UNIQUE_PROVIDED_ID", "dup"),)))
    data = remd_envelope(body, addressing=Addressing(message_id="urn:uuid:1", relates_to="urn:uuid:0"))
    code, out = _inspect(tmp_path, data, "--json")
    assert code == 0, out
    found = json.loads(out)
    assert found["protocol"] == "remd" and found["operation"] == "registerDocumentResponse"
    assert found["relates_to"] == "urn:uuid:0" and found["status"] == "error"
    assert found["fault_code"] == "NOT_UNIQUE_PROVIDED_ID"
    code, out = _inspect(tmp_path, b"<not-an-envelope/>")
    assert code == 1 and "not an envelope of any installed protocol" in out


def test_build_prints_the_signed_send_request(tmp_path: Path, smev3_pki: TestPki, verifier: XmlVerifier) -> None:
    issued = smev3_pki.issue("mo-org", algorithm="gost2012-256")
    config = tmp_path / "gateway.toml"
    config.write_text('[peers.smev]\nprotocol = "smev3"\nurl = "http://smev.invalid/"\n')
    submission = {
        "source_system": "mis",
        "local_uid": "doc-42",
        "kind": "35",
        "organization_oid": "1.2.643.5.1.13.13.12.2.77.9001",
        "creation_datetime": "2026-11-20T00:00:00+00:00",
        "patient": {"snils": "112-233-445 95"},
        "document": base64.b64encode(b"<ClinicalDocument/>").decode(),
        "document_mime": "application/xml",
        "signatures": [{"type": "organization", "cms": "MIIB"}],
    }
    sub_path = tmp_path / "submission.json"
    sub_path.write_text(json.dumps(submission))
    mid = new_message_id()
    args = ["--config", str(config), "envelope", "build", "smev", "SendRequest", str(sub_path)]
    args += ["--key", str(issued.key_path), "--cert", str(issued.cert_path), "--message-id", mid]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    data = result.output.encode()
    msg = Smev3Codec().parse(data)
    assert isinstance(msg, m.SendRequestRequest) and msg.data.message_id == mid
    assert b"doc-42" in msg.data.content
    chain = load_certificates(smev3_pki.chain_path.read_bytes())  # the key file's certificate has no CA chain
    assert verify_incoming(data, verifier, certificates=chain).trusted("CallerInformationSystemSignature")
    result = CliRunner().invoke(main, [*args[:5], "GetStatus", *args[6:]])
    assert result.exit_code == 1 and "SendRequest only" in result.output
