"""The monitoring UI for MSE IT staff (``/ui``), its alerting and its accounts.

Wiring lives in :mod:`gateway.ui.setup` (``setup_ui``, ``setup_metrics``, ``alerts_ctx``); this
package init imports nothing, so :mod:`gateway.config` can import ``gateway.ui.config`` without a
cycle through the app.
"""
