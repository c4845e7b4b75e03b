"""REST handlers: submit, look up, list, dry-run check."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from aiohttp import web

from gateway.api.auth import current_client
from gateway.api.views import submission_summary, submission_view
from gateway.appkeys import CALLBACK_POLICY_KEY, CONFIG_KEY, DRY_CHECKER_KEY, JOURNAL_KEY, WORKERS_KEY
from gateway.common.language import preferred_language
from gateway.common.timestamps import parse_timestamp
from gateway.errors import GatewayError, NotFound, PayloadTooLarge, UnsupportedMediaType
from gateway.intake.service import accept, authorise
from gateway.intake.submission import CanonicalSubmission, SchemaViolation, parse_submission
from gateway.journal.store import SearchQuery
from gateway.model import State
from gateway.monitoring.counters import observe_intake
from gateway.validation.contract import report_in_language
from gateway.wire.budget import CHECK_SLOTS_KEY, CheckSlots, body_budget, json_parse_cost, xml_parse_cost
from gateway.wire.decoding import decode_off_loop
from gateway.wire.jsonlimits import load_json

__all__ = ["routes"]

routes = web.RouteTableDef()

_JSON_TYPES = frozenset({"application/json"})


def _require_json(request: web.Request) -> None:
    """The API reads JSON and says so: a form post or a body without a type is refused up front
    (415) instead of being decoded as JSON by accident."""
    if request.content_type not in _JSON_TYPES:
        raise UnsupportedMediaType(
            f"send the body as application/json, not {request.content_type}",
            details={"expected": "application/json", "got": request.content_type[:100]},
        )
    charset = request.charset
    if charset is not None and charset.lower() not in {"utf-8", "utf8"}:
        raise UnsupportedMediaType(
            f"JSON is read as UTF-8, not {charset[:40]}", details={"expected": "application/json; charset=utf-8"}
        )


@asynccontextmanager
async def _json_body(request: web.Request) -> AsyncIterator[tuple[dict[str, Any], bytes]]:
    """Read and decode a JSON object within the per-request limit and the process's body budget
    (reserved before reading, held until the handler is done with the decoded value); decoding
    runs off the event loop."""
    _require_json(request)
    limit = request.app[CONFIG_KEY].server.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"request body exceeds {limit} bytes", details={"limit": limit})
    announced = request.content_length if request.content_length is not None else limit
    async with body_budget(request).hold(json_parse_cost(announced)) as hold:
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise PayloadTooLarge(f"request body exceeds {limit} bytes", details={"limit": limit}) from None
        hold.resize(json_parse_cost(len(body)))
        data = await decode_off_loop(load_json, body)
        yield _object(data), body


def _object(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise SchemaViolation(
            "the body must be a JSON object", details={"errors": [{"field": "/", "message": "not an object"}]}
        )
    return data


@routes.post("/api/v1/submissions")
async def create_submission(request: web.Request) -> web.Response:
    """Journal a signed document. Answers only after it is durable."""
    started = time.perf_counter()
    client = current_client(request)
    async with _json_body(request) as (data, body):
        sub = await decode_off_loop(parse_submission, data)
        authorise(client, sub)
        request.app[CALLBACK_POLICY_KEY].check_intake(sub.callback_url, client.callback_hosts, field="/callback_url")
        record, created = await accept(request.app[JOURNAL_KEY], sub, data, payload=body)
    observe_intake("rest", time.perf_counter() - started)
    if created:
        worker = request.app.get(WORKERS_KEY, {}).get("validation")
        if worker is not None:
            worker.wake()
    language = preferred_language(request.headers.get("Accept-Language"))
    view = submission_summary(record, language)
    status = 202 if created else 200
    return web.json_response(
        {**view, "status_url": view["links"]["self"]},
        status=status,
        headers={"Location": view["links"]["self"], "Content-Language": language},
    )


@routes.get("/api/v1/submissions/{id}")
async def get_submission(request: web.Request) -> web.Response:
    client = current_client(request)
    journal = request.app[JOURNAL_KEY]
    sub = await journal.get(request.match_info["id"])
    if sub.source_system != client.source_system:
        raise NotFound(f"no submission {sub.id}")  # other clients' records do not exist for you
    language = preferred_language(request.headers.get("Accept-Language"))
    view = submission_view(sub, await journal.events(sub.id), language)
    return web.json_response(view, headers={"Content-Language": language})


def _param_datetime(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except ValueError as exc:  # malformed, no offset, or beyond what can be converted to UTC
        raise _bad_param(name, str(exc)) from None


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
        cursor=q.get("cursor") or None,  # empty: the first page, as when absent
        limit=limit,
    )
    items, cursor = await request.app[JOURNAL_KEY].search(query)
    language = preferred_language(request.headers.get("Accept-Language"))
    return web.json_response(
        {"items": [submission_summary(s, language) for s in items], "next_cursor": cursor},
        headers={"Content-Language": language},
    )


def _check_slots(request: web.Request) -> CheckSlots:
    slots = request.config_dict.get(CHECK_SLOTS_KEY)
    if slots is None:  # an app assembled without create_app
        slots = CheckSlots(request.app[CONFIG_KEY].server.check_concurrency)
        request.app[CHECK_SLOTS_KEY] = slots
    return slots


def _document_cost(sub: CanonicalSubmission) -> int:
    return xml_parse_cost(sub.document)


@routes.post("/api/v1/check")
async def check_submission(request: web.Request) -> web.Response:
    """A dry run for vendors: the full report, nothing journalled. Authenticated like every API
    call (the middleware ran before this handler reads a byte), limited to
    ``server.check_concurrency`` at once, and holding the document's parse cost in the body budget
    while the checker (off the event loop) parses and verifies it."""
    async with _check_slots(request).slot(), _json_body(request) as (data, _):
        sub = await decode_off_loop(parse_submission, data)
        async with body_budget(request).hold(await decode_off_loop(_document_cost, sub)):
            report = await request.app[DRY_CHECKER_KEY].check(sub)
    language = preferred_language(request.headers.get("Accept-Language"))
    return web.json_response(report_in_language(report.to_dict(), language), headers={"Content-Language": language})
