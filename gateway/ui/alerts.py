"""Alert rules evaluated periodically against the journal: ONE notification when a condition
starts, a reminder every ``renotify_minutes`` while it lasts, one "resolved" notice when it ends.

The state of every rule is a row of ``alert_state``, so a restart neither re-sends an open alert
nor forgets to resolve it. Delivery is a JSON webhook; a failed webhook call is retried at the next
evaluation (the row keeps ``last_error``), never in a tight loop. ``last_notified_at`` is stamped
only when a notice was actually delivered (no webhook configured, or a silenced rule: no stamp).

Operators may **acknowledge** a firing alert (no reminders until it resolves; the acknowledgement
ends with the firing) and **silence** a rule until a time, with a comment (no notices at all while
silenced; the page still shows its state). With several gateway processes on one journal, one
evaluator runs at a time: it holds the ``alerts-evaluator`` lease in the journal
(:class:`gateway.journal.peer_messages.ReceiverLeases`), so each webhook notice is sent once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import aiohttp
import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.appkeys import CONFIG_KEY, HTTP_KEY, JOURNAL_KEY
from gateway.common.logs import get_logger
from gateway.delivery.limits import BreakerState
from gateway.journal.peer_messages import ReceiverLeases
from gateway.journal.store import Journal
from gateway.monitoring.crl_health import stale_crl_sources
from gateway.monitoring.ksi import ksi_report
from gateway.monitoring.stuck import StuckPolicy, stuck_counts, stuck_policy
from gateway.peers.mount import PEERS_KEY
from gateway.ui import queries
from gateway.ui.config import AlertRuleConfig, AlertsConfig
from gateway.ui.queries import read
from gateway.ui.schema import alert_state

__all__ = [
    "EVALUATOR_LEASE",
    "UNITS",
    "AlertEvaluator",
    "Measurements",
    "NoSuchRule",
    "Notify",
    "acknowledge",
    "alert_rows",
    "alerting_codes",
    "alerts_ctx",
    "format_value",
    "measure",
    "silence",
    "webhook_notifier",
]

_log: Final = get_logger(__name__)
_SLA_WINDOW: Final = timedelta(days=30)
EVALUATOR_LEASE: Final = "alerts-evaluator"
_ALERTING_WINDOW: Final = timedelta(hours=24)

Notify = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Measurements:
    oldest_unanswered_minutes: float
    dead_items: int
    circuit_open: int
    sla_breaches: int
    flagged: int
    crl_stale: int = 0
    stuck: int = 0  # submissions waiting for a peer past its stuck_after_hours (gateway.monitoring.stuck)
    ksi_overdue: int = 0  # KSI stages open past their working-day deadline (gateway.monitoring.ksi)
    ksi_late_percent: float = 0.0  # of the KSI stages measured in the last 30 days, % that missed the deadline
    alerting_refusals: int = 0  # FAILED in the last 24 h with a code the peer's table marks ``alert``

    def value(self, condition: str) -> float:
        return float(getattr(self, condition))


async def measure(
    journal: Journal,
    open_circuits: int,
    stuck: StuckPolicy | None = None,
    *,
    crl_stale: int = 0,
    alerting: Mapping[str, frozenset[str]] | None = None,
) -> Measurements:
    """Everything the rules look at, from the journal now. SLA breaches are open submissions of
    the last 30 days already past their working-day deadline. ``alerting``: per peer, the codes
    its table marks ``alert``.

    Every query searches an index over the rows it is about (the backlog, the window, the DEAD,
    flagged or FAILED ones), so a check costs the same over a journal of a thousand submissions or
    of millions (tests/ui/test_alert_plans.py reads the query plans)."""
    now = journal.clock.now()
    async with read(journal.engine) as conn:
        status = await queries.alert_status(conn)
        sla = await queries.sla_open_overdue(conn, since=now - _SLA_WINDOW, now=now)
        stuck_total = sum((await stuck_counts(conn, stuck, now)).values()) if stuck is not None else 0
        ksi = await ksi_report(conn, now=now, since=now - _SLA_WINDOW, overdue_limit=0)
        refusals = await queries.failed_with_codes(conn, alerting or {}, since=now - _ALERTING_WINDOW)
    return Measurements(
        oldest_unanswered_minutes=status.oldest_age_seconds(now) / 60.0,
        dead_items=status.dead,
        circuit_open=open_circuits,
        sla_breaches=sum(sla.values()),
        flagged=status.flagged,
        crl_stale=crl_stale,
        stuck=stuck_total,
        ksi_overdue=ksi.open_overdue,
        ksi_late_percent=ksi.late_percent(),
        alerting_refusals=refusals,
    )


class AlertEvaluator:
    """Evaluates the rules and keeps their state; ``notify`` delivers one message (may raise)."""

    def __init__(self, engine: AsyncEngine, config: AlertsConfig, notify: Notify | None) -> None:
        self.engine = engine
        self.config = config
        self.notify = notify

    async def evaluate(self, values: Measurements, now: datetime) -> list[dict[str, Any]]:
        """Apply one round of measurements; returns the notifications sent (or attempted)."""
        sent: list[dict[str, Any]] = []
        async with self.engine.connect() as conn:
            rows = {r.name: r for r in (await conn.execute(sa.select(alert_state))).all()}
        renotify = timedelta(minutes=self.config.renotify_minutes)
        for rule in self.config.rules:
            value = values.value(rule.condition)
            firing = value > rule.threshold
            row = rows.get(rule.name)
            was_firing = bool(row.firing) if row is not None else False
            status: str | None = None
            if firing and not was_firing:
                status = "firing"
            elif firing and row is not None:
                last = row.last_notified_at
                if last is None or (self.config.renotify_minutes > 0 and now - last >= renotify):
                    status = "firing"
            elif not firing and was_firing:
                status = "resolved"
            elif not firing and row is not None and row.last_error and row.resolved_at is None:
                status = "resolved"  # the resolved notice failed last time: try again
            silenced = row is not None and row.silenced_until is not None and row.silenced_until > now
            acked = row is not None and row.acked_at is not None and was_firing
            if status == "firing" and was_firing and acked:
                status = None  # acknowledged: no reminders while it lasts
            error: str | None = None
            delivered = False
            if status is not None and not silenced:
                message = _message(rule, status, value, now, row.since if row is not None and was_firing else now)
                sent.append(message)
                error = await self._deliver(message)
                delivered = self.notify is not None and error is None
            await self._save(rule, firing, was_firing, value, now, row, status, error, delivered)
        return sent

    async def _deliver(self, message: dict[str, Any]) -> str | None:
        if self.notify is None:
            return None
        try:
            await self.notify(message)
        except Exception as exc:  # the webhook is down: keep the state, try at the next round
            _log.warning("alert webhook failed", alert=message["alert"], error=type(exc).__name__)
            return f"{type(exc).__name__}: {exc}"[:500]
        return None

    async def _save(
        self, rule: AlertRuleConfig, firing: bool, was_firing: bool, value: float, now: datetime,
        row: Any, status: str | None, error: str | None, delivered: bool,
    ) -> None:  # fmt: skip
        values: dict[str, Any] = {"firing": firing, "value": value, "updated_at": now, "last_error": error}
        if firing and not was_firing:
            values.update(since=now, resolved_at=None, acked_by=None, acked_at=None)
        if not firing and was_firing:
            values.update(resolved_at=None if error else now, acked_by=None, acked_at=None)
        if not firing and not was_firing and status == "resolved" and error is None:
            values["resolved_at"] = now
        if status == "firing" and delivered:
            values["last_notified_at"] = now
        elif status == "firing" and error is not None and not was_firing:
            values["last_notified_at"] = None  # retried at the next round
        update = alert_state.update().where(alert_state.c.name == rule.name).values(**values)
        if row is not None:
            async with self.engine.begin() as conn:
                await conn.execute(update)
            return
        try:
            async with self.engine.begin() as conn:
                await conn.execute(alert_state.insert().values(name=rule.name, **values))
        except IntegrityError:
            # Another evaluator (another process, or a round that overlapped) wrote the rule's
            # first row meanwhile: this round's state replaces it.
            async with self.engine.begin() as conn:
                await conn.execute(update)


def _message(rule: AlertRuleConfig, status: str, value: float, now: datetime, since: datetime) -> dict[str, Any]:
    return {
        "alert": rule.name,
        "status": status,
        "condition": rule.condition,
        "severity": rule.severity,
        "value": value,
        "threshold": rule.threshold,
        "since": since.isoformat(),
        "at": now.isoformat(),
    }


def webhook_notifier(session: aiohttp.ClientSession, url: str, timeout: float) -> Notify:
    async def notify(message: dict[str, Any]) -> None:
        async with session.post(url, json=message, timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
            if resp.status >= 300:
                raise RuntimeError(f"webhook answered HTTP {resp.status}")

    return notify


# The unit of each condition's value, as the alerts page shows it (catalogue keys "unit.<unit>").
UNITS: Final = {
    "oldest_unanswered_minutes": "min",
    "dead_items": "documents",
    "circuit_open": "peers",
    "sla_breaches": "documents",
    "flagged": "documents",
    "crl_stale": "sources",
    "stuck": "documents",
    "ksi_overdue": "stages",
    "ksi_late_percent": "%",
    "alerting_refusals": "documents",
}


def format_value(condition: str, value: float | None) -> str:
    """A rule's value for people: whole counts without decimals, minutes rounded."""
    if value is None:
        return "—"
    if condition == "oldest_unanswered_minutes":
        return f"{value:.0f}"
    return f"{value:g}"


