"""`simulate --profile mse-loop-2023` in small: referrals through ФГИС ЕАВИИАС over SMEV 3 under the
loop's fault profile until every one has its result or its return delivered to the MIS's inbox,
with the KSI figures (slow:
about forty simulated days)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.sandbox.mse_loop import run_mse_loop

pytestmark = pytest.mark.slow


async def test_every_referral_ends_with_a_result_or_a_return(tmp_path: Path) -> None:
    result = await run_mse_loop(count=30, seed=4, speed=40_000.0, data_dir=tmp_path, settle_timeout=600.0)
    assert (result.accepted, result.unknown, result.lost, result.duplicates_at_peer) == (30, 0, 0, 0)
    assert result.results + result.returned == 30 and result.failed_other == 0 and result.rejected == 0
    assert result.unattributed == 0 and result.contradictions == 0
    assert result.notices["REGISTERED"] == 30 and result.notices["RESULT"] == result.results
    assert result.bureau["received"] == 30
    for stage in ("stage2", "stage3", "stage6"):
        k = result.ksi[stage]
        assert k["measured"] == k["within"] + k["late"] + k["open_overdue"]
    assert result.ksi["stage6"]["measured"] == result.results  # every result timed from its decision
    assert result.smev["unacked"] == 0
    # every referral's result (187) or return (130) reached the MIS's inbox, once — duplicate and
    # resent notices included (the profile sends 5 % of notices twice)
    assert (result.delivered_to_mis, result.delivered_twice_to_mis, result.held_for_operator) == (30, 0, {})
    by_kind = result.delivered_by_kind
    assert (by_kind.get("187", 0), by_kind.get("130", 0)) == (result.results, result.returned)
