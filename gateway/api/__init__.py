"""The REST API (``/api/v1``) for MIS and regional GIS."""

from __future__ import annotations

from aiohttp import web

from gateway.api import inbox, openapi, operator, submissions

__all__ = ["PUBLIC_PATHS", "setup_api"]

PUBLIC_PATHS = frozenset({"/api/v1/openapi.json", "/api/v1/docs"})


def setup_api(app: web.Application) -> None:
    app.router.add_routes(submissions.routes)
    app.router.add_routes(inbox.routes)
    app.router.add_routes(openapi.routes)
    app.router.add_routes(operator.routes)
