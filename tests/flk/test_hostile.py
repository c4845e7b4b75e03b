"""Property tests where the input is hostile: whatever a sender puts in the document or the
metadata, the checker answers with a coded report — it never raises and never passes garbage."""

from __future__ import annotations

import asyncio
import base64
import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flk.helpers import NOW, canonical
from gateway.flk.checker import FullChecker
from gateway.flk.journal_view import JournalEntry, StaticJournalView
from gateway.flk.roles import BUILTIN_POLICY
from gateway.flk.rules import citizen_findings, duplicate_findings
from gateway.flk.sample_pki import SampleSigners
from gateway.flk.samples import make_submission, prepare_document
from gateway.validation.contract import CATEGORIES

_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

xmlish = st.one_of(
    st.binary(max_size=600),
    st.text(max_size=300).map(str.encode),
    st.sampled_from(
        [
            b"<ClinicalDocument xmlns='urn:hl7-org:v3'/>",
            b"<?xml version='1.0'?><!DOCTYPE a SYSTEM 'http://x/'><a/>",
            b"<a>" * 5000,
            b"\xef\xbb\xbf<a/>",
            b"<Conclusion031u xmlns='urn:mse-gateway:kz:031u:1' version='1'/>",
        ]
    ),
)


@_SETTINGS
@given(document=xmlish, kind=st.sampled_from(["121", "109", "187", "35", "130", "108", "kz-031u"]))
def test_any_document_bytes_get_a_coded_rejection(
    signers: SampleSigners, base_checker: FullChecker, document: bytes, kind: str
) -> None:
    data = make_submission(kind, 1, signers, now=NOW)
    data["document"] = base64.b64encode(document or b" ").decode()
    for entry, role in zip(data["signatures"], ("vk-chair", "mo-org"), strict=False):
        entry["cms"] = base64.b64encode(signers.sign(role, document or b" ", NOW)).decode()
    checker = base_checker.with_journal(StaticJournalView([]))
    report = asyncio.run(checker.check(canonical(data)))
    assert not report.passed
    assert report.first is not None and report.first.code
    assert all(f.category in CATEGORIES and f.message for f in report.findings)


@_SETTINGS
@given(
    family=st.text(max_size=40),
    snils=st.one_of(st.none(), st.text(max_size=20), st.from_regex(r"\d{3}-\d{3}-\d{3} \d{2}", fullmatch=True)),
    iin=st.one_of(st.none(), st.text(max_size=14), st.from_regex(r"\d{12}", fullmatch=True)),
    region=st.text(max_size=5),
    meta=st.dictionaries(st.sampled_from(["snils", "iin", "family", "given", "birth_date"]), st.text(max_size=20)),
)
def test_citizen_rule_never_raises(
    signers: SampleSigners, family: str, snils: str | None, iin: str | None, region: str, meta: dict[str, str]
) -> None:
    for kind in ("121", "kz-031u"):
        doc = prepare_document(kind, 2, signers, now=NOW)
        patient = dataclasses.replace(
            doc.patient,
            family=family,
            snils=snils,
            iin=iin,
            address=dataclasses.replace(
                doc.patient.address, region=dataclasses.replace(doc.patient.address.region, code=region)
            ),
        )
        data = make_submission(kind, 2, signers, now=NOW)
        data["patient"] = {}
        sub = dataclasses.replace(canonical(data), patient=meta)
        found = citizen_findings(sub, dataclasses.replace(doc, patient=patient))
        assert all(f.category == "citizen_data" for f in found)


@_SETTINGS
@given(title=st.one_of(st.none(), st.text(max_size=200)))
def test_title_matching_never_raises(title: str | None) -> None:
    for policy in BUILTIN_POLICY.kinds.values():
        assert isinstance(policy.title_fits(title), bool)


entries = st.builds(
    JournalEntry,
    source_system=st.text(max_size=5),
    local_uid=st.text(max_size=5),
    kind=st.sampled_from(["121", "35"]),
    organization_oid=st.text(max_size=5),
    state=st.sampled_from(["RECEIVED", "REGISTERED", "REJECTED", "??"]),
    document_sha256=st.one_of(st.none(), st.text(max_size=4)),
    document_number=st.one_of(st.none(), st.text(max_size=3)),
)


@_SETTINGS
@given(items=st.lists(entries, max_size=8))
def test_duplicate_rule_never_raises(signers: SampleSigners, items: list[JournalEntry]) -> None:
    sub = canonical(make_submission("121", 3, signers, now=NOW))
    found = duplicate_findings(sub, None, items, "abc")
    assert all(f.category == "duplicate" for f in found)
    assert len({f.code for f in found}) == len(found)
