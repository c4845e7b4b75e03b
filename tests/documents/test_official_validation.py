"""Generated referrals against the ministry's own XSD and schematron (reference copy in
shared/reference/semd), and deliberately broken ones against the rules they break."""

from __future__ import annotations

import time

import pytest
from lxml import etree

from gateway.documents import DocumentKind, build_document
from gateway.documents.samples import sample_document
from gateway.documents.schematron import DYNAMIC_ERROR_RULE_ID, compile_schematron
from gateway.documents.semd_package import SemdPackages
from gateway.wire.safexml import parse_xml

H = "{urn:hl7-org:v3}"


@pytest.mark.parametrize("seed", range(3))
def test_generated_121_passes_official_xsd_and_schematron(packages: SemdPackages, seed: int) -> None:
    report = packages.validate("121", build_document(sample_document(DocumentKind.REFERRAL, seed=seed)))
    assert report.schematron_ran and report.has_schematron
    assert report.xsd_errors == ()
    assert report.schematron_failures == ()
    assert report.ok


def test_generated_109_passes_official_xsd_and_schematron(packages: SemdPackages) -> None:
    report = packages.validate("109", build_document(sample_document(DocumentKind.REFERRAL_ED5)))
    assert report.xsd_errors == () and report.schematron_failures == () and report.schematron_ran


def test_edition_6_document_fails_the_edition_5_rules(packages: SemdPackages) -> None:
    report = packages.validate("109", build_document(sample_document(DocumentKind.REFERRAL)))
    # Edition 5's XSD already refuses it (act/participant without participantRole), so the
    # schematron is not reached.
    assert any("participant" in e.message for e in report.xsd_errors)
    assert not report.schematron_ran and not report.ok


def _broken_121(mutate: str) -> bytes:
    root = parse_xml(build_document(sample_document(DocumentKind.REFERRAL, seed=0)))
    if mutate == "template":
        root.find(f"{H}templateId").set("root", "1.2.643.5.1.13.13.14.34.9.4")
    elif mutate == "snils":
        snils = root.find(f"{H}recordTarget/{H}patientRole/{H}id[@root='1.2.643.100.3']")
        snils.set("extension", "12345")
    elif mutate == "no-diagnosis-section":
        body = root.find(f"{H}component/{H}structuredBody")
        for component in body.findall(f"{H}component"):
            if component.find(f"{H}section/{H}code[@code='DGN']") is not None:
                body.remove(component)
    elif mutate == "postal":
        root.find(f"{H}recordTarget/{H}patientRole/{H}addr/{H}postalCode").text = "1050"
    return etree.tostring(root)


@pytest.mark.parametrize(
    ("mutate", "rule_id", "message_part"),
    [
        ("template", "У1-11", "должен иметь значение атрибута @root равное '1.2.643.5.1.13.13.14.34.9.6'"),
        ("snils", "Extra01-1", "соответствующее СНИЛС"),
        ("no-diagnosis-section", "У2-8", "section/code/@code равным 'DGN'"),
        ("postal", "Extra02-1", "почтовому индексу"),
    ],
)
def test_broken_121_fails_with_the_ministrys_rule_and_message(
    packages: SemdPackages, mutate: str, rule_id: str, message_part: str
) -> None:
    report = packages.validate("121", _broken_121(mutate))
    assert report.xsd_errors == ()
    matching = [f for f in report.schematron_failures if f.rule_id == rule_id]
    assert matching, [(f.rule_id, f.message) for f in report.schematron_failures]
    assert any(message_part in f.message for f in matching)
    assert all(f.severity == "error" and f.location.startswith("/ClinicalDocument") for f in matching)
    assert not report.ok


def test_failure_report_serialises(packages: SemdPackages) -> None:
    data = packages.validate("121", _broken_121("snils")).to_dict()
    assert data["ok"] is False
    failure = data["schematron_failures"][0]
    assert set(failure) == {"rule_id", "location", "message", "severity"}


def test_xsd_error_stops_before_the_schematron(packages: SemdPackages) -> None:
    root = parse_xml(build_document(sample_document(DocumentKind.REFERRAL)))
    root.insert(0, etree.Element(f"{H}bogus"))
    report = packages.validate("121", etree.tostring(root))
    assert report.xsd_errors and not report.schematron_ran and not report.ok


def test_rule_crash_on_incomplete_document_is_a_failure_not_an_exception(packages: SemdPackages) -> None:
    compiled = packages.compiled_schematron("121")
    assert compiled is not None
    failures = compiled.validate(b'<ClinicalDocument xmlns="urn:hl7-org:v3"><realmCode code="RU"/></ClinicalDocument>')
    assert [f.rule_id for f in failures] == [DYNAMIC_ERROR_RULE_ID]


def test_compiled_schematron_is_cached_on_disk_and_in_memory(packages: SemdPackages) -> None:
    package = packages.package("121")
    assert package.schematron is not None and packages.cache_dir is not None
    first = packages.compiled_schematron("121")
    cached_files = list(packages.cache_dir.glob("schematron-*.xsl"))
    assert len(cached_files) >= 1
    started = time.perf_counter()
    again = compile_schematron(package.schematron, cache_dir=packages.cache_dir)
    assert again is first  # in-memory hit
    assert time.perf_counter() - started < 0.5


def test_unknown_kind_is_an_operator_error(packages: SemdPackages) -> None:
    from gateway.documents.errors import SemdPackageError

    with pytest.raises(SemdPackageError):
        packages.validate("999", b"<a/>")
    with pytest.raises(SemdPackageError):
        packages.package("../etc")


async def test_validation_runs_from_a_worker_thread(packages: SemdPackages) -> None:
    """The async gateway calls validation through asyncio.to_thread; Saxon must cope with that."""
    import asyncio

    data = build_document(sample_document(DocumentKind.REFERRAL, seed=7))
    broken = _broken_121("postal")
    good, bad = await asyncio.gather(
        asyncio.to_thread(packages.validate, "121", data), asyncio.to_thread(packages.validate, "121", broken)
    )
    assert good.ok and not bad.ok


@pytest.mark.parametrize(
    "kind",
    [DocumentKind.MSE_RESULT_ED3, DocumentKind.MSE_RESULT, DocumentKind.RETURN_NOTICE_ED2, DocumentKind.RETURN_NOTICE],
    ids=lambda k: k.value,
)
def test_reconstructed_kinds_are_valid_cda_per_the_121_xsd(packages: SemdPackages, kind: DocumentKind) -> None:
    """187/35/130/108 have no public package; they must at least be valid CDA (the ministry's CDA XSD)."""
    schema = packages.schema("121")
    assert schema is not None
    assert schema.validate(parse_xml(build_document(sample_document(kind)))), schema.error_log


def test_schematron_switched_off_runs_the_xsd_only(packages: SemdPackages) -> None:
    """validation.schematron = false (bench delivery --no-schematron): a document the Schematron
    refuses passes, with schematron_ran false; an XSD error is still reported. The same parsed
    tree serves both calls (the checker parses a document once)."""
    broken = parse_xml(_broken_121("postal"))
    assert not packages.validate("121", broken).ok  # the tree is not consumed by a validation
    report = packages.validate("121", broken, schematron=False)
    assert report.ok and not report.schematron_ran and report.has_schematron
    root = parse_xml(build_document(sample_document(DocumentKind.REFERRAL, seed=1)))
    root.insert(0, etree.Element(f"{H}bogus"))
    assert packages.validate("121", root, schematron=False).xsd_errors
