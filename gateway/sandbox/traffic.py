"""A region's traffic for `mse-gateway simulate`: which documents to send, decided by a seed.

The plan (kind, region and deliberate defect of every document) comes from ``--seed`` alone, so two
runs with one seed send the same mix and — where the peers' behaviour does not depend on arrival
order — end with the same figures. The documents themselves are built from a separate document
seed: a run against a long-lived sandbox gives them fresh identifiers, since the sandbox would
refuse a second copy of a journalled localUid with other signatures (GOST signing is randomised).

Defects are the sample set's (:mod:`gateway.sandbox.sample_set`) that a gateway rejects on their own;
those that need earlier journal entries (duplicates, late arrival) are left out.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from gateway.documents import ParsedDocument
from gateway.documents.model import Coded, Organisation, ReferralDetails
from gateway.flk.sample_pki import SampleSigners
from gateway.flk.samples import prepare_document, sign_document, signing_time_for
from gateway.sandbox import sample_set

__all__ = [
    "DEFAULT_KINDS",
    "DEFECT_CODES",
    "REGIONS",
    "Planned",
    "build_chunk",
    "build_submission",
    "doc_seed",
    "plan",
    "plan_summary",
    "relocate",
]

# Subjects of the RF (NSI 1.2.643.5.1.13.13.99.2.206) the sandbox's documents come from.
REGIONS: Final[dict[str, str]] = {
    "77": "г. Москва",
    "50": "Московская область",
    "78": "г. Санкт-Петербург",
    "66": "Свердловская область",
    "16": "Республика Татарстан",
}
DEFAULT_KINDS: Final = ("121", "35", "109", "108")  # referrals, results, an older edition, returns

_DEFECTS: Final = {
    "DOC_XML_MALFORMED": sample_set._d_document,
    "DOC_KIND_MISMATCH": sample_set._d_kind,
    "NO_SIGNATURE": sample_set._d_no_signature,
    "ATTRIBUTE_MISMATCH": sample_set._d_metadata,
    "XML_VALIDATION_ERROR": sample_set._d_schematron,
    "DIGEST_MISMATCH": sample_set._d_tampered,
    "POSITION_TO_ROLE_MISMATCH": sample_set._d_position,
    "VALUE_MISMATCH_METADATA_AND_CERTIFICATE": sample_set._d_identity,
    "ROLE_OCCURRENCE_MISMATCH": sample_set._d_role_count,
    "ORG_SIGNATURE_OCCURRENCE_MISMATCH": sample_set._d_org_count,
    "SIGNER_ORG_MISMATCH": sample_set._d_org_foreign,
    "WRONG_CREATION_DATE": sample_set._d_future,
    "FLK_WRONG_REGION": sample_set._d_region,
    "FLK_PATIENT_SNILS_INVALID": sample_set._d_snils,
    "FLK_REPRESENTATIVE_MISSING": sample_set._d_minor,
}
DEFECT_CODES: Final = tuple(_DEFECTS)


@dataclass(frozen=True)
class Planned:
    """One document of the run: what it is, where from, and the defect it carries (None: valid)."""

    index: int
    kind: str
    region: str
    defect: str | None


def plan(
    count: int,
    seed: int,
    *,
    kinds: Sequence[str] = DEFAULT_KINDS,
    regions: Sequence[str] = tuple(REGIONS),
    defect_rate: float = 0.1,
) -> list[Planned]:
    rng = random.Random(f"simulate-plan:{seed}")
    out: list[Planned] = []
    for i in range(count):
        defect = rng.choice(DEFECT_CODES) if rng.random() < defect_rate else None
        kind = "121" if defect is not None else rng.choice(list(kinds))
        region = "77" if defect is not None else rng.choice(list(regions))
        out.append(Planned(i, kind, "50" if defect == "FLK_WRONG_REGION" else region, defect))
    return out


def plan_summary(planned: Sequence[Planned]) -> dict[str, Any]:
    return {
        "kinds": dict(sorted(Counter(p.kind for p in planned).items())),
        "regions": dict(sorted(Counter(p.region for p in planned).items())),
        "defects": dict(sorted(Counter(p.defect for p in planned if p.defect).items())),
    }


def _relocated(org: Organisation, region: str) -> Organisation:
    parts = org.oid.split(".")
    # FRMO OIDs 1.2.643.5.1.13.13.12.2.<region>.<number>: the region is the tenth arc.
    if org.oid.startswith("1.2.643.5.1.13.13.12.2.") and len(parts) > 10:
        parts[9] = region
    address = dataclasses.replace(
        org.address, region=Coded(region, REGIONS[region]), text=f"{REGIONS[region]}, ул. Ленина, д. 1"
    )
    return dataclasses.replace(org, oid=".".join(parts), address=address)


def relocate(doc: ParsedDocument, region: str) -> ParsedDocument:
    """The document as if its organisation (and, for a referral, the bureau it goes to and the
    place the citizen is) were in ``region``."""
    if region == doc.organisation.region.code:
        return doc
    org = _relocated(doc.organisation, region)
    details = doc.details
    if isinstance(details, ReferralDetails):
        details = dataclasses.replace(
            details,
            bureau=_relocated(details.bureau, region),
            location_org=org if details.location_org is not None else None,
        )
    return dataclasses.replace(doc, organisation=org, details=details)


def build_submission(
    planned: Planned, signers: SampleSigners, *, doc_seed: int, now: datetime, source_system: str
) -> dict[str, Any]:
    """The signed canonical submission of ``planned``."""
    if planned.defect is not None:
        case = _DEFECTS[planned.defect](signers, now, doc_seed)
        submission = dict(case.submission)
    else:
        doc = relocate(prepare_document(planned.kind, doc_seed, signers, now=now), planned.region)
        submission = sign_document(doc, signers, signing_time=signing_time_for(doc, now, doc_seed))
    submission["source_system"] = source_system
    return submission


def doc_seed(seed: int, salt: int, index: int) -> int:
    """The seed of one document's content (names, identifiers): ``salt`` 0 repeats a run's
    documents exactly; another salt gives fresh identifiers for the same plan."""
    digest = hashlib.sha256(f"simulate-doc:{seed}:{salt}:{index}".encode()).digest()
    return int.from_bytes(digest[:6], "big")


def build_chunk(args: tuple[str, int, int, str, str, list[tuple[int, str, str, str | None]]]) -> list[bytes]:
    """Signed submissions for part of a plan, as JSON lines; runs in a worker process (building and
    signing is CPU-bound Python)."""
    pki_dir, seed, salt, now_iso, source_system, rows = args
    signers = SampleSigners.open_or_create(Path(pki_dir))
    now = datetime.fromisoformat(now_iso)
    return [
        json.dumps(
            build_submission(
                Planned(i, kind, region, defect),
                signers,
                doc_seed=doc_seed(seed, salt, i),
                now=now,
                source_system=source_system,
            )
        ).encode()
        for i, kind, region, defect in rows
    ]
