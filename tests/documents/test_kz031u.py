"""The Kazakh 031/у: builder output is valid against the project's shipped XSD, and the XSD bites."""

from __future__ import annotations

import pytest
from lxml import etree

from gateway.documents import BUILTIN_PACKAGES_DIR, DocumentKind, SemdPackages, build_document
from gateway.documents.samples import iin_checksum_ok, sample_document
from gateway.wire.safexml import parse_xml

NS = "{urn:mse-gateway:kz:031u:1}"


@pytest.fixture(scope="module")
def builtin() -> SemdPackages:
    return SemdPackages(BUILTIN_PACKAGES_DIR)


def test_builtin_package_layout(builtin: SemdPackages) -> None:
    assert "kz-031u" in builtin.kinds()
    assert builtin.package("kz-031u").schematron is None


@pytest.mark.parametrize("seed", range(3))
def test_generated_031u_is_schema_valid(builtin: SemdPackages, seed: int) -> None:
    doc = sample_document(DocumentKind.KZ_031U, seed=seed)
    assert doc.patient.iin is not None and iin_checksum_ok(doc.patient.iin)
    assert doc.organisation.bin is not None and iin_checksum_ok(doc.organisation.bin)
    report = builtin.validate("kz-031u", build_document(doc))
    assert report.ok, report.xsd_errors


@pytest.mark.parametrize(
    ("path", "value"),
    [(f"{NS}Patient/{NS}IIN", "12345"), (f"{NS}Diagnoses/{NS}Main", None), (f"{NS}CreatedAt", "2024-03-11T10:15:00")],
    ids=["short-iin", "no-main-diagnosis", "no-timezone"],
)
def test_schema_rejects_broken_031u(builtin: SemdPackages, path: str, value: str | None) -> None:
    root = parse_xml(build_document(sample_document(DocumentKind.KZ_031U)))
    element = root.find(path)
    assert element is not None
    if value is None:
        element.getparent().remove(element)
    else:
        element.text = value
    report = builtin.validate("kz-031u", etree.tostring(root))
    assert not report.ok and report.xsd_errors
