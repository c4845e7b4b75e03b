"""A CRL that cannot be refreshed past its nextUpdate is an alert (issue 14 finding 8): the
``mse_gateway_crl_stale`` gauge counts such sources at every scrape and the default ``crl-stale``
rule fires on it; the signatures depending on the CRL are INDETERMINATE (tests/signatures)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from gateway.app import create_app
from gateway.journal.engine import create_engine
from gateway.monitoring.crl_health import crl_store, stale_crl_sources
from gateway.signatures.pki import TestPki
from gateway.ui.alerts import AlertEvaluator, Measurements
from gateway.ui.config import AlertsConfig

from .conftest import make_config


def _gauge(text: str, name: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    raise AssertionError(f"{name} not exported")


async def test_a_stale_crl_is_exported_and_fires_the_default_rule(tmp_path: Path) -> None:
    pki = TestPki.init(tmp_path / "pki", "gost2012-256")
    config = make_config(tmp_path).with_overrides(validation={"trust_dir": str(pki.directory)})
    app = create_app(config)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        resp = await client.get("/metrics")
        assert _gauge(await resp.text(), "mse_gateway_crl_stale") == 0

        pki.write_crls(now=datetime.now(UTC) - timedelta(days=40))  # nextUpdate 10 days ago
        store = crl_store(app)
        assert store is not None
        store.refresh(force=True)  # files are re-read every 5 s; do not wait for it
        resp = await client.get("/metrics")
        assert _gauge(await resp.text(), "mse_gateway_crl_stale") == 1  # the test PKI's crl/ directory

        stale = await stale_crl_sources(app, datetime.now(UTC))
        assert [why.startswith("past nextUpdate") for why in stale.values()] == [True]
        engine = create_engine(config.database_url)
        try:
            evaluator = AlertEvaluator(engine, AlertsConfig(), notify=None)  # the default rules
            values = Measurements(
                oldest_unanswered_minutes=0, dead_items=0, circuit_open=0, sla_breaches=0, flagged=0,
                crl_stale=len(stale),
            )  # fmt: skip
            sent = await evaluator.evaluate(values, datetime.now(UTC))
        finally:
            await engine.dispose()
        assert [(m["alert"], m["status"]) for m in sent] == [("crl-stale", "firing")]
