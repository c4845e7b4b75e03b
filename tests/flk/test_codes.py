"""Codes: REMD's where they say so (checked against the reference code list), ours prefixed FLK_."""

from __future__ import annotations

import csv

import pytest

from flk.helpers import REFERENCE
from gateway.flk.codes import REMD_NSI_IDS, FlkCode


def test_remd_codes_are_remds() -> None:
    path = REFERENCE / "remd-error-codes.tsv"
    if not path.is_file():
        pytest.skip(f"reference not at {path}")
    with path.open(encoding="utf-8", newline="") as fh:
        remd = {row["code"]: int(row["nsi_id"]) for row in csv.DictReader(fh, delimiter="\t")}
    for code in FlkCode:
        if code.is_remd:
            assert remd.get(code.value) == REMD_NSI_IDS[code.value], code
        else:
            assert code.value.startswith("FLK_") and code.value not in remd, code


def test_every_remd_id_belongs_to_a_code() -> None:
    assert set(REMD_NSI_IDS) == {c.value for c in FlkCode if c.is_remd}