class NoSuchRule(LookupError):
    pass


async def acknowledge(engine: AsyncEngine, config: AlertsConfig, name: str, *, username: str, now: datetime) -> bool:
    """Acknowledge a firing alert (no reminders until it resolves). False when it is not firing."""
    _rule(config, name)
    async with engine.begin() as conn:
        result = await conn.execute(
            alert_state.update()
            .where(alert_state.c.name == name, alert_state.c.firing.is_(True))
            .values(acked_by=username, acked_at=now)
        )
    return int(result.rowcount) == 1


async def silence(
    engine: AsyncEngine, config: AlertsConfig, name: str, *, username: str, until: datetime | None, comment: str,
    now: datetime,
) -> None:  # fmt: skip
    """Silence a rule until ``until`` (None lifts the silence)."""
    _rule(config, name)
    values = {"silenced_until": until, "silenced_by": username if until else None, "silence_comment": comment or None}
    async with engine.begin() as conn:
        done = await conn.execute(alert_state.update().where(alert_state.c.name == name).values(**values))
        if done.rowcount == 0:
            try:
                await conn.execute(alert_state.insert().values(name=name, firing=False, updated_at=now, **values))
            except IntegrityError:  # the evaluator created the row meanwhile
                await conn.execute(alert_state.update().where(alert_state.c.name == name).values(**values))


