"""The operator API: the console's lists and bulk actions for scripts and other tools.

``GET /api/v1/operator/submissions`` takes the same query parameters as the UI's ``/ui/list``
(:class:`gateway.ui.lists.ListFilter`); ``POST /api/v1/operator/actions/{action}`` runs
:mod:`gateway.ui.bulk` on a filter or a list of ids, as a preview (``dry_run``) or for real, with
a required comment, every document audited under ``api:<token name>``. Authentication is an
operator token (``mse-gateway ops tokens add``), never a MIS client's: a ``reader`` token may
list and preview, only an ``operator`` token may act.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from aiohttp import web
from aiohttp.typedefs import Middleware
from multidict import MultiDict

from gateway.api.error_language import preferred_language
from gateway.api.operator_tokens import OperatorToken, OperatorTokenStore
from gateway.appkeys import JOURNAL_KEY, WORKERS_KEY
from gateway.errors import Forbidden, GatewayError, MalformedJson
from gateway.journal.store import Journal
from gateway.model import ErrorCode
from gateway.monitoring.stuck import stuck_policy
from gateway.peers.mount import INSTANCES_KEY
from gateway.ui import actions, bulk
from gateway.ui.causes import explain
from gateway.ui.lists import COUNT_CAP, MAX_PER_PAGE, ListFilter, fetch_page, row_json
from gateway.ui.queries import read

__all__ = ["PREFIX", "operator_auth_middleware", "routes"]

PREFIX: Final = "/api/v1/operator/"
OPERATOR: Final = web.RequestKey("operator_token", OperatorToken)
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
routes = web.RouteTableDef()


class InvalidRequest(GatewayError):
    code = ErrorCode.SCHEMA_INVALID
    http_status = 422


def _unauthorized(message: str) -> web.Response:
    return web.json_response(
        {"error": {"code": "UNAUTHORIZED", "message": message}},
        status=401,
        headers={"WWW-Authenticate": 'Bearer realm="mse-gateway-operator"'},
    )


def operator_auth_middleware(*, prefix: str = PREFIX) -> Middleware:
    """Require a live operator token on every path under ``prefix``."""

    @web.middleware
    async def middleware(request: web.Request, handler: _Handler) -> web.StreamResponse:
        if not request.path.startswith(prefix):
            return await handler(request)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _unauthorized("an operator token is required: Authorization: Bearer <token>")
        found = await OperatorTokenStore(request.app[JOURNAL_KEY].engine).authenticate(token.strip())
        if found is None:
            return _unauthorized("unknown or revoked operator token")
        request[OPERATOR] = found
        return await handler(request)

    return middleware


def _journal(request: web.Request) -> Journal:
    return request.app[JOURNAL_KEY]


@routes.get("/api/v1/operator/submissions")
async def list_submissions(request: web.Request) -> web.Response:
    f = ListFilter.from_query(request.query)
    journal = _journal(request)
    language = preferred_language(request.headers.get("Accept-Language"))
    async with read(journal.engine) as conn:
        page = await fetch_page(conn, f, now=journal.clock.now(), stuck=stuck_policy(request.app))
    return web.json_response(
        {
            "total": page.total,
            "total_capped": page.capped,
            "page": f.page,
            "per_page": f.per_page,
            "pages": page.pages,
            "next": f"{request.path}?{page.next_query()}" if page.has_next else None,
            "items": [row_json(r, language) for r in page.rows],
            "causes": _causes(request, page.causes),
        },
        headers={"Content-Language": language},
    )


def _causes(request: web.Request, rows: list[tuple[str, str | None, int]]) -> list[dict[str, Any]]:
    """The grouped causes, each code explained in the caller's language (Accept-Language)."""
    language = preferred_language(request.headers.get("Accept-Language"))
    instances = request.app.get(INSTANCES_KEY) or {}
    tables = {name: inst.codes for name, inst in instances.items()}
    out = []
    for state, code, n in rows:
        e = explain(code, tables, language)
        out.append({"state": state, "code": code, "count": n, "description": e.description, "action": e.action})
    return out


