"""Rules ``dates`` and ``wrong-region``: a passing and a failing case each."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flk.helpers import NOW, canonical, replace
from gateway.delivery.routing import DEFAULT_ROUTES, Route, Router
from gateway.documents import ParsedDocument
from gateway.documents.model import Coded, ReferralDetails
from gateway.flk.rules import dates_findings, served_regions, wrong_region_findings
from gateway.flk.samples import shift_dates
from gateway.flk.signatures import verify_entries_sync
from gateway.signatures import Verifier

Submit = Callable[..., dict[str, Any]]
DocOf = Callable[..., ParsedDocument]


def _dates(verifier: Verifier, data: dict[str, Any]) -> list[str]:
    sub = canonical(data)
    checks = verify_entries_sync(verifier, sub, check_time=NOW)
    return [f.code for f in dates_findings(sub, checks, now=NOW)]


def test_recent_document_with_valid_certificates(verifier: Verifier, doc_of: DocOf, submit: Submit) -> None:
    assert _dates(verifier, submit(doc_of("121"))) == []


def test_creation_date_in_the_future(verifier: Verifier, doc_of: DocOf, submit: Submit) -> None:
    doc = shift_dates(doc_of("121"), 3)
    assert _dates(verifier, submit(doc, signing_time=NOW)) == ["WRONG_CREATION_DATE"]


def test_clock_skew_within_tolerance_is_not_the_future(doc_of: DocOf, submit: Submit) -> None:
    doc = doc_of("121")
    data = submit(doc)
    data["creation_datetime"] = (NOW + timedelta(minutes=5)).isoformat()
    assert dates_findings(canonical(data), [], now=NOW) == []


def test_certificate_not_yet_valid_on_the_creation_date(verifier: Verifier, doc_of: DocOf, submit: Submit) -> None:
    doc = shift_dates(doc_of("121"), -45)  # sample certificates are valid from NOW - 30 days
    codes = _dates(verifier, submit(doc, signing_time=NOW))
    assert codes == ["PERSONAL_SIG_CERT_NOT_ACTUAL_ON_DOC_CREATION_DT", "DOC_DATE_MISMATCH_CERT_NOT_BEFORE"]


def test_certificate_expired_on_the_creation_date(verifier: Verifier, doc_of: DocOf, submit: Submit) -> None:
    doc = shift_dates(doc_of("kz-031u"), 500)  # after the 15-month certificate lifetime
    data = submit(doc, signing_time=NOW)
    sub = canonical(data)
    checks = verify_entries_sync(verifier, sub, check_time=NOW)
    found = dates_findings(sub, checks, now=doc.created + timedelta(days=1))
    assert [f.code for f in found] == ["PERSONAL_SIG_CERT_NOT_ACTUAL_ON_DOC_CREATION_DT"]
    assert "окончания" in found[0].message


def test_region_consistent(doc_of: DocOf, submit: Submit) -> None:
    doc = doc_of("121")
    assert wrong_region_findings(canonical(submit(doc)), doc, frozenset({"77"})) == []


def _in_region_50(doc: ParsedDocument) -> ParsedDocument:
    org = doc.organisation
    moved = replace(
        org,
        oid=org.oid.replace(".12.2.77.", ".12.2.50."),
        address=replace(org.address, region=Coded("50", "Московская область")),
    )
    return replace(doc, organisation=moved)


def test_referral_to_a_bureau_of_another_region(doc_of: DocOf, submit: Submit) -> None:
    doc = _in_region_50(doc_of("121"))
    found = wrong_region_findings(canonical(submit(doc)), doc, None)
    assert [(f.code, f.category, f.field) for f in found] == [("FLK_WRONG_REGION", "wrong_region", "details.bureau")]


def test_region_not_served(doc_of: DocOf, submit: Submit) -> None:
    doc = doc_of("35")
    found = wrong_region_findings(canonical(submit(doc)), doc, frozenset({"50", "69"}))
    assert [f.field for f in found] == ["organisation.address.region"]


def test_frmo_oid_region_differs_from_the_address(doc_of: DocOf, submit: Submit) -> None:
    doc = doc_of("121")
    data = submit(doc)
    data["organization_oid"] = doc.organisation.oid.replace(".12.2.77.", ".12.2.78.")
    found = wrong_region_findings(canonical(data), doc, None)
    assert [f.field for f in found] == ["organization_oid"]


def test_bureau_in_the_same_region_is_fine_even_if_the_mo_moved(doc_of: DocOf, submit: Submit) -> None:
    doc = _in_region_50(doc_of("121"))
    assert isinstance(doc.details, ReferralDetails)
    bureau = replace(doc.details.bureau, address=replace(doc.details.bureau.address, region=Coded("50", "МО")))
    doc = replace(doc, details=replace(doc.details, bureau=bureau))
    assert wrong_region_findings(canonical(submit(doc)), doc, None) == []


def test_served_regions_from_configuration_or_routes() -> None:
    assert served_regions("121", ["7"], None) == frozenset({"07"})
    assert served_regions("121", [], None) is None
    assert served_regions("121", [], Router(DEFAULT_ROUTES)) is None  # "*": any region
    routes = Router(
        (
            Route(name="a", kinds=("121",), regions=("50", "77"), destination="gis"),
            Route(name="b", kinds=("35",), destination="remd"),
        )
    )
    assert served_regions("121", [], routes) == frozenset({"50", "77"})
    assert served_regions("35", [], routes) is None
    assert served_regions("108", [], routes) is None