def _rule(config: AlertsConfig, name: str) -> AlertRuleConfig:
    for rule in config.rules:
        if rule.name == name:
            return rule
    raise NoSuchRule(name)


async def alert_rows(engine: AsyncEngine, config: AlertsConfig) -> list[dict[str, Any]]:
    """Every configured rule with its current state, for the UI."""
    async with engine.connect() as conn:
        rows = {r.name: r._mapping for r in (await conn.execute(sa.select(alert_state))).all()}
    out = []
    for rule in config.rules:
        row = rows.get(rule.name)
        out.append(
            {
                "rule": rule,
                "state": dict(row) if row is not None else None,
                "unit": UNITS.get(rule.condition, ""),
                "value": format_value(rule.condition, row["value"] if row is not None else None),
                "threshold": format_value(rule.condition, rule.threshold),
            }
        )
    return out


def alerting_codes(app: web.Application) -> dict[str, frozenset[str]]:
    """Per running peer, the codes its table marks ``alert``."""
    peers = app.get(PEERS_KEY, {})
    return {name: codes for name, p in peers.items() if (codes := p.codes.alerting())}


def open_circuits(app: web.Application) -> int:
    peers = app.get(PEERS_KEY, {})
    return sum(1 for p in peers.values() if p.breaker.snapshot().state is not BreakerState.CLOSED)


def alerts_ctx(config: AlertsConfig | None = None) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context (append it to ``app.cleanup_ctx`` after the journal, HTTP and peers
    contexts) running the evaluator every ``interval_seconds``."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        cfg = config or getattr(app[CONFIG_KEY], "alerts", None) or AlertsConfig()
        if not cfg.enabled:
            yield
            return
        journal = app[JOURNAL_KEY]
        notify = (
            webhook_notifier(app[HTTP_KEY], cfg.webhook_url, cfg.webhook_timeout_seconds) if cfg.webhook_url else None
        )
        evaluator = AlertEvaluator(journal.engine, cfg, notify)
        leases = ReceiverLeases(journal)
        owner = f"alerts:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        lease_seconds = max(30.0, cfg.interval_seconds * 3)

        async def loop() -> None:
            while True:
                try:
                    if not await leases.acquire(EVALUATOR_LEASE, owner, lease_seconds):
                        await asyncio.sleep(cfg.interval_seconds)
                        continue  # another process evaluates; this one stands by
                    stale = await stale_crl_sources(app, datetime.now(UTC))
                    values = await measure(
                        journal,
                        open_circuits(app),
                        stuck_policy(app),
                        crl_stale=len(stale),
                        alerting=alerting_codes(app),
                    )
                    await evaluator.evaluate(values, journal.clock.now())
                except Exception:
                    _log.exception("alert evaluation failed")
                await asyncio.sleep(cfg.interval_seconds)

        task = asyncio.create_task(loop(), name="ui:alerts")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            with contextlib.suppress(Exception):  # a standby takes over at once, not after expiry
                await leases.release(EVALUATOR_LEASE, owner)

    return ctx
