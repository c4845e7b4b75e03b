"""The KSI page (/ui/ksi), its chart and the KSI gauges of /metrics, on the seeded journal with
milestones as the ЕАВИИАС notices record them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from prometheus_client.parser import text_string_to_metric_families

from gateway.journal.schema import ksi_marks

from .conftest import UiGateway

# Monday 16 Nov 2026 in Moscow (the seed's week): stage 2 is due by the end of Tuesday 17 Nov.
MON_8 = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
MARKS = {
    "reg-77-0": [("received", MON_8), ("registered", datetime(2026, 11, 16, 12, 0, tzinfo=UTC))],
    "reg-77-1": [("received", MON_8), ("registered", datetime(2026, 11, 19, 9, 0, tzinfo=UTC))],  # late
}


async def _marks(gw: UiGateway) -> None:
    async with gw.journal.writing() as conn:
        for label, marks in MARKS.items():
            for name, at in marks:
                await conn.execute(
                    ksi_marks.insert().values(
                        submission_id=gw.seeded.ids[label], name=name, at=at, peer="eaviias",
                        bureau="bureau-77", region="77", recorded_at=at,
                    )
                )  # fmt: skip


async def test_ksi_page_lists_the_late_registration_and_draws_the_chart(gw: UiGateway) -> None:
    await _marks(gw)
    await gw.login("victor")
    html = await (await gw.client.get("/ui/ksi?from=2026-11-01&to=2026-11-30")).text()
    assert 'id="ksi-stages"' in html
    chart = html.split('id="ksi-chart-t"')[1].split("</svg>")[0]
    # stage 2 ended on two days (16 Nov on time, 19 Nov late): a line from 100 % to 0 %
    assert "<polyline" in chart and "16.11: 100%" in chart and "19.11: 0%" in chart
    overdue = html.split('id="ksi-overdue-stage2"')[1].split("</table>")[0]
    late_uid = (await gw.journal.get(gw.seeded.ids["reg-77-1"])).local_uid
    on_time_uid = (await gw.journal.get(gw.seeded.ids["reg-77-0"])).local_uid
    assert late_uid in overdue and on_time_uid not in overdue
    row = re.search(r"Этап 2: регистрация</th>(.*?)</tr>", html, re.S)
    assert row is not None
    assert [int(n) for n in re.findall(r'class="num">(\d+)<', row.group(1))] == [2, 1, 1, 0, 0]
    assert "bureau-77" in html


async def test_ksi_gauges_by_stage_region_and_bureau(gw: UiGateway) -> None:
    await _marks(gw)
    text = await (await gw.client.get("/metrics")).text()
    samples = {
        (s.name, s.labels.get("stage"), s.labels.get("region"), s.labels.get("bureau")): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name.startswith("mse_gateway_ksi_")
    }
    assert samples[("mse_gateway_ksi_measured", "stage2", "77", "bureau-77")] == 2
    assert samples[("mse_gateway_ksi_within", "stage2", "77", "bureau-77")] == 1
    assert samples[("mse_gateway_ksi_late", "stage2", "all", "all")] == 1
    assert samples[("mse_gateway_ksi_open_overdue", "stage6", "all", "all")] == 0
