"""Rule ``semd-schema``: the ministry's XSD and schematron (or the project's schema for 031/у).

Validation is done by :class:`gateway.documents.SemdPackages`; this module turns its report into
findings: an XSD error is INVALID_CONTENT, a schematron failure XML_VALIDATION_ERROR with the
ministry's rule id and Russian message (``У1-20. …``). A schematron assert with a role other than
``error`` is a warning.
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from gateway.common.language import Text
from gateway.documents import SemdPackageError, SemdPackages, ValidationReport
from gateway.flk.codes import FlkCode
from gateway.flk.findings import RuleFinding, finding
from gateway.flk.messages import FLK_TEXTS, SKIP_TEXTS
from gateway.wire.safexml import XmlSecurityError, XmlSyntaxError

__all__ = ["MAX_XSD_FINDINGS", "RULE", "run_schema", "schema_findings"]

RULE = "semd-schema"
MAX_XSD_FINDINGS = 10


def schema_findings(report: ValidationReport) -> list[RuleFinding]:
    out: list[RuleFinding] = []
    for error in report.xsd_errors[:MAX_XSD_FINDINGS]:
        out.append(
            finding(
                RULE,
                FlkCode.INVALID_CONTENT,
                "other",
                FLK_TEXTS.text("schema.xsd", kind=report.kind, line=error.line, error=error.message),
                error.path,
            )
        )
    if len(report.xsd_errors) > MAX_XSD_FINDINGS:
        out.append(
            finding(
                RULE,
                FlkCode.INVALID_CONTENT,
                "other",
                FLK_TEXTS.text("schema.xsd_more", n=len(report.xsd_errors) - MAX_XSD_FINDINGS),
            )
        )
    for failure in report.schematron_failures:
        text = (
            failure.message if failure.message.startswith(failure.rule_id) else f"{failure.rule_id}: {failure.message}"
        )
        out.append(
            finding(
                RULE,
                FlkCode.XML_VALIDATION_ERROR,
                "other",
                FLK_TEXTS.text("schema.schematron", text=text),
                failure.location,
                severity="error" if failure.severity == "error" else "warning",
            )
        )
    return out


def run_schema(
    packages: Sequence[SemdPackages],
    kind: str,
    data: bytes | etree._Element,
    *,
    schematron: bool = True,
) -> tuple[ValidationReport | None, Text | None]:
    """Validate with the first package set that has ``kind``. Returns (report, None), or
    (None, reason) when nothing could be validated (no package: an operator matter; a document that
    is not XML: the ``document`` rule reports it). CPU-bound: call from a worker thread."""
    for package_set in packages:
        try:
            package = package_set.package(kind)
        except SemdPackageError as exc:
            return None, SKIP_TEXTS.text("package_error", error=exc)
        if package.xsd is None and package.schematron is None:
            continue
        try:
            return package_set.validate(kind, data, schematron=schematron), None
        except (XmlSecurityError, XmlSyntaxError):
            return None, SKIP_TEXTS.text("not_xml")
        except SemdPackageError as exc:
            return None, SKIP_TEXTS.text("package_broken", kind=kind, error=exc)
    return None, SKIP_TEXTS.text("no_package", kind=kind)
