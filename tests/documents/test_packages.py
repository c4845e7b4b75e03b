"""Package loading rules that do not need the ministry's files: layout, and XSD includes confined
to the package directory (no network, no escaping with ``..``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.documents import SemdPackageError, SemdPackages

SCHEMA = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:x" xmlns="urn:x">
  {include}
  <xs:element name="a" type="xs:string"/>
</xs:schema>"""
PART = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:x">
  <xs:element name="b" type="xs:string"/></xs:schema>"""


def _package(root: Path, kind: str, include: str) -> None:
    (root / kind).mkdir(parents=True)
    (root / kind / "CDA.xsd").write_text(SCHEMA.format(include=include))


def test_include_inside_the_package_is_allowed(tmp_path: Path) -> None:
    _package(tmp_path, "ok", '<xs:include schemaLocation="core/part.xsd"/>')
    (tmp_path / "ok" / "core").mkdir()
    (tmp_path / "ok" / "core" / "part.xsd").write_text(PART)
    packages = SemdPackages(tmp_path)
    assert packages.kinds() == ["ok"]
    assert packages.validate("ok", b'<a xmlns="urn:x">x</a>').ok
    assert not packages.validate("ok", b'<c xmlns="urn:x">x</c>').ok


@pytest.mark.parametrize(
    "location", ["../outside.xsd", "http://127.0.0.1:9/part.xsd", "file:///etc/hostname"], ids=["dotdot", "http", "abs"]
)
def test_include_outside_the_package_is_refused(tmp_path: Path, location: str) -> None:
    (tmp_path / "outside.xsd").write_text(PART)
    _package(tmp_path, "evil", f'<xs:include schemaLocation="{location}"/>')
    with pytest.raises(SemdPackageError, match="cannot load"):
        SemdPackages(tmp_path).schema("evil")


def test_missing_directory_and_ambiguous_entry(tmp_path: Path) -> None:
    with pytest.raises(SemdPackageError):
        SemdPackages(tmp_path / "nope")
    (tmp_path / "k").mkdir()
    (tmp_path / "k" / "a.xsd").write_text(PART)
    (tmp_path / "k" / "b.xsd").write_text(PART)
    with pytest.raises(SemdPackageError, match="several"):
        SemdPackages(tmp_path).package("k")
