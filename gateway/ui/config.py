"""Configuration of the monitoring UI and of alerting: the ``[ui]`` and ``[alerts]`` sections.

Same conventions as :mod:`gateway.config`: strict types, unknown keys refused, frozen values.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AlertRuleConfig", "AlertsConfig", "UiConfig"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class UiConfig(_Section):
    # Serve the operator UI under /ui. Disable on API-only replicas.
    enabled: bool = True
    # Interface language when the user has not chosen one ("ru" or "en").
    default_language: Literal["ru", "en"] = "ru"
    # Idle session lifetime; every request within it extends the session.
    session_idle_minutes: float = Field(default=60.0, gt=0)
    # Absolute session lifetime, whatever the activity.
    session_max_hours: float = Field(default=12.0, gt=0)
    # Mark the session cookie Secure. "auto": when the request came over https (directly or via
    # X-Forwarded-Proto from a trusted proxy, see trust_forwarded_proto).
    secure_cookies: Literal["auto", "always", "never"] = "auto"
    # Believe X-Forwarded-Proto (only behind a reverse proxy that sets it).
    trust_forwarded_proto: bool = False
    # Rows per page in the message browser.
    page_size: int = Field(default=50, gt=0, le=500)
    # The register of medical organisations the lists name: a UTF-8 TSV with the columns ``oid``
    # and ``name`` (e.g. an FRMO extract). Empty: the lists show the organisation's OID.
    organisations_file: str = ""
    # Bearer token for /metrics. Empty: /metrics answers loopback clients only.
    metrics_token: str = ""
    # Failed logins per username (four times as many per client address) that cost nothing within
    # login_lockout_minutes; after them each failure makes the next attempt wait 1 s, 2 s, 4 s, ...
    # up to login_max_delay_seconds (HTTP 429 meanwhile, audited). No hard lock: a guesser cannot
    # keep an operator out longer than the maximum delay. Failures older than the window are forgotten.
    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_minutes: float = Field(default=15.0, gt=0)
    login_max_delay_seconds: float = Field(default=60.0, gt=0)


class AlertRuleConfig(_Section):
    # Unique name, shown in the UI and in webhook payloads.
    name: str = Field(min_length=1, max_length=80)
    # What is measured: the oldest unanswered (SENT/RECONCILING) submission's age in minutes,
    # the number of DEAD submissions, the number of peers with an open circuit, the number of
    # open SLA breaches (overdue and not yet registered), flagged contradictions, the number of
    # configured CRL sources without a current CRL (signatures depending on them are INDETERMINATE),
    # or stuck submissions (waiting for a peer longer than its stuck_after_hours, or for a peer not
    # running); the MSE bureaus' KSI: stages open past their working-day deadline (ksi_overdue), or
    # the percentage of the last 30 days' measured stages that missed it (ksi_late_percent); or
    # submissions FAILED in the last 24 hours with a code its peer's table marks ``alert`` (wrong
    # credentials: nothing of that peer passes until an operator acts) (alerting_refusals).
    condition: Literal[
        "oldest_unanswered_minutes",
        "dead_items",
        "circuit_open",
        "sla_breaches",
        "flagged",
        "crl_stale",
        "stuck",
        "ksi_overdue",
        "ksi_late_percent",
        "alerting_refusals",
    ]
    # The alert fires when the measured value is strictly greater than this.
    threshold: float = 0.0
    # "warning" or "critical"; passed through to the webhook.
    severity: Literal["warning", "critical"] = "warning"


def _default_rules() -> list[AlertRuleConfig]:
    return [
        AlertRuleConfig(name="oldest-unanswered", condition="oldest_unanswered_minutes", threshold=1440.0),
        AlertRuleConfig(name="dead-items", condition="dead_items", threshold=0.0, severity="critical"),
        AlertRuleConfig(name="circuit-open", condition="circuit_open", threshold=0.0, severity="critical"),
        AlertRuleConfig(name="sla-breaches", condition="sla_breaches", threshold=0.0),
        AlertRuleConfig(name="crl-stale", condition="crl_stale", threshold=0.0, severity="critical"),
        AlertRuleConfig(name="stuck-documents", condition="stuck", threshold=0.0),
        AlertRuleConfig(name="ksi-overdue", condition="ksi_overdue", threshold=0.0),
        AlertRuleConfig(name="ksi-late-share", condition="ksi_late_percent", threshold=10.0),
        # a peer refused our credentials or signature (ШЭП SENDER_AUTH_FAILED): nothing will pass
        AlertRuleConfig(
            name="peer-refusals-needing-action", condition="alerting_refusals", threshold=0.0, severity="critical"
        ),
    ]


class AlertsConfig(_Section):
    # Evaluate the rules in this process (one process per deployment is enough: the state table
    # makes several evaluators agree, but each would post its own webhook call).
    enabled: bool = True
    # How often the rules are evaluated.
    interval_seconds: float = Field(default=60.0, gt=0)
    # While a condition stays true, notify again after this long (0: never again).
    renotify_minutes: float = Field(default=240.0, ge=0)
    # Webhook receiving JSON {"alert", "status": "firing"|"resolved", ...}. Empty: UI only.
    webhook_url: str = ""
    # Webhook request timeout.
    webhook_timeout_seconds: float = Field(default=10.0, gt=0)
    # The rules. The default set covers the conditions the operators asked for, and stuck documents.
    rules: list[AlertRuleConfig] = Field(default_factory=_default_rules)
