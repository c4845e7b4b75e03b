"""/metrics: parses as Prometheus text, is computed from the journal at scrape time (moves when
documents flow), and is protected."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer, make_mocked_request
from prometheus_client.parser import text_string_to_metric_families

from gateway.app import create_app
from gateway.model import State
from gateway.monitoring.metrics import _allowed, observe_delivery, record_retry

from .conftest import UiGateway, make_config


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def _scrape(gw: UiGateway) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    resp = await gw.client.get("/metrics")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return _samples(await resp.text())


def _by_state(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], state: State) -> float:
    return sum(
        v for (name, labels), v in samples.items() if name == "mse_gateway_submissions" and ("state", state) in labels
    )


async def test_metrics_match_the_journal_and_move(gw: UiGateway) -> None:
    samples = await _scrape(gw)
    counts = await gw.journal.counts_by_state()
    for state in State:
        assert _by_state(samples, state) == counts[state], state
    assert samples[("mse_gateway_submissions", (("kind", "108"), ("state", "REGISTERED")))] == 3
    assert samples[("mse_gateway_registered_by_source", (("source", "reconciled"),))] == 2
    assert samples[("mse_gateway_oldest_unanswered_seconds", ())] > 0
    assert samples[("mse_gateway_reconciliation_outcomes_last_day", (("outcome", "found_registered"),))] == 2
    assert samples[("mse_gateway_retries_last_hour", (("cause", "TIMEOUT"), ("peer", "remd")))] == 1
    err_key = ("mse_gateway_peer_errors_last_hour", (("code", "INVALID_SIGNATURE"), ("peer", "remd")))
    errors_before = samples.get(err_key, 0.0)

    # documents flow: the queued one is sent and registered, the received one validated
    await walk_from_queued(gw)
    record_retry("remd", "TIMEOUT")
    observe_delivery("remd", "registered", 0.2)
    after = await _scrape(gw)
    assert _by_state(after, State.QUEUED) == counts[State.QUEUED] - 1
    assert _by_state(after, State.REGISTERED) == counts[State.REGISTERED] + 1
    assert after[err_key] == errors_before + 1
    assert after[("mse_gateway_retries_total", (("cause", "TIMEOUT"), ("peer", "remd")))] >= 1
    assert after[("mse_gateway_delivery_seconds_count", (("peer", "remd"), ("result", "registered")))] >= 1


async def walk_from_queued(gw: UiGateway) -> None:
    sid = gw.seeded.ids["queued-0"]
    await gw.journal.transition(sid, State.SENT, actor="test")
    await gw.journal.transition(sid, State.REGISTERED, actor="test")
    await gw.journal.transition(gw.seeded.ids["sent-0"], State.FAILED, actor="test", code="INVALID_SIGNATURE")


async def test_metrics_token_required_when_configured(tmp_path: Path) -> None:
    app = create_app(make_config(tmp_path).with_overrides(ui={"metrics_token": "s3cret-token"}))
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/metrics")).status == 401
        bad = await client.get("/metrics", headers={"Authorization": "Bearer wrong"})
        assert bad.status == 401
        ok = await client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
        assert ok.status == 200
        list(text_string_to_metric_families(await ok.text()))


async def test_metrics_loopback_only_without_token(tmp_path: Path) -> None:
    app = create_app(make_config(tmp_path))  # no metrics_token: loopback clients only
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        assert (await client.get("/metrics")).status == 200
        # a request relayed by a (local) proxy is not a local client: tests/ui/test_proxy_address.py
        resp = await client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        assert resp.status == 403


class _Transport:
    def __init__(self, peer: str) -> None:
        self.peer = peer

    def get_extra_info(self, name: str, default: object = None) -> object:
        return (self.peer, 40000) if name == "peername" else default


def test_loopback_rule() -> None:
    for peer, allowed in (("127.0.0.1", True), ("::1", True), ("10.1.2.3", False), ("203.0.113.9", False)):
        request = make_mocked_request("GET", "/metrics", transport=_Transport(peer))
        assert _allowed(request, "") is allowed, peer


async def test_grafana_dashboard_uses_only_exported_metrics(gw: UiGateway) -> None:
    import json
    import re

    from gateway.monitoring.counters import record_peer_refusal

    record_retry("remd", "X")
    record_peer_refusal("remd", "TEST")
    observe_delivery("remd", "accepted", 0.1)
    from gateway.monitoring.metrics import observe_intake

    observe_intake("rest", 0.01)
    text = await (await gw.client.get("/metrics")).text()
    exported = {name for name, _ in _samples(text)} | {f.name for f in text_string_to_metric_families(text)}
    dash = json.loads((Path(__file__).resolve().parents[2] / "config" / "grafana-dashboard.json").read_text())
    used = {m for p in dash["panels"] for t in p["targets"] for m in re.findall(r"mse_gateway_\w+", t["expr"])}
    assert used and used <= exported, used - exported


async def test_build_info_needs_operator_rejections_and_notices(gw: UiGateway) -> None:
    import platform

    from gateway import __version__
    from gateway.ui import actions

    samples = await _scrape(gw)
    assert samples[("mse_gateway_build_info", (("python", platform.python_version()), ("version", __version__)))] == 1
    assert samples[("mse_gateway_needs_operator", ())] == 2
    # the seeded rejections, by category and code (within the last day of the seed's clock)
    assert samples[("mse_gateway_rejections_last_day", (("category", "duplicate"), ("code", "FLK_DUPLICATE")))] == 1
    assert samples[("mse_gateway_rejections_last_day", (("category", "late"), ("code", "FLK_LATE")))] == 1
    # an operator resolves one: the gauge follows the one counting rule
    await actions.perform(gw.journal, gw.seeded.ids["dead-0"], actions.Action.RESOLVE, username="olga", comment="ok")
    samples = await _scrape(gw)
    assert samples[("mse_gateway_needs_operator", ())] == 1
    # no notice owed yet in the seed (no callback_url): the outbox gauge has no rows, the age is 0
    assert samples[("mse_gateway_notifications_oldest_pending_seconds", ())] == 0
    from gateway.model import SubmissionDraft

    sub, _ = await gw.journal.submit(
        SubmissionDraft(
            source_system="mis-alpha", local_uid="uid-notice", kind="121", organization_oid="1.2.3",
            content_hash="0" * 64, payload=b"{}", callback_url="https://mis.example/cb",
        )
    )  # fmt: skip
    await gw.journal.transition(sub.id, State.REJECTED, actor="test")
    gw.clock.advance(minutes=3)
    samples = await _scrape(gw)
    assert samples[("mse_gateway_notifications", (("channel", "rest"), ("state", "pending")))] == 1
    assert samples[("mse_gateway_notifications", (("channel", "rest"), ("state", "delivered")))] == 0
    assert samples[("mse_gateway_notifications_oldest_pending_seconds", ())] == 180


async def test_prometheus_rules_are_well_formed_and_use_exported_metrics(gw: UiGateway) -> None:
    import json
    import re

    import yaml

    text = await (await gw.client.get("/metrics")).text()
    exported = {name for name, _ in _samples(text)} | {f.name for f in text_string_to_metric_families(text)}
    root = Path(__file__).resolve().parents[2]
    rules = yaml.safe_load((root / "prometheus" / "alerts.yml").read_text())["groups"][0]["rules"]
    assert len(rules) >= 8
    journal_gauges = {
        "mse_gateway_needs_operator", "mse_gateway_stuck_submissions", "mse_gateway_oldest_unanswered_seconds",
        "mse_gateway_submissions", "mse_gateway_sla_breaches", "mse_gateway_rejections_last_day",
        "mse_gateway_notifications", "mse_gateway_notifications_oldest_pending_seconds",
        "mse_gateway_peer_errors_last_hour", "mse_gateway_crl_stale", "mse_gateway_peer_circuit_open",
    }  # fmt: skip
    for rule in rules:
        assert {"alert", "expr", "for", "labels", "annotations"} <= rule.keys(), rule.get("alert")
        assert rule["labels"]["severity"] in {"warning", "critical"} and "summary" in rule["annotations"]
        used = set(re.findall(r"mse_gateway_\w+", rule["expr"]))
        assert used and used <= exported, (rule["alert"], used - exported)
        for metric in used & journal_gauges:  # never summed across processes before de-duplication
            assert f"max without (instance, pod) ({metric}" in rule["expr"], rule["alert"]
    dash = json.loads((root / "config" / "grafana-dashboard.json").read_text())
    for panel in dash["panels"]:
        for target in panel["targets"]:
            for metric in set(re.findall(r"mse_gateway_\w+", target["expr"])) & journal_gauges:
                assert f"max without (instance, pod) ({metric}" in target["expr"], panel["title"]
