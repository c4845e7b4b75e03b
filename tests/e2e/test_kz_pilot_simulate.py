"""`simulate --profile kz-pilot-2025` in small: 031/у through the ШЭП and ЦБДИ twins under the
painful fault profile, in process, until each has a conclusion or a coded refusal; the share decided
within the 1-working-day rule (16:00 shift) is reported from the gateway's own SLA figures."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from gateway.sandbox.kz_pilot import run_kz_pilot


async def test_every_031u_ends_with_a_conclusion_or_a_coded_refusal(tmp_path: Path) -> None:
    r = await run_kz_pilot(count=20, seed=3, data_dir=tmp_path, settle_timeout=300.0)
    assert (r.accepted, r.unknown, r.lost, r.duplicates_at_peer) == (20, 0, 0, 0)
    assert r.concluded + r.refused + r.rejected + r.dead == 20 and r.dead == 0
    assert r.concluded > 0
    assert sum(r.outcomes.values()) == 20
    assert all(not key.endswith("/-") for key in r.outcomes if key.startswith("FAILED"))  # every refusal coded
    d = r.deadline
    assert d["measured"] == r.concluded  # every conclusion timed against its deadline
    assert d["within"] <= d["measured"] and d["share_within_deadline"] == round(d["within"] / d["measured"], 4)
    assert r.twin["waiting"] == 0 and r.fault_profile == "painful"
    # Every conclusion reached the MIS through the inbound path, once, with both languages.
    assert (r.delivered_to_mis, r.delivered_twice_to_mis, r.concluded_not_delivered) == (r.concluded, 0, 0)
    assert r.held_for_operator == {} and not r.failed_checks


def test_cli_prints_the_figures_as_json(tmp_path: Path) -> None:
    from gateway.cli import main

    out = CliRunner().invoke(
        main,
        [
            "simulate",
            "--profile",
            "kz-pilot-2025",
            "--count",
            "6",
            "--seed",
            "2",
            "--json",
            "--data-dir",
            str(tmp_path),
        ],
    )
    assert out.exit_code == 0, out.output[-2000:]
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    assert figures["profile"] == "kz-pilot-2025" and figures["count"] == 6
    assert (figures["unknown"], figures["lost"], figures["duplicates_at_peer"]) == (0, 0, 0)
    assert "share_within_deadline" in figures["deadline"]
    assert figures["delivered_to_mis"] == figures["concluded"] and figures["delivered_twice_to_mis"] == 0
