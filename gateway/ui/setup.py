"""Wiring of the monitoring UI into the gateway app.

Wiring (``gateway.app.create_app``)::

    setup_ui(app)                       # /ui sub-application
    setup_metrics(app)                  # GET /metrics (gateway.monitoring.metrics)
    app.cleanup_ctx.append(alerts_ctx())  # after the journal, HTTP and peers contexts
"""

from __future__ import annotations

from aiohttp import web

from gateway.appkeys import CONFIG_KEY
from gateway.ui import console
from gateway.ui.alerts import alerts_ctx
from gateway.ui.config import AlertsConfig, UiConfig
from gateway.ui.demo import ensure_demo_operator
from gateway.ui.session import UI_KEY, UiState, ui_middleware
from gateway.ui.web import ALERTS_CONFIG_KEY, build_ui_app, forbidden

__all__ = ["AlertsConfig", "UiConfig", "alerts_ctx", "ensure_demo_operator", "setup_ui"]


def setup_ui(app: web.Application, config: UiConfig | None = None, alerts: AlertsConfig | None = None) -> None:
    """Mount the UI at /ui. ``config``/``alerts`` default to the gateway config's ``[ui]`` and
    ``[alerts]`` sections (or their defaults while those sections are not wired)."""
    gateway_config = app[CONFIG_KEY]
    ui_config = config or getattr(gateway_config, "ui", None) or UiConfig()
    if not ui_config.enabled:
        return
    alerts_config = alerts or getattr(gateway_config, "alerts", None) or AlertsConfig()
    sub = build_ui_app(middlewares=[ui_middleware(forbidden=forbidden)])
    sub.router.add_routes(console.routes)  # the operations console (lists, bulk actions)
    sub[UI_KEY] = UiState(ui_config)
    sub[ALERTS_CONFIG_KEY] = alerts_config
    app.add_subapp("/ui", sub)
