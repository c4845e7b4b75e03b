"""Prometheus metrics: ``GET /metrics``.

Two kinds of numbers:

* **Gauges computed at scrape time from the journal** (submissions by state and kind, oldest
  unanswered age, retry backlog, DEAD items, open SLA breaches, reconciliation outcomes, peer
  errors by code): every scrape runs a few GROUP BY queries, so the counts can never be stale or
  drift after a restart, and several gateway processes report the same truth.
* **Counters and histograms of this process** (intake and delivery latency, retries by cause):
  the core calls the small functions of :mod:`gateway.monitoring.counters` when something happens.

Access: a bearer token (``[ui] metrics_token``) when configured, otherwise loopback clients only,
and not requests relayed by a proxy (docs/security.md).
"""

from __future__ import annotations

import hmac
import ipaddress
import platform
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gateway import __version__
from gateway.appkeys import CONFIG_KEY, JOURNAL_KEY
from gateway.journal.schema import events, inbound_documents, notifications, submissions
from gateway.journal.store import Journal
from gateway.model import State
from gateway.monitoring.counters import REGISTRY, observe_delivery, observe_intake, record_retry
from gateway.monitoring.ksi import KsiReport, ksi_report
from gateway.monitoring.stuck import StuckPolicy, stuck_counts, stuck_policy

__all__ = [
    "CONTENT_TYPE",
    "REGISTRY",
    "JournalSnapshot",
    "metrics_handler",
    "observe_delivery",
    "observe_intake",
    "record_retry",
    "setup_metrics",
    "snapshot",
]

CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"


# ------------------------------------------------------------------------- scrape-time gauges

_S = submissions.c
_E = events.c
_D = inbound_documents.c
_N = notifications.c
_NOTICE_STATES: Final = ("pending", "delivered", "dead")
_AWAITING: Final = (str(State.SENT), str(State.RECONCILING))
# What a reconciliation lookup concluded, named by the state it led to.
_RECONCILE_OUTCOME: Final = {
    str(State.REGISTERED): "found_registered",
    str(State.QUEUED): "not_found_resubmitted",
    str(State.SENT): "peer_unreachable_rescheduled",
    str(State.FAILED): "found_refused",
    str(State.DEAD): "gave_up",
}


# The SLA numbers need working-day arithmetic per submission (measured: ~0.6 s for 30,000
# submissions on SQLite), so they are recomputed at most this often; everything else is read at
# every scrape.
SLA_CACHE_SECONDS: Final = 60.0
_SLA_CACHE: dict[int, tuple[float, dict[str, int]]] = {}
_KSI_CACHE: dict[int, tuple[float, KsiReport]] = {}
# The KSI gauges cover submissions created in this many days.
KSI_WINDOW_DAYS: Final = 90


class JournalSnapshot:
    """What one scrape read from the journal (plain values: the collector itself is sync)."""

    def __init__(self) -> None:
        self.by_state_kind: list[tuple[str, str, int]] = []
        self.oldest_unanswered_seconds = 0.0
        self.outcome_sources: list[tuple[str, int]] = []
        self.peer_errors: list[tuple[str, str, int]] = []
        self.sla_breaches: dict[str, int] = {}
        self.breakers: list[tuple[str, str]] = []
        self.reconciliation: list[tuple[str, int]] = []
        self.retries: list[tuple[str, str, int]] = []
        self.crl_stale: dict[str, str] = {}  # CRL source -> why it gives no current CRL
        self.stuck: dict[str, int] = {}
        self.peers: list[str] = []  # configured peer instances: each gets a stuck gauge, zero or not
        self.inbound: list[tuple[str, str, int]] = []  # documents addressed to our MOs: (state, reason, n)
        self.needs_operator = 0  # DEAD without an operator's disposition (gateway.ui.lists.needs_operator)
        self.rejections: list[tuple[str, str, int]] = []  # category, code, count (last 24 h)
        self.notifications: list[tuple[str, str, int]] = []  # channel, state, count
        self.oldest_pending_notice_seconds = 0.0
        self.ksi: KsiReport | None = None