def _selection(body: dict[str, Any]) -> ListFilter:
    raw = body.get("filter", {})
    ids = body.get("ids")
    if not isinstance(raw, dict) or (ids is not None and not isinstance(ids, list)):
        raise InvalidRequest("filter must be an object and ids a list of submission ids")
    query: MultiDict[str] = MultiDict()
    for key, value in raw.items():
        for item in value if isinstance(value, list) else [value]:
            query.add(str(key), str(item))
    f = ListFilter.from_query(query)
    if ids is not None:
        if not ids or len(ids) > bulk.MAX_BULK or not all(isinstance(i, str) for i in ids):
            raise InvalidRequest(f"ids: 1 to {bulk.MAX_BULK} submission ids")
        return ListFilter(**{**f.__dict__, "ids": tuple(ids)})
    if not raw:
        raise InvalidRequest("give a filter or ids: an action on the whole journal is not taken by accident")
    return f


@routes.post("/api/v1/operator/actions/{action}")
async def act(request: web.Request) -> web.Response:
    token = request[OPERATOR]
    try:
        action = actions.Action(request.match_info["action"])
    except ValueError:
        raise InvalidRequest("action is one of resend, resolve, cancel") from None
    try:
        body = await request.json()
    except ValueError:
        raise MalformedJson("the body is not JSON") from None
    if not isinstance(body, dict):
        raise InvalidRequest("the body is a JSON object")
    dry_run = body.get("dry_run") is True
    if not token.may_act and not dry_run:
        raise Forbidden(f"the token {token.name!r} has the role {token.role}: it may list and preview, not act")
    journal = _journal(request)
    plan = await bulk.preview(
        journal, action, _selection(body), now=journal.clock.now(), stuck=stuck_policy(request.app)
    )
    summary: dict[str, Any] = {
        "action": str(action),
        "matched": plan.matched,
        "applicable": plan.applicable,
        "not_applicable": plan.not_applicable,
        "truncated": plan.truncated,
    }
    if dry_run:
        return web.json_response({**summary, "dry_run": True, "ids": plan.ids[:MAX_PER_PAGE]})
    comment = body.get("comment")
    if not isinstance(comment, str) or not comment.strip():
        raise InvalidRequest("comment: say why (it is kept in every document's timeline and the audit trail)")
    loops = request.app[WORKERS_KEY]

    def wake(result: bulk.BulkResult) -> None:
        for destination in result.queued_destinations:
            loop = loops.get(f"delivery:{destination}")
            if loop is not None:
                loop.wake()

    result = await bulk.run(
        journal, action, plan.ids, username=token.actor, comment=comment.strip()[:2000], after_batch=wake
    )
    return web.json_response(
        {**summary, "dry_run": False, "ok": result.ok, "refused": result.refused, "missing": result.missing}
    )


def _param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "schema": schema, "description": description}


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


