"""Frozen vectors (tests/vectors/semd, provenance in its README) parse to the sample models, and the
referral vectors still pass the ministry's packages."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gateway.documents import DocumentKind, parse_document
from gateway.documents.samples import sample_document
from gateway.documents.semd_package import SemdPackages

VECTORS = {
    DocumentKind.REFERRAL: "referral-121-seed0.xml",
    DocumentKind.REFERRAL_ED5: "referral-109-seed0.xml",
    DocumentKind.MSE_RESULT: "mse-result-35-seed0.xml",
    DocumentKind.RETURN_NOTICE: "return-notice-108-seed0.xml",
    DocumentKind.KZ_031U: "kz-031u-seed0.xml",
}


@pytest.mark.parametrize("kind", list(VECTORS), ids=lambda k: k.value)
def test_vector_parses_to_the_sample_model(vector: Callable[[str], bytes], kind: DocumentKind) -> None:
    assert parse_document(vector(VECTORS[kind])) == sample_document(kind, seed=0)


@pytest.mark.parametrize("kind", [DocumentKind.REFERRAL, DocumentKind.REFERRAL_ED5], ids=lambda k: k.value)
def test_referral_vectors_pass_the_ministrys_packages(
    packages: SemdPackages, vector: Callable[[str], bytes], kind: DocumentKind
) -> None:
    report = packages.validate(kind.value, vector(VECTORS[kind]))
    assert report.ok and report.schematron_ran, report.to_dict()