async def snapshot(
    journal: Journal, *, peer_error_window: timedelta = timedelta(hours=1), stuck: StuckPolicy | None = None
) -> JournalSnapshot:
    """Read every scrape-time number in one read-only connection."""
    from gateway.ui.lists import needs_operator  # the UI package imports this module
    from gateway.ui.queries import read, sla_report

    now = journal.clock.now()
    snap = JournalSnapshot()
    async with read(journal.engine) as conn:
        rows = await conn.execute(sa.select(_S.state, _S.kind, sa.func.count()).group_by(_S.state, _S.kind))
        snap.by_state_kind = [(s, k, int(n)) for s, k, n in rows.all()]
        oldest = (await conn.execute(sa.select(sa.func.min(_S.created_at)).where(_S.state.in_(_AWAITING)))).scalar()
        snap.oldest_unanswered_seconds = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
        rows = await conn.execute(
            sa.select(sa.func.coalesce(_S.outcome_source, "unknown"), sa.func.count())
            .where(_S.state == str(State.REGISTERED))
            .group_by(_S.outcome_source)
        )
        snap.outcome_sources = [(s, int(n)) for s, n in rows.all()]
        rows = await conn.execute(
            sa.select(sa.func.coalesce(_S.destination, "none"), sa.func.coalesce(_E.code, "none"), sa.func.count())
            .select_from(events.join(submissions, _S.id == _E.submission_id))
            .where(
                _E.from_state.in_([str(State.QUEUED), str(State.SENT)]),
                _E.to_state.in_([str(State.RETRY_WAIT), str(State.FAILED)]),
                _E.at >= now - peer_error_window,
            )
            .group_by(_S.destination, _E.code)
        )
        snap.peer_errors = [(d, c, int(n)) for d, c, n in rows.all()]
        rows = await conn.execute(
            sa.select(_E.to_state, sa.func.count())
            .where(_E.from_state == str(State.RECONCILING), _E.at >= now - timedelta(days=1))
            .group_by(_E.to_state)
        )
        snap.reconciliation = [(_RECONCILE_OUTCOME.get(to, to.lower()), int(n)) for to, n in rows.all()]
        rows = await conn.execute(
            sa.select(sa.func.coalesce(_S.destination, "none"), sa.func.coalesce(_E.code, "none"), sa.func.count())
            .select_from(events.join(submissions, _S.id == _E.submission_id))
            .where(_E.to_state == str(State.RETRY_WAIT), _E.at >= now - peer_error_window)
            .group_by(_S.destination, _E.code)
        )
        snap.retries = [(d, c, int(n)) for d, c, n in rows.all()]
        if stuck is not None:
            snap.stuck = await stuck_counts(conn, stuck, now)
        rows = await conn.execute(
            sa.select(_D.state, sa.func.coalesce(_D.reason_code, "none"), sa.func.count()).group_by(
                _D.state, _D.reason_code
            )
        )
        snap.inbound = [(state, reason, int(n)) for state, reason, n in rows.all()]
        snap.needs_operator = int((await conn.execute(sa.select(sa.func.count()).where(needs_operator()))).scalar_one())
        category = sa.func.coalesce(_E.details["category"].as_string(), "other")
        rows = await conn.execute(
            sa.select(category, sa.func.coalesce(_E.code, "none"), sa.func.count())
            .where(_E.to_state == str(State.REJECTED), _E.at >= now - timedelta(days=1))
            .group_by(category, _E.code)
        )
        snap.rejections = [(c, code, int(n)) for c, code, n in rows.all()]
        rows = await conn.execute(sa.select(_N.channel, _N.state, sa.func.count()).group_by(_N.channel, _N.state))
        snap.notifications = [(ch, st, int(n)) for ch, st, n in rows.all()]
        oldest_notice = (
            await conn.execute(sa.select(sa.func.min(_N.created_at)).where(_N.state == "pending"))
        ).scalar()
        snap.oldest_pending_notice_seconds = max(0.0, (now - oldest_notice).total_seconds()) if oldest_notice else 0.0
        cached = _SLA_CACHE.get(id(journal.engine))
        if cached is not None and time.monotonic() - cached[0] < SLA_CACHE_SECONDS:
            snap.sla_breaches = cached[1]
        else:
            sla = await sla_report(conn, since=now - timedelta(days=30), until=None, now=now, overdue_limit=0)
            snap.sla_breaches = {str(stage): s.measured - s.within for stage, s in sla.stages.items()}
            _SLA_CACHE[id(journal.engine)] = (time.monotonic(), snap.sla_breaches)
        ksi_cached = _KSI_CACHE.get(id(journal.engine))
        if ksi_cached is not None and time.monotonic() - ksi_cached[0] < SLA_CACHE_SECONDS:
            snap.ksi = ksi_cached[1]
        else:
            since = now - timedelta(days=KSI_WINDOW_DAYS)
            snap.ksi = await ksi_report(conn, now=now, since=since, overdue_limit=0)
            _KSI_CACHE[id(journal.engine)] = (time.monotonic(), snap.ksi)
    return snap


