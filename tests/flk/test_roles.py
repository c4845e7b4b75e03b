"""Role policy: the shipped file, its loader, and every check with a passing and a failing case."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flk.helpers import NOW, ROOT, canonical, replace, run_check
from gateway.documents import ParsedDocument
from gateway.documents.identifiers import is_valid_iin
from gateway.errors import ConfigError
from gateway.flk.checker import FullChecker
from gateway.flk.fastsign import CmsTemplate
from gateway.flk.roles import BUILTIN_POLICY, RolePolicy, check_roles, load_role_policy, normalise_title
from gateway.flk.sample_pki import SampleSigners
from gateway.flk.samples import sign_document
from gateway.flk.signatures import SignatureCheck, verify_entries_sync
from gateway.intake.submission import CanonicalSubmission
from gateway.signatures import Verifier


def _checks(verifier: Verifier, data: dict[str, Any]) -> tuple[CanonicalSubmission, list[SignatureCheck]]:
    sub = canonical(data)
    return sub, verify_entries_sync(verifier, sub, check_time=NOW)


def _codes(found: list[Any]) -> list[str]:
    return [f.code for f in found]


def test_shipped_roles_file_equals_the_builtin_policy() -> None:
    assert dict(load_role_policy(ROOT / "config" / "roles.toml").kinds) == dict(BUILTIN_POLICY.kinds)


def test_no_file_means_the_builtin_policy() -> None:
    assert load_role_policy(None) is BUILTIN_POLICY


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kinds = 1", "invalid role policy"),
        ('[kinds."121"]\nrole = "X"\nidentity = "passport"', "identity"),
        ('[kinds."121"]\nrole = "X"\nidentity = "snils"\ntitle_patterns = ["("]', "regular expression"),
        ('[kinds."121"]\nrole = "X"\nidentity = "snils"\npersonal_min = 2', "personal_min"),
        ("not toml [", "not valid TOML"),
    ],
)
def test_bad_policy_files_are_refused(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "roles.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_role_policy(path)


def test_missing_policy_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_role_policy(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("title", "fits"),
    [
        ("Председатель врачебной комиссии", True),
        ("Заместитель главного врача по КЭР, председатель ВК", True),
        ("ПРЕДСЕДАТЕЛЬ   ВРАЧЕБНОЙ КОМИССИИ", True),
        ("Врач-терапевт", False),
        ("Член врачебной комиссии", False),
        (None, False),
    ],
)
def test_vk_chair_titles(title: str | None, fits: bool) -> None:
    assert BUILTIN_POLICY.kinds["121"].title_fits(title) is fits


def test_title_normalisation() -> None:
    assert normalise_title("  Руководитель  бюро МСЭ ЁЖ ") == "руководитель бюро мсэ еж"


# --- the checks: pass and fail ------------------------------------------------------------------


def test_valid_referral_passes_every_role_check(verifier: Verifier, valid: Callable[..., dict[str, Any]]) -> None:
    data = valid("121", 3)
    sub, checks = _checks(verifier, data)
    found, roles = check_roles(BUILTIN_POLICY, sub, None, checks)
    assert found == []
    assert [r["type"] for r in roles] == ["personal", "organization"]
    assert roles[0]["ok"] and roles[0]["identity_ok"] and roles[0]["position_ok"]


def test_non_chair_signature_is_position_to_role_mismatch(
    base_checker: FullChecker, doc_of: Callable[..., ParsedDocument], submit: Callable[..., dict[str, Any]]
) -> None:
    doc = doc_of("121", 4, signer_role="doctor")  # the MIS names the doctor as the VK chair
    report = run_check(base_checker, submit(doc, personal=["doctor"]))
    assert not report.passed
    first = report.first
    assert first is not None
    assert (first.category, first.code) == ("role", "POSITION_TO_ROLE_MISMATCH")
    assert "Врач-терапевт" in first.message


def test_metadata_snils_not_the_certificates(
    verifier: Verifier, doc_of: Callable[..., ParsedDocument], submit: Callable[..., dict[str, Any]]
) -> None:
    doc = doc_of("121", 5)
    sub, checks = _checks(verifier, submit(doc, signer_metadata={"snils": "112-233-445 95"}))
    found, _ = check_roles(BUILTIN_POLICY, sub, doc, checks)
    assert _codes(found) == ["VALUE_MISMATCH_METADATA_AND_CERTIFICATE"]
    assert found[0].field == "signatures/0/signer/snils"


def test_document_signer_not_the_certificates(
    verifier: Verifier, doc_of: Callable[..., ParsedDocument], submit: Callable[..., dict[str, Any]]
) -> None:
    doc = doc_of("121", 5)
    other = replace(doc, legal_authenticator=replace(doc.legal_authenticator, snils="112-233-445 95"))
    sub, checks = _checks(verifier, submit(doc))
    assert check_roles(BUILTIN_POLICY, sub, doc, checks)[0] == []
    found, roles = check_roles(BUILTIN_POLICY, sub, other, checks)
    assert _codes(found) == ["VALUE_MISMATCH_METADATA_AND_CERTIFICATE"]
    assert found[0].field == "legal_authenticator.snils"
    assert roles[0]["identity_ok"] is False


@pytest.mark.parametrize(
    ("personal", "organisation", "code"),
    [
        ([], ["mo-org"], "ROLE_OCCURRENCE_MISMATCH"),
        (["vk-chair", "vk-chair"], ["mo-org"], "ROLE_OCCURRENCE_MISMATCH"),
        (["vk-chair"], [], "ORG_SIGNATURE_OCCURRENCE_MISMATCH"),
        (["vk-chair"], ["mo-org", "mo-org"], "ORG_SIGNATURE_OCCURRENCE_MISMATCH"),
    ],
)
def test_signature_counts(
    verifier: Verifier,
    doc_of: Callable[..., ParsedDocument],
    submit: Callable[..., dict[str, Any]],
    personal: list[str],
    organisation: list[str],
    code: str,
) -> None:
    doc = doc_of("121", 6)
    sub, checks = _checks(verifier, submit(doc, personal=personal, organisation=organisation))
    assert code in _codes(check_roles(BUILTIN_POLICY, sub, doc, checks)[0])


def test_return_notice_may_omit_the_organisation_signature(
    verifier: Verifier, doc_of: Callable[..., ParsedDocument], submit: Callable[..., dict[str, Any]]
) -> None:
    doc = doc_of("108", 2)
    sub, checks = _checks(verifier, submit(doc, organisation=[]))
    assert check_roles(BUILTIN_POLICY, sub, doc, checks)[0] == []


def test_foreign_organisation_signature(
    verifier: Verifier, doc_of: Callable[..., ParsedDocument], submit: Callable[..., dict[str, Any]]
) -> None:
    doc = doc_of("121", 7)
    sub, checks = _checks(verifier, submit(doc, organisation=["foreign-mo-org"]))
    found, roles = check_roles(BUILTIN_POLICY, sub, doc, checks)
    assert _codes(found) == ["SIGNER_ORG_MISMATCH"]
    assert roles[1]["organization_ok"] is False


def test_personal_certificate_of_another_organisation(
    verifier: Verifier, doc_of: Callable[..., ParsedDocument], submit: Callable[..., dict[str, Any]]
) -> None:
    doc = doc_of("121", 7)
    sub, checks = _checks(verifier, submit(doc))
    moved = replace(doc, organisation=replace(doc.organisation, ogrn="1027700132195"))
    found, _ = check_roles(BUILTIN_POLICY, sub, moved, checks)
    # both the chair's certificate and the MO's organisation certificate name the other OGRN
    assert _codes(found) == ["SIGNER_ORG_MISMATCH", "SIGNER_ORG_MISMATCH"]


def test_kz_individual_certificate_passes_and_legal_entity_certificate_does_not(
    verifier: Verifier, doc_of: Callable[..., ParsedDocument], submit: Callable[..., dict[str, Any]]
) -> None:
    doc = doc_of("kz-031u", 2)
    sub, checks = _checks(verifier, submit(doc))
    assert check_roles(BUILTIN_POLICY, sub, doc, checks)[0] == []
    employee = doc_of("kz-031u", 2, signer_role="kz-employee")
    sub, checks = _checks(verifier, submit(employee, personal=["kz-employee"]))
    found, _ = check_roles(BUILTIN_POLICY, sub, employee, checks)
    assert _codes(found) == ["POSITION_TO_ROLE_MISMATCH"]
    assert "INDIVIDUAL" in found[0].message


def test_placeholder_iin_with_a_bad_checksum_is_compared_not_validated(
    signers: SampleSigners, verifier: Verifier, doc_of: Callable[..., ParsedDocument]
) -> None:
    """NCA test certificates carry IIN123456789011, whose check digit is wrong: equal IINs match."""
    placeholder = "123456789011"
    assert not is_valid_iin(placeholder)
    issued = signers.pki.issue(
        "kz-individual", {"iin": placeholder}, algorithm="gost2015-kz-512", not_before=NOW.replace(year=2025)
    )
    template = CmsTemplate(issued.key, issued.certificate, [signers.pki.ca])
    doc = doc_of("kz-031u", 3)
    doc = replace(doc, legal_authenticator=replace(doc.legal_authenticator, iin=placeholder))
    data = sign_document(doc, signers, signing_time=doc.created, personal=[])
    data["signatures"] = [
        {
            "type": "personal",
            "signer": {"iin": placeholder},
            "cms": base64.b64encode(template.sign(canonical(data).document, doc.created)).decode(),
        }
    ]
    sub, checks = _checks(verifier, data)
    assert checks[0].valid
    assert check_roles(BUILTIN_POLICY, sub, doc, checks)[0] == []


def test_kind_without_policy_cannot_pass(verifier: Verifier, valid: Callable[..., dict[str, Any]]) -> None:
    sub, checks = _checks(verifier, valid("121", 8))
    found, _ = check_roles(RolePolicy({}), sub, None, checks)
    assert _codes(found) == ["ROLE_OCCURRENCE_MISMATCH"]
