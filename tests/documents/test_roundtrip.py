"""Every kind round-trips: build → parse gives back an equal model (several seeds each)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gateway.documents import DocumentKind, ParsedDocument, build_document, parse_document
from gateway.documents.kinds import KIND_TABLE
from gateway.documents.model import ReferralDetails
from gateway.documents.samples import sample_document

SEEDS = range(4)
# The kinds read into a ParsedDocument (every kind an MIS submits); the ЦБДИ conclusion, only
# received, has its own model (tests/inbound/test_receive_cbdi_conclusion.py).
PARSED_KINDS = [k for k in DocumentKind if KIND_TABLE[k].submitted]


@pytest.mark.parametrize("kind", PARSED_KINDS, ids=lambda k: k.value)
@pytest.mark.parametrize("seed", SEEDS)
def test_build_then_parse_gives_the_same_model(kind: DocumentKind, seed: int) -> None:
    doc = sample_document(kind, seed=seed)
    parsed = parse_document(build_document(doc))
    assert parsed == doc


@pytest.mark.parametrize("kind", PARSED_KINDS, ids=lambda k: k.value)
def test_declared_kind_is_checked(kind: DocumentKind) -> None:
    data = build_document(sample_document(kind))
    assert parse_document(data, kind=kind.value).kind is kind


def test_samples_differ_between_seeds() -> None:
    a, b = sample_document(DocumentKind.REFERRAL, seed=1), sample_document(DocumentKind.REFERRAL, seed=2)
    assert a.local_uid != b.local_uid and a.patient.snils != b.patient.snils


def test_referral_with_guardian_round_trips() -> None:
    docs = [sample_document(DocumentKind.REFERRAL, seed=s) for s in range(30)]
    with_guardian = [d for d in docs if d.patient.legal_representative is not None]
    assert with_guardian, "the sample generator should produce some patients with a legal representative"
    for doc in with_guardian[:3]:
        assert parse_document(build_document(doc)) == doc


def test_referral_without_optional_parts_round_trips() -> None:
    doc = sample_document(DocumentKind.REFERRAL, seed=3)
    assert isinstance(doc.details, ReferralDetails)
    bare = replace(
        doc,
        examinations=(),
        details=replace(doc.details, work=None, education="Студент 2 курса, специальность «Бухгалтерский учёт»"),
        patient=replace(doc.patient, insurance_policy=None, phone="+79030000000", patronymic=None),
    )
    parsed: ParsedDocument = parse_document(build_document(bare))
    assert parsed == bare


def test_builder_refuses_a_model_it_cannot_carry() -> None:
    doc = sample_document(DocumentKind.REFERRAL)
    with pytest.raises(ValueError, match="SNILS"):
        build_document(replace(doc, patient=replace(doc.patient, snils=None)))
    with pytest.raises(ValueError, match="role"):
        build_document(replace(doc, author=replace(doc.author, role=doc.legal_authenticator.role)))
    kz = sample_document(DocumentKind.KZ_031U)
    with pytest.raises(ValueError, match="IIN"):
        build_document(replace(kz, patient=replace(kz.patient, iin=None)))
