"""Rules ``document``, ``metadata`` and ``semd-schema``: a passing and a failing case each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flk.helpers import canonical, replace
from gateway.documents import BUILTIN_PACKAGES_DIR, ParsedDocument, SemdPackages, build_document
from gateway.flk.rules import metadata_findings, parse_rule, run_schema, schema_findings

Submit = Callable[..., dict[str, Any]]
DocOf = Callable[..., ParsedDocument]


def test_document_parses(doc_of: DocOf, submit: Submit) -> None:
    doc, found = parse_rule(canonical(submit(doc_of("121"))))
    assert found == [] and doc is not None and doc.kind.value == "121"


def test_malformed_document_is_a_coded_rejection(doc_of: DocOf, submit: Submit) -> None:
    doc = doc_of("121")
    data = build_document(doc)
    parsed, found = parse_rule(canonical(submit(doc, data=data[:-200])))
    assert parsed is None
    assert [(f.code, f.category) for f in found] == [("DOC_XML_MALFORMED", "other")]


def test_declared_kind_must_be_the_documents(doc_of: DocOf, submit: Submit) -> None:
    data = submit(doc_of("121"))
    data["kind"] = "109"
    assert [f.code for f in parse_rule(canonical(data))[1]] == ["DOC_KIND_MISMATCH"]


def test_dtd_is_refused(doc_of: DocOf, submit: Submit) -> None:
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'
    found = parse_rule(canonical(submit(doc_of("121"), data=evil)))[1]
    assert [f.code for f in found] == ["DOC_XML_FORBIDDEN"]


def test_metadata_matches_document(doc_of: DocOf, submit: Submit) -> None:
    doc = doc_of("35")
    assert metadata_findings(canonical(submit(doc)), doc) == []


def test_metadata_mismatches(doc_of: DocOf, submit: Submit) -> None:
    doc = doc_of("121")
    data = submit(doc)
    data["local_uid"] = "another"
    data["organization_oid"] = "1.2.643.5.1.13.13.12.2.77.1"
    data["creation_datetime"] = (doc.created - timedelta(hours=2)).isoformat()
    found = metadata_findings(canonical(data), doc)
    assert {f.field for f in found} == {"local_uid", "organization_oid", "creation_datetime"}
    assert {f.code for f in found} == {"ATTRIBUTE_MISMATCH"}


def test_metadata_time_to_the_minute(doc_of: DocOf, submit: Submit) -> None:
    doc = doc_of("121")
    data = submit(doc)
    data["creation_datetime"] = (doc.created + timedelta(seconds=30)).isoformat()
    assert metadata_findings(canonical(data), doc) == []


def test_kz_schema_passes_and_fails(doc_of: DocOf) -> None:
    packages = [SemdPackages(BUILTIN_PACKAGES_DIR)]
    doc = doc_of("kz-031u")
    report, reason = run_schema(packages, "kz-031u", build_document(doc))
    assert reason is None and report is not None and schema_findings(report) == []
    assert doc.diagnoses is not None
    broken = replace(doc, diagnoses=replace(doc.diagnoses, main=replace(doc.diagnoses.main, icd10="S48.1X")))
    report, _ = run_schema(packages, "kz-031u", build_document(broken))
    assert report is not None
    found = schema_findings(report)
    assert [f.code for f in found] == ["INVALID_CONTENT"]
    assert "icd10" in found[0].message


def test_no_package_is_a_reason_not_a_finding(doc_of: DocOf) -> None:
    # Kind 35 has no public package (kinds 121 and 109 ship with the product since issue 18).
    report, reason = run_schema([SemdPackages(BUILTIN_PACKAGES_DIR)], "35", build_document(doc_of("35")))
    assert report is None and reason is not None and "35" in reason.ru and "35" in reason.en


def test_the_shipped_packages_validate_121_and_109(doc_of: DocOf) -> None:
    shipped = SemdPackages(BUILTIN_PACKAGES_DIR)
    assert {"121", "109", "kz-031u"} <= set(shipped.kinds())
    report, reason = run_schema([shipped], "121", build_document(doc_of("121")))
    assert reason is None and report is not None and report.schematron_ran and report.ok


def test_ministry_schematron_rule_id_and_russian_message(doc_of: DocOf, semd_packages: SemdPackages) -> None:
    doc = doc_of("121")
    report, _ = run_schema([semd_packages], "121", build_document(doc))
    assert report is not None and schema_findings(report) == []
    patient = doc.patient
    broken = replace(doc, patient=replace(patient, address=replace(patient.address, postal_code="1050")))
    report, _ = run_schema([semd_packages], "121", build_document(broken))
    assert report is not None
    found = schema_findings(report)
    assert found and found[0].code == "XML_VALIDATION_ERROR" and found[0].severity == "error"
    assert found[0].message.startswith("Extra02-1.")
    assert "postalCode" in found[0].message and "postalCode" in (found[0].field or "")