class _SnapshotCollector(Collector):
    def __init__(self, snap: JournalSnapshot) -> None:
        self.snap = snap

    def collect(self) -> Iterable[Metric]:
        s = self.snap
        by_state = GaugeMetricFamily(
            "mse_gateway_submissions",
            "Submissions in the journal now, by state and document kind.",
            labels=["state", "kind"],
        )
        present = {(st, k) for st, k, _ in s.by_state_kind}
        kinds = sorted({k for _, k, _ in s.by_state_kind})
        for st, k, n in s.by_state_kind:
            by_state.add_metric([st, k], n)
        for st in State:  # every state is present, zero or not: dashboards need no absent() tricks
            for k in kinds or ["none"]:
                if (str(st), k) not in present:
                    by_state.add_metric([str(st), k], 0)
        yield by_state
        yield GaugeMetricFamily(
            "mse_gateway_oldest_unanswered_seconds",
            "Age of the oldest submission awaiting a peer's answer (SENT or RECONCILING).",
            value=s.oldest_unanswered_seconds,
        )
        outcomes = GaugeMetricFamily(
            "mse_gateway_registered_by_source",
            "Registered submissions by how the outcome became known (peer, callback, reconciled, operator).",
            labels=["source"],
        )
        for src, n in s.outcome_sources:
            outcomes.add_metric([src], n)
        yield outcomes
        errors = GaugeMetricFamily(
            "mse_gateway_peer_errors_last_hour",
            "Sends that ended in RETRY_WAIT or FAILED during the last hour, by peer and code.",
            labels=["peer", "code"],
        )
        for peer, code, n in s.peer_errors:
            errors.add_metric([peer, code], n)
        yield errors
        sla = GaugeMetricFamily(
            "mse_gateway_sla_breaches",
            "Submissions of the last 30 days registered late or still open past their working-day deadline.",
            labels=["stage"],
        )
        for stage, n in s.sla_breaches.items():
            sla.add_metric([stage], n)
        yield sla
        if s.ksi is not None:
            yield from _ksi_metrics(s.ksi)
        rec = GaugeMetricFamily(
            "mse_gateway_reconciliation_outcomes_last_day",
            "Reconciliation lookups concluded during the last 24 hours, by outcome.",
            labels=["outcome"],
        )
        for outcome, n in s.reconciliation:
            rec.add_metric([outcome], n)
        yield rec
        retries = GaugeMetricFamily(
            "mse_gateway_retries_last_hour",
            "Sends put into RETRY_WAIT during the last hour, by peer and cause (the event's code).",
            labels=["peer", "cause"],
        )
        for peer, cause, n in s.retries:
            retries.add_metric([peer, cause], n)
        yield retries
        breakers = GaugeMetricFamily(
            "mse_gateway_peer_circuit_open", "1 when the peer's circuit breaker is open or half-open.", labels=["peer"]
        )
        for peer, state in s.breakers:
            breakers.add_metric([peer], 0 if state == "closed" else 1)
        yield breakers
        yield GaugeMetricFamily(
            "mse_gateway_crl_stale",
            "Configured CRL sources with no current CRL (past nextUpdate and not refreshed, or unreadable): "
            "signatures depending on them are INDETERMINATE.",
            value=len(s.crl_stale),
        )
        stuck = GaugeMetricFamily(
            "mse_gateway_stuck_submissions",
            "Submissions waiting for a peer (QUEUED, RETRY_WAIT, SENT, RECONCILING) longer than its "
            "stuck_after_hours, or routed to a peer that is not running; by destination, each counted once.",
            labels=["peer"],
        )
        for peer in sorted(set(s.peers) | set(s.stuck)):
            stuck.add_metric([peer], s.stuck.get(peer, 0))
        yield stuck
        inbound = GaugeMetricFamily(
            "mse_gateway_inbound_documents",
            "Documents addressed to our organisations by state (ACCEPTED, FLAGGED — waiting for an "
            "operator —, RELEASED, DISMISSED) and flag reason (docs/inbound.md).",
            labels=["state", "reason"],
        )
        for state, reason, n in s.inbound:
            inbound.add_metric([state, reason], n)
        yield inbound
        yield GaugeMetricFamily(
            "mse_gateway_needs_operator",
            "DEAD submissions no operator has resolved: the UI's 'needs an operator' count.",
            value=s.needs_operator,
        )
        rejections = GaugeMetricFamily(
            "mse_gateway_rejections_last_day",
            "Submissions rejected by the gateway during the last 24 hours, by category and code.",
            labels=["category", "code"],
        )
        for category, code, n in s.rejections:
            rejections.add_metric([category, code], n)
        yield rejections
        notices = GaugeMetricFamily(
            "mse_gateway_notifications",
            "Outcome notices owed to senders (the outbox), by channel and state: pending, delivered, dead.",
            labels=["channel", "state"],
        )
        present = {(ch, st) for ch, st, _ in s.notifications}
        for channel, state, n in s.notifications:
            notices.add_metric([channel, state], n)
        for channel in sorted({ch for ch, _, _ in s.notifications}):
            for state in _NOTICE_STATES:
                if (channel, state) not in present:
                    notices.add_metric([channel, state], 0)
        yield notices
        yield GaugeMetricFamily(
            "mse_gateway_notifications_oldest_pending_seconds",
            "Age of the oldest outcome notice not yet delivered to its sender; 0 when none.",
            value=s.oldest_pending_notice_seconds,
        )
        build = GaugeMetricFamily(
            "mse_gateway_build_info",
            "Always 1; the labels say which build and Python this process runs.",
            labels=["version", "python"],
        )
        build.add_metric([__version__, platform.python_version()], 1)
        yield build


