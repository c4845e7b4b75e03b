"""Rule ``wrong-region``: the medical organisation belongs to the region the bureau serves.

An MSE bureau examines citizens referred by medical organisations of its own subject of the RF;
a referral from another region is rejected on arrival (the seed's «wrong region»). Three facts are
compared: the organisation's region (its address; the FRMO OID carries it too), the region of the
bureau the referral is addressed to, and the regions the receiving side serves (configured, or the
explicit regions of the routing rules for the kind).
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.delivery.routing import Router, region_from_org_oid
from gateway.documents import ParsedDocument
from gateway.documents.model import ReferralDetails
from gateway.flk.codes import FlkCode
from gateway.flk.findings import RuleFinding, finding
from gateway.flk.messages import FLK_TEXTS
from gateway.intake.submission import CanonicalSubmission

__all__ = ["RULE", "normalise_region", "served_regions", "wrong_region_findings"]

RULE = "wrong-region"


def normalise_region(code: str | None) -> str | None:
    """``"7"`` → ``"07"``; non-numeric codes (Kazakh КАТО prefixes may be) are kept as they are."""
    if code is None or not code.strip():
        return None
    text = code.strip()
    return text.zfill(2) if text.isdigit() else text


def served_regions(kind: str, configured: Iterable[str], router: Router | None) -> frozenset[str] | None:
    """The regions the receiving bureau serves: the configured list, else the union of the explicit
    regions of the routing rules for ``kind`` — None (any region) when a rule for the kind says "*"
    or no router is known."""
    listed = frozenset(r for r in (normalise_region(c) for c in configured) if r is not None)
    if listed:
        return listed
    if router is None:
        return None
    regions: set[str] = set()
    for route in router.routes:
        if "*" not in route.kinds and kind not in route.kinds:
            continue
        if "*" in route.regions:
            return None
        regions.update(r for r in (normalise_region(x) for x in route.regions) if r is not None)
    return frozenset(regions) or None


def wrong_region_findings(
    sub: CanonicalSubmission, doc: ParsedDocument, served: frozenset[str] | None
) -> list[RuleFinding]:
    out: list[RuleFinding] = []
    org_region = normalise_region(doc.organisation.region.code)
    oid_region = region_from_org_oid(sub.organization_oid)
    if org_region is None:
        return [
            finding(
                RULE,
                FlkCode.WRONG_REGION,
                "wrong_region",
                FLK_TEXTS.text("region.missing"),
                "organisation.address.region",
            )
        ]
    if oid_region is not None and oid_region != org_region:
        out.append(
            finding(
                RULE,
                FlkCode.WRONG_REGION,
                "wrong_region",
                FLK_TEXTS.text("region.oid", oid_region=oid_region, org_region=org_region),
                "organization_oid",
            )
        )
    details = doc.details
    if isinstance(details, ReferralDetails):
        bureau_region = normalise_region(details.bureau.region.code)
        if bureau_region is not None and bureau_region != org_region:
            out.append(
                finding(
                    RULE,
                    FlkCode.WRONG_REGION,
                    "wrong_region",
                    FLK_TEXTS.text("region.bureau", org_region=org_region, bureau_region=bureau_region),
                    "details.bureau",
                )
            )
    if served is not None and org_region not in served:
        out.append(
            finding(
                RULE,
                FlkCode.WRONG_REGION,
                "wrong_region",
                FLK_TEXTS.text("region.not_served", org_region=org_region, served=", ".join(sorted(served))),
                "organisation.address.region",
            )
        )
    return out
