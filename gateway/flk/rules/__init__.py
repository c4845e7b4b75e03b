"""The FLK rules, each a small pure function (the checker gathers what they need).

| rule | module | category |
|---|---|---|
| ``document`` | :mod:`.document` | other |
| ``metadata`` | :mod:`.metadata` | other |
| ``kind-validity`` | :mod:`.kind_validity` | other |
| ``semd-schema`` | :mod:`.schema` | other |
| ``duplicate``, ``late-arrival`` | :mod:`.journal` | duplicate, late |
| ``dates`` | :mod:`.dates` | other / invalid_signature |
| ``wrong-region`` | :mod:`.region` | wrong_region |
| ``citizen-data`` | :mod:`.citizen` | citizen_data |
| ``examinations`` | :mod:`.examinations` | examinations |

``signatures-present`` and ``invalid-signature`` live in :mod:`gateway.flk.signatures`,
``role-policy`` in :mod:`gateway.flk.roles`.
"""

from gateway.flk.rules.citizen import citizen_findings
from gateway.flk.rules.dates import dates_findings
from gateway.flk.rules.document import parse_rule
from gateway.flk.rules.examinations import kz_examination_findings, ru_examination_findings
from gateway.flk.rules.journal import duplicate_findings, late_arrival_findings
from gateway.flk.rules.kind_validity import kind_validity_findings
from gateway.flk.rules.metadata import metadata_findings
from gateway.flk.rules.region import served_regions, wrong_region_findings
from gateway.flk.rules.schema import run_schema, schema_findings

__all__ = [
    "citizen_findings",
    "dates_findings",
    "duplicate_findings",
    "kind_validity_findings",
    "kz_examination_findings",
    "late_arrival_findings",
    "metadata_findings",
    "parse_rule",
    "ru_examination_findings",
    "run_schema",
    "schema_findings",
    "served_regions",
    "wrong_region_findings",
]