_STR: Final = {"type": "string"}
OPENAPI_PATHS: Final[dict[str, Any]] = {
    "/api/v1/operator/submissions": {
        "get": {
            "operationId": "operatorListSubmissions",
            "summary": "Operator: the filtered list behind the console's /ui/list (any journal row)",
            "security": [{"operatorToken": []}],
            "parameters": [
                {
                    **_param("state", {"type": "array", "items": {"$ref": "#/components/schemas/State"}}, "states"),
                    "style": "form",
                    "explode": True,
                },
                _param("code", _STR, "last code (outcome_code), exactly"),
                _param("mis", _STR, "sending system (source_system), exactly"),
                _param("region", _STR, "region code"),
                _param("kind", _STR, "document kind"),
                _param("peer", _STR, "destination peer"),
                _param("q", _STR, "prefix of the localUid or of the organisation OID"),
                _param("age", {"type": "number"}, "received at least this many hours ago"),
                _param("from", {"type": "string", "format": "date"}, "received on or after (UTC day)"),
                _param("to", {"type": "string", "format": "date"}, "received on or before (UTC day)"),
                _param(
                    "view", {"type": "string", "enum": ["needs-operator", "stuck", "flagged", "closed"]}, "selection"
                ),
                _param("category", _STR, "rejection category"),
                _param("order", {"type": "string", "enum": ["new", "old"]}, "newest or oldest first"),
                _param(
                    "page", {"type": "integer", "minimum": 1}, "page number (without a cursor: the first 10,000 rows)"
                ),
                _param("after", _STR, "keyset cursor: the page after this row (from `next`)"),
                _param("before", _STR, "keyset cursor: the page before this row"),
                _param("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}, "rows per page"),
            ],
            "responses": {
                "200": {
                    "description": "A page, the total and the causes (state and last code, grouped)",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OperatorList"}}},
                },
                "401": _error("Missing, unknown or revoked operator token (UNAUTHORIZED)"),
            },
        }
    },
    "/api/v1/operator/actions/{action}": {
        "post": {
            "operationId": "operatorBulkAction",
            "summary": "Operator: resend, resolve or cancel the submissions a filter or a list of ids selects",
            "security": [{"operatorToken": []}],
            "parameters": [
                {"name": "action", "in": "path", "required": True, "schema": {"enum": [str(a) for a in actions.Action]}}
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OperatorActionRequest"}}},
            },
            "responses": {
                "200": {
                    "description": "The preview (dry_run) or the result",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OperatorActionResult"}}},
                },
                "400": _error("The body is not JSON (MALFORMED_JSON)"),
                "401": _error("Missing, unknown or revoked operator token (UNAUTHORIZED)"),
                "403": _error("A reader token may preview (dry_run) but not act (FORBIDDEN)"),
                "422": _error("No filter and no ids, no comment, or an unknown action (SCHEMA_INVALID)"),
            },
        }
    },
}
OPENAPI_SCHEMAS: Final[dict[str, Any]] = {
    "OperatorList": {
        "type": "object",
        "required": ["total", "page", "per_page", "pages", "items", "causes"],
        "properties": {
            "total": {"type": "integer", "description": f"exact up to {COUNT_CAP}; see total_capped"},
            "total_capped": {
                "type": "boolean",
                "description": f"more than {COUNT_CAP} rows match: total is {COUNT_CAP + 1}, causes are empty",
            },
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "pages": {"type": "integer"},
            "next": {"type": ["string", "null"], "description": "the next page's URL (keyset cursor)"},
            "items": {"type": "array", "items": {"type": "object"}},
            "causes": {
                "type": "array",
                "description": "state and last code, grouped; description and action in the Accept-Language "
                "language (ru or en)",
                "items": {
                    "type": "object",
                    "properties": {
                        "state": {"type": "string"},
                        "code": {"type": ["string", "null"]},
                        "count": {"type": "integer"},
                        "description": {"type": ["string", "null"]},
                        "action": {"type": "string"},
                    },
                },
            },
        },
    },
    "OperatorActionRequest": {
        "type": "object",
        "properties": {
            "filter": {
                "type": "object",
                "description": 'the list\'s query parameters, e.g. {"view": "needs-operator"}',
            },
            "ids": {"type": "array", "items": {"type": "string"}, "maxItems": bulk.MAX_BULK},
            "comment": {"type": "string", "description": "required unless dry_run"},
            "dry_run": {"type": "boolean"},
        },
    },
    "OperatorActionResult": {
        "type": "object",
        "required": ["action", "matched", "applicable", "dry_run"],
        "properties": {
            "action": {"type": "string"},
            "matched": {"type": "integer"},
            "applicable": {"type": "integer"},
            "not_applicable": {"type": "object", "additionalProperties": {"type": "integer"}},
            "truncated": {"type": "boolean"},
            "dry_run": {"type": "boolean"},
            "ids": {"type": "array", "items": {"type": "string"}},
            "ok": {"type": "integer"},
            "refused": {"type": "integer"},
            "missing": {"type": "integer"},
        },
    },
}
