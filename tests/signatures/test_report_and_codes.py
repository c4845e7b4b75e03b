"""The report's keys are documented, and the codes agree with REMD's published list."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from gateway.signatures.codes import SignatureErrorCode
from gateway.signatures.pki import IssuedCertificate, TestPki
from gateway.signatures.sign import sign_cms
from gateway.signatures.verify import Verifier

DOCS = Path(__file__).resolve().parents[2] / "docs" / "verify-report.md"
REMD_TSV = Path("/work/shared/reference/remd-error-codes.tsv")


def test_every_report_key_is_documented(gost_pki: TestPki, gost_signer: IssuedCertificate) -> None:
    signature = sign_cms(b"doc", gost_signer.key, gost_signer.certificate, chain=[gost_pki.ca])
    report = Verifier(gost_pki.trust_dir).verify_cms(signature, b"doc!").to_dict()
    sig = report["signatures"][0]
    keys = set(report) | set(sig) | set(sig["signer"]) | set(sig["certificate"]) | set(sig["errors"][0])
    keys |= set(sig["chain_certificates"][0])
    text = DOCS.read_text(encoding="utf-8")
    missing = sorted(k for k in keys if f"`{k}`" not in text)
    assert not missing, f"undocumented report keys: {missing}"


def test_every_code_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert not [c.value for c in SignatureErrorCode if f"`{c.value}`" not in text]


def test_codes_match_remd_list() -> None:
    if not REMD_TSV.exists():
        pytest.skip(f"{REMD_TSV} not available")
    with REMD_TSV.open(encoding="utf-8") as fh:
        rows = {row["code"]: row for row in csv.DictReader(fh, delimiter="\t")}
    for code in SignatureErrorCode:
        row = rows[code.remd_code]
        assert int(row["nsi_id"]) == code.nsi_id, code
        if code.value == code.remd_code and code is not SignatureErrorCode.DIGEST_MISMATCH:
            assert row["description"] == code.message, code
