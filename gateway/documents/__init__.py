"""Documents: typed models, parsers, builders and structural validation of MSE documents.

- :func:`parse_document` turns bytes (SEMD 121/109/187/35/130/108 or the Kazakh 031/у) into a
  :class:`ParsedDocument`, or raises a coded :class:`DocumentError`.
- :func:`build_document` writes a model back to XML (121/109 pass the ministry's XSD and
  schematron; 187/35, 130/108 and 031/у follow this project's documented structures).
- :class:`SemdPackages` validates against the ministry's XSD + schematron files kept in a
  configured directory (operators update them; no edition is baked into the code).
"""

from gateway.documents.build import build_document
from gateway.documents.errors import DocumentError, DocumentErrorCode, SemdPackageError
from gateway.documents.model import (
    Address,
    Coded,
    Diagnoses,
    Diagnosis,
    DocumentKind,
    ExamForm,
    Examination,
    Organisation,
    ParsedDocument,
    Patient,
    Practitioner,
    SignerRole,
)
from gateway.documents.parse import detect_kind, parse_document
from gateway.documents.schematron import SchematronFailure
from gateway.documents.semd_package import BUILTIN_PACKAGES_DIR, SemdPackages, ValidationReport

__all__ = [
    "BUILTIN_PACKAGES_DIR",
    "Address",
    "Coded",
    "Diagnoses",
    "Diagnosis",
    "DocumentError",
    "DocumentErrorCode",
    "DocumentKind",
    "ExamForm",
    "Examination",
    "Organisation",
    "ParsedDocument",
    "Patient",
    "Practitioner",
    "SchematronFailure",
    "SemdPackageError",
    "SemdPackages",
    "SignerRole",
    "ValidationReport",
    "build_document",
    "detect_kind",
    "parse_document",
]
