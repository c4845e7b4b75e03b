"""The SMEV 3 code table, row by row through the core's classifier; the settings model."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from smev3_kit import fault_elements

from adapters.smev3 import messages as m
from adapters.smev3.codes import RENEW_MESSAGE_ID, smev3_code_table
from adapters.smev3.settings import DEFAULT_ATTACHMENT_THRESHOLD, Smev3Settings
from adapters.smev3.signing import Signer
from gateway.delivery.classify import Verdict, classify_answer
from gateway.peers.codes import CodeClass
from gateway.signatures.pki import TestPki

R, F, A = Verdict.RETRY, Verdict.FAIL, Verdict.ALREADY_THERE
ROWS: list[tuple[str, Verdict, str, float]] = [
    # code, verdict, cause, minimum wait
    ("MessageIsAlreadySent", A, "already-registered", 0.0),
    ("StaleMessageId", R, "stalemessageid", 0.0),
    ("InvalidMessageIdFormat", F, "permanent", 0.0),
    ("SMEVFailure", R, "smevfailure", 0.0),
    ("DestinationOverflow", R, "rate-limit", 600.0),
    ("EndOfLifeReached", R, "endoflifereached", 0.0),
    ("SignatureVerificationFault", F, "permanent", 0.0),
    ("PoorSOAPEnvelopeFormat", F, "permanent", 0.0),
    ("NoSignatureFound", F, "permanent", 0.0),
    ("IncorrectSignatureTarget", F, "permanent", 0.0),
    ("SignatureIsInvalid", F, "permanent", 0.0),
    ("CertificateIsNotFound", F, "permanent", 0.0),
    ("CertificateIsExpired", F, "permanent", 0.0),
    ("SenderIsNotRegistered", F, "permanent", 0.0),
    ("AccessDenied", F, "permanent", 0.0),
    ("BusinessDataTypeIsNotSupported", F, "permanent", 0.0),
    ("InvalidContent", F, "permanent", 0.0),
    ("AttachmentSizeLimitExceeded", F, "permanent", 0.0),
    ("QuoteLimitExceeded", F, "permanent", 0.0),
    ("AttachmentContentMiscoordination", F, "permanent", 0.0),
    ("RecipientIsNotFound", F, "permanent", 0.0),
    ("UnknownMessageType", F, "permanent", 0.0),
    ("TransactionCodeInvalid", F, "permanent", 0.0),
    ("IncorrectResponseContentType", F, "permanent", 0.0),
    ("RequestIsNotFound", F, "permanent", 0.0),
    ("TargetMessageIsNotFound", F, "permanent", 0.0),
    ("SOAP_SERVER", R, "soap-server", 0.0),
    ("SOAP_CLIENT", F, "permanent", 0.0),
    ("EAVIIAS_RETURNED", F, "permanent", 0.0),  # the bureau returned the referral (360n reasons)
    ("EAVIIAS_NOTICE_INVALID", F, "permanent", 0.0),
]


def test_every_row_is_tested_and_explained() -> None:
    table = smev3_code_table()
    assert {c.upper() for c, *_ in ROWS} == set(table.codes)
    for code, rule in table.codes.items():
        assert len(rule.description) > 40, f"{code}: the operator explanation is missing or too short"
        assert any("а" <= ch <= "я" for ch in rule.description.lower()), f"{code}: explanation not in Russian"
    assert {e.upper() for e in fault_elements()} <= set(table.codes)


@pytest.mark.parametrize(("code", "verdict", "cause", "wait"), ROWS, ids=[r[0] for r in ROWS])
def test_row(code: str, verdict: Verdict, cause: str, wait: float) -> None:
    decision = classify_answer([(code, "текст СМЭВ")], smev3_code_table())
    assert decision.verdict is verdict
    assert decision.code == code and decision.message == "текст СМЭВ"
    assert decision.cause == cause
    assert decision.min_wait == wait


def test_stale_message_id_renews_the_id() -> None:
    assert "STALEMESSAGEID" in RENEW_MESSAGE_ID and len(RENEW_MESSAGE_ID) == 1
    assert smev3_code_table().lookup("StaleMessageId").cls is CodeClass.TRANSIENT  # type: ignore[union-attr]


def test_signature_fault_is_classified_by_its_reason() -> None:
    fault = m.Fault(
        "SignatureVerificationFault", "x", description="Срок действия истёк", subcode="CertificateIsExpired"
    )
    decision = classify_answer(fault.answer_codes(), smev3_code_table())
    assert decision.verdict is Verdict.FAIL and decision.code == "CertificateIsExpired"


def test_already_sent_wins_over_other_codes() -> None:
    decision = classify_answer([("SMEVFailure", "a"), ("MessageIsAlreadySent", "b")], smev3_code_table())
    assert decision.verdict is Verdict.ALREADY_THERE


def test_settings_defaults_and_validation() -> None:
    s = Smev3Settings()
    assert s.namespace_version == "1.1" and s.attachment_threshold_bytes == DEFAULT_ATTACHMENT_THRESHOLD == 5 * 2**20
    assert not s.test_message and s.node_id == "" and s.key_path() is None
    assert not s.message_type_selector.selects_type
    full = Smev3Settings.model_validate(
        {
            "protocol": "smev3",
            "namespace_version": "1.3",
            "message_type_selector": {"namespace_uri": "urn:x", "root_element_local_name": "Decision"},
            "node_id": "node-1",
            "test_message": True,
        }
    )
    assert full.message_type_selector.selects_type
    for bad in ({"namespace_version": "1.4"}, {"attachment_threshold_bytes": 0}, {"node_id": "x" * 51}, {"nope": 1}):
        with pytest.raises(ValidationError):
            Smev3Settings.model_validate(bad)


def test_signer_from_files(tmp_path_factory: pytest.TempPathFactory) -> None:
    directory = tmp_path_factory.mktemp("signer-files")
    issued = TestPki.init(directory / "pki", "gost2012-256").issue("mo-org")
    # the files the PKI wrote (PEM), and DER copies
    signer = Signer.from_files(issued.key_path, issued.cert_path)
    assert signer.certificate.der == issued.certificate.der
    key_der, cert_der = directory / "is.key.der", directory / "is.cer"
    key_der.write_bytes(issued.key.to_pkcs8_der())
    cert_der.write_bytes(issued.certificate.der)
    assert Signer.from_files(key_der, cert_der).certificate.der == issued.certificate.der