_KSI_GAUGES: Final = (
    ("measured", "mse_gateway_ksi_measured", "KSI stages that ended, or are open past their working-day deadline"),
    ("within", "mse_gateway_ksi_within", "KSI stages that ended by their working-day deadline"),
    ("late", "mse_gateway_ksi_late", "KSI stages that ended after their working-day deadline"),
    ("open_overdue", "mse_gateway_ksi_open_overdue", "KSI stages still open past their working-day deadline"),
    ("unreported", "mse_gateway_ksi_unreported", "KSI stages whose end the bureau never reported (a lost notice)"),
)


def _ksi_metrics(report: KsiReport) -> Iterable[Metric]:
    """The bureaus' KSI (gateway.monitoring.ksi) by stage, region and bureau, over the submissions
    of the last KSI_WINDOW_DAYS days; every stage is present with totals, zero or not."""
    for attr, name, text in _KSI_GAUGES:
        family = GaugeMetricFamily(name, f"{text}; by stage, region, bureau.", labels=["stage", "region", "bureau"])
        for stage, cells in report.cells.items():
            for (region, bureau), cell in sorted(cells.items()):
                family.add_metric([str(stage), region, bureau], getattr(cell, attr))
            family.add_metric([str(stage), "all", "all"], getattr(report.totals[stage], attr))
        yield family


def _allowed(request: web.Request, token: str) -> bool:
    if token:
        scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), token.encode())
    # No token: local scrapers only. A request a proxy relayed is not local even when the proxy
    # runs on loopback (issue 14 finding 9), hence the forwarding-header / trusted-proxy check.
    from gateway.ui.client_address import via_proxy  # here: appkeys -> clients -> ... -> this module

    if via_proxy(request):
        return False
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


def _metrics_token(config: Any) -> str:
    ui = getattr(config, "ui", None)
    return str(getattr(ui, "metrics_token", "") or "")


async def metrics_handler(request: web.Request) -> web.Response:
    token = request.app[_TOKEN_KEY]
    if not _allowed(request, token):
        return web.Response(status=401 if token else 403, text="metrics: not allowed\n")
    snap = await snapshot(request.app[JOURNAL_KEY], stuck=stuck_policy(request.app))
    from gateway.peers.mount import INSTANCES_KEY, PEERS_KEY  # here, not at the top: peers -> delivery -> this

    snap.peers = sorted(request.app.get(INSTANCES_KEY, {}).keys())
    snap.breakers = [(n, str(p.breaker.snapshot().state)) for n, p in sorted(request.app.get(PEERS_KEY, {}).items())]
    from gateway.monitoring.crl_health import stale_crl_sources  # here: appkeys -> clients -> ... -> this module

    snap.crl_stale = await stale_crl_sources(request.app, datetime.now(UTC))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_SnapshotCollector(snap))
    body = generate_latest(registry) + generate_latest(REGISTRY)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


_TOKEN_KEY: Final = web.AppKey("metrics_token", str)


def setup_metrics(app: web.Application, *, token: str | None = None) -> None:
    """Serve ``GET /metrics`` on ``app``. ``token`` (default: ``[ui] metrics_token``) requires
    ``Authorization: Bearer <token>``; without one only loopback clients are answered."""
    app[_TOKEN_KEY] = token if token is not None else _metrics_token(app[CONFIG_KEY])
    app.router.add_get("/metrics", metrics_handler)
