"""`mse-gateway envelope build shep SendMessage|sendMessage SUBMISSION.json` and `envelope inspect`
for ШЭП envelopes, with the WS-Security verdict; built envelopes validate against the XSDs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from shep_kit import WHEN, assert_valid, identity

from adapters.shep import messages as m
from adapters.shep.codec import ShepCodec
from gateway.cli import main
from gateway.flk.sample_pki import SampleSigners
from gateway.flk.samples import make_submission
from gateway.signatures._asn1 import der_to_pem
from gateway.signatures.xml.wssecurity import sign_wssecurity


def _files(tmp_path: Path, signers: SampleSigners) -> tuple[Path, Path, Path, Path]:
    key, cert = identity("vendor MIS")
    key_path, cert_path = tmp_path / "key.pem", tmp_path / "cert.pem"
    key_path.write_bytes(key.to_pem())
    cert_path.write_bytes(der_to_pem(cert.der, "CERTIFICATE"))
    sub_path = tmp_path / "sub.json"
    sub_path.write_text(json.dumps(make_submission("kz-031u", 21, signers)), "utf-8")
    config = tmp_path / "gateway.toml"
    config.write_text(
        f'[storage]\ndata_dir = "{tmp_path}"\n[peers.shep]\nprotocol = "shep"\nsender_id = "mis-1"\n'
        'sender_password = "p"\nservice_id = "MZ_CBDI_MSE_031U"\n',
        "utf-8",
    )
    return config, key_path, cert_path, sub_path


def _run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def test_build_both_channels_then_inspect(tmp_path: Path, signers: SampleSigners) -> None:
    config, key, cert, sub = _files(tmp_path, signers)
    for operation, channel, name in (
        ("SendMessage", "SyncChannel", "SendMessage"),
        ("sendMessage", "AsyncChannel", "sendMessage"),
    ):
        built = _run(
            "--config",
            str(config),
            "envelope",
            "build",
            "shep",
            operation,
            str(sub),
            "--key",
            str(key),
            "--cert",
            str(cert),
            "--message-id",
            "11111111-2222-4333-8444-555555555555",
        )
        assert built.exit_code == 0, built.output
        data = built.output.encode()
        assert_valid(data)
        path = tmp_path / f"{operation}.xml"
        path.write_bytes(data)
        inspected = _run("envelope", "inspect", str(path), "--json")
        assert inspected.exit_code == 0, inspected.output
        found = json.loads(inspected.output)
        assert (found["protocol"], found["channel"], found["operation"]) == ("shep", channel, name)
        assert found["message_id"] == "11111111-2222-4333-8444-555555555555" and found["sender_id"] == "mis-1"
        [sig] = found["signatures"]
        assert sig["covers_target"] and sig["integrity"] == "valid" and sig["algorithm"] == "rsa-sha256"
        assert "s3cret" not in inspected.output
        lines = _run("envelope", "inspect", str(path))
        assert "wsse:Security over Body: NOT valid (integrity valid, chain" in lines.output  # no trust store given


def test_inspect_a_fault_gives_the_class_of_its_most_specific_code(tmp_path: Path) -> None:
    key, cert = identity("ШЭП")
    error = m.ErrorInfo("SCSE001", "ошибка", WHEN, sub_error=m.ErrorInfo("SENDER_AUTH_FAILED", "неверный пароль", WHEN))
    data = ShepCodec(signer=lambda d: sign_wssecurity(d, key, cert)).fault(
        m.ShepFault("soap:Server", "ошибка", error, "sendMessage")
    )
    path = tmp_path / "fault.xml"
    path.write_bytes(data)
    found = json.loads(_run("envelope", "inspect", str(path), "--json").output)
    assert (found["operation"], found["fault_code"], found["fault_class"]) == (
        "Fault",
        "SENDER_AUTH_FAILED",
        "permanent",
    )
    assert [e["code"] for e in found["errors"]] == ["SCSE001", "SENDER_AUTH_FAILED"]
    tampered = tmp_path / "tampered.xml"
    tampered.write_bytes(data.replace("неверный".encode(), "верный".encode()))
    [sig] = json.loads(_run("envelope", "inspect", str(tampered), "--json").output)["signatures"]
    assert sig["integrity"] != "valid" and not sig["valid"]


def test_unsigned_envelope_is_shown_as_such(tmp_path: Path) -> None:
    path = tmp_path / "plain.xml"
    path.write_bytes(ShepCodec().build(m.GetMessageStatus("x", WHEN, m.Sender("mis"))))
    found = json.loads(_run("envelope", "inspect", str(path), "--json").output)
    assert found["operation"] == "getMessageStatus" and found["signatures"][0]["integrity"] == "absent"


def test_build_refuses_an_unknown_operation(tmp_path: Path, signers: SampleSigners) -> None:
    config, key, cert, sub = _files(tmp_path, signers)
    out = _run(
        "--config",
        str(config),
        "envelope",
        "build",
        "shep",
        "getMessages",
        str(sub),
        "--key",
        str(key),
        "--cert",
        str(cert),
    )
    assert out.exit_code != 0 and "SendMessage" in out.output
