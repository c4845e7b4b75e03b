"""REST handlers: submit, look up, list, dry-run check."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from aiohttp import web

from gateway.api.auth import current_client
from gateway.api.views import submission_summary, submission_view
from gateway.appkeys import CONFIG_KEY, DRY_CHECKER_KEY, JOURNAL_KEY, WORKERS_KEY
from gateway.errors import GatewayError, MalformedJson, NotFound, PayloadTooLarge
from gateway.intake.service import accept, authorise
from gateway.intake.submission import SchemaViolation, parse_submission
from gateway.journal.store import SearchQuery
from gateway.model import State
from gateway.monitoring.counters import observe_intake

__all__ = ["routes"]

routes = web.RouteTableDef()


async def _read_json(request: web.Request) -> tuple[dict[str, Any], bytes]:
    limit = request.app[CONFIG_KEY].server.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"request body exceeds {limit} bytes", details={"limit": limit})
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge(f"request body exceeds {limit} bytes", details={"limit": limit}) from None
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedJson(f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise SchemaViolation(
            "the body must be a JSON object", details={"errors": [{"field": "/", "message": "not an object"}]}
        )
    return data, body


@routes.post("/api/v1/submissions")
async def create_submission(request: web.Request) -> web.Response:
    """Journal a signed document. Answers only after it is durable."""
    started = time.perf_counter()
    client = current_client(request)
    data, body = await _read_json(request)
    sub = parse_submission(data)
    authorise(client, sub)
    record, created = await accept(request.app[JOURNAL_KEY], sub, data, payload=body)
    observe_intake("rest", time.perf_counter() - started)
    if created:
        worker = request.app.get(WORKERS_KEY, {}).get("validation")
        if worker is not None:
            worker.wake()
    view = submission_summary(record)
    status = 202 if created else 200
    return web.json_response(
        {**view, "status_url": view["links"]["self"]}, status=status, headers={"Location": view["links"]["self"]}
    )


@routes.get("/api/v1/submissions/{id}")
async def get_submission(request: web.Request) -> web.Response:
    client = current_client(request)
    journal = request.app[JOURNAL_KEY]
    sub = await journal.get(request.match_info["id"])
    if sub.source_system != client.source_system:
        raise NotFound(f"no submission {sub.id}")  # other clients' records do not exist for you
    return web.json_response(submission_view(sub, await journal.events(sub.id)))


def _param_datetime(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise _bad_param(name, "not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise _bad_param(name, "needs a time zone offset")
    return parsed


def _bad_param(name: str, message: str) -> GatewayError:
    return SchemaViolation(
        f"invalid query parameter {name}: {message}", details={"errors": [{"field": name, "message": message}]}
    )


@routes.get("/api/v1/submissions")
async def list_submissions(request: web.Request) -> web.Response:
    client = current_client(request)
    q = request.query
    try:
        states = tuple(State(s) for s in q.getall("state", []))
    except ValueError:
        raise _bad_param("state", f"one of {', '.join(State)}") from None
    try:
        limit = int(q.get("limit", "50"))
    except ValueError:
        raise _bad_param("limit", "an integer") from None
    if not 1 <= limit <= 500:
        raise _bad_param("limit", "between 1 and 500")
    query = SearchQuery(
        source_system=client.source_system,
        local_uid=q.get("local_uid"),
        kind=q.get("kind"),
        organization_oid=q.get("org"),
        states=states,
        since=_param_datetime(q.get("since"), "since"),
        cursor=q.get("cursor"),
        limit=limit,
    )
    items, cursor = await request.app[JOURNAL_KEY].search(query)
    return web.json_response({"items": [submission_summary(s) for s in items], "next_cursor": cursor})


@routes.post("/api/v1/check")
async def check_submission(request: web.Request) -> web.Response:
    """A dry run for vendors: the full report, nothing journalled."""
    data, _ = await _read_json(request)
    sub = parse_submission(data)
    report = await request.app[DRY_CHECKER_KEY].check(sub)
    return web.json_response(report.to_dict())
