"""make_submission: one valid signed submission, quickly, deterministic in content."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from flk.helpers import NOW, canonical
from gateway.documents import parse_document
from gateway.flk.sample_pki import ROLES, SampleSigners
from gateway.flk.samples import make_submission
from gateway.intake.submission import content_hash


@pytest.mark.parametrize("kind", ["121", "109", "187", "35", "130", "108", "kz-031u"])
def test_content_is_deterministic_signatures_are_not(signers: SampleSigners, kind: str) -> None:
    one = make_submission(kind, 5, signers, now=NOW)
    two = make_submission(kind, 5, signers, now=NOW)
    assert one["document"] == two["document"]
    assert one["signatures"] != two["signatures"]  # GOST signing is randomised
    assert make_submission(kind, 6, signers, now=NOW)["document"] != one["document"]
    sub = canonical(one)
    assert NOW - timedelta(days=4) < sub.creation_datetime < NOW
    doc = parse_document(sub.document, kind=kind)
    assert doc.local_uid == sub.local_uid and doc.organisation.oid == sub.organization_oid
    assert content_hash(one) != content_hash(make_submission(kind, 6, signers, now=NOW))


def test_signers_reopen_with_the_same_certificates(signers: SampleSigners) -> None:
    reopened = SampleSigners.open(signers.directory)
    assert reopened.mo_ogrn == signers.mo_ogrn
    assert all(reopened.certificate(r) == signers.certificate(r) for r in ROLES)
    sub = make_submission("121", 1, reopened, now=NOW)
    cms = base64.b64decode(sub["signatures"][0]["cms"])
    assert cms  # signs with the reopened keys


def test_open_refuses_a_plain_pki(tmp_path_factory: pytest.TempPathFactory) -> None:
    from gateway.signatures.pki import TestPki

    directory = tmp_path_factory.mktemp("plain")
    TestPki.init(directory / "p")
    with pytest.raises(FileNotFoundError):
        SampleSigners.open(directory / "p")
