"""The OpenAPI 3.1 description of the REST API, built from the same submission JSON Schema the
handlers validate against, and served with a readable HTML page (no CDN, no JavaScript)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, Final

import jinja2
from aiohttp import web

from gateway import __version__
from gateway.api.operator import OPENAPI_PATHS, OPENAPI_SCHEMAS
from gateway.intake.submission import load_schema
from gateway.model import State
from gateway.validation.contract import CATEGORIES

__all__ = ["openapi_document", "routes"]

routes = web.RouteTableDef()

_ERROR = {"$ref": "#/components/schemas/Error"}
# How a client (or schemathesis' stateful phase) gets from an accepted submission to its status.
_LINKS = {"GetSubmission": {"operationId": "getSubmission", "parameters": {"id": "$response.body#/id"}}}


def _resp(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"description": description}
    if schema is not None:
        out["content"] = {"application/json": {"schema": schema}}
    return out


# Characters XML 1.0 does not allow (and NUL, which PostgreSQL cannot store): the gateway refuses
# them in every string of a submission (INVALID_CHARACTER), so the published schema says so too.
XML_TEXT_PATTERN: Final = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\ufffe\\uffff]*$"


def _xml_text(schema: Any) -> Any:
    """``schema`` with the XML-text pattern on every free-text string (no pattern, format or enum)."""
    if isinstance(schema, dict):
        out = {k: _xml_text(v) for k, v in schema.items()}
        if out.get("type") == "string" and not {"pattern", "format", "enum", "const"} & out.keys():
            out["pattern"] = XML_TEXT_PATTERN
        return out
    if isinstance(schema, list):
        return [_xml_text(item) for item in schema]
    return schema


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "Malformed JSON or query (code MALFORMED_JSON / SCHEMA_INVALID / INVALID_CURSOR)",
        401: "Missing, unknown or revoked client token (UNAUTHORIZED)",
        403: "The client may not submit as this source system or for this organisation (FORBIDDEN)",
        404: "No such submission for this client (NOT_FOUND)",
        409: "The same local_uid was already submitted with different content and that submission is not "
        "REJECTED or FAILED (DUPLICATE_CONFLICT); after those, different content is a new version",
        413: "Body larger than server.max_body_bytes (PAYLOAD_TOO_LARGE)",
        415: "The body is not application/json in UTF-8 (UNSUPPORTED_MEDIA_TYPE)",
        422: "The submission or a query parameter does not match the schema; every problem is listed "
        "(SCHEMA_INVALID), a field holds a character XML cannot carry (INVALID_CHARACTER), or "
        "callback_url is outside the outbound allowlist (CALLBACK_NOT_ALLOWED)",
        503: "The gateway is shedding load: too many large bodies in flight (OVERLOADED); retry after Retry-After",
    }
    return {str(c): _resp(text[c], _ERROR) for c in codes}


@cache
def openapi_document() -> dict[str, Any]:
    submission_schema = _xml_text({k: v for k, v in load_schema().items() if k not in {"$schema", "$id"}})
    summary = {"$ref": "#/components/schemas/SubmissionSummary"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "mse-gateway API",
            "version": __version__,
            "description": (
                "Hand signed MSE documents to the gateway and follow them to a known outcome. "
                "Every call except this description needs `Authorization: Bearer <client token>` "
                "(`mse-gateway clients add`). Outcome notices are POSTed to `callback_url`, signed with "
                "`X-MSE-Signature: sha256=HMAC(key, X-MSE-Timestamp + '.' + body)` (docs/notifications.md)."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/submissions": {
                "post": {
                    "operationId": "createSubmission",
                    "summary": "Submit a signed document",
                    "description": "Answers only after the submission is durable. Validation (signatures, "
                    "roles, FLK) runs afterwards; follow the status URL or wait for the notice.",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Submission"}}},
                    },
                    "responses": {
                        "202": {**_resp("Accepted and journalled (new)", summary), "links": _LINKS},
                        "200": {
                            **_resp("Already journalled with the same content: the existing record", summary),
                            "links": _LINKS,
                        },
                        **_errors(400, 401, 403, 409, 413, 415, 422, 503),
                    },
                },
                "get": {
                    "operationId": "listSubmissions",
                    "summary": "List this client's submissions, newest first",
                    "parameters": [
                        {"name": "local_uid", "in": "query", "schema": {"type": "string"}},
                        {
                            "name": "state",
                            "in": "query",
                            "schema": {"type": "array", "items": {"$ref": "#/components/schemas/State"}},
                            "style": "form",
                            "explode": True,
                        },
                        {"name": "kind", "in": "query", "schema": {"type": "string"}},
                        {"name": "org", "in": "query", "schema": {"type": "string"}},
                        {"name": "since", "in": "query", "schema": {"type": "string", "format": "date-time"}},
                        {
                            "name": "cursor",
                            "in": "query",
                            "description": "next_cursor of the previous page; absent or empty: the first page",
                            "schema": {"type": "string"},
                        },
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                    ],
                    "responses": {
                        "200": _resp(
                            "A page of submissions",
                            {
                                "type": "object",
                                "properties": {
                                    "items": {"type": "array", "items": summary},
                                    "next_cursor": {"type": ["string", "null"]},
                                },
                            },
                        ),
                        **_errors(400, 401, 422),
                    },
                },
            },
            "/api/v1/submissions/{id}": {
                "get": {
                    "operationId": "getSubmission",
                    "summary": "One submission: state, outcome, report and timeline",
                    "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": _resp("The submission", {"$ref": "#/components/schemas/SubmissionDetail"}),
                        **_errors(401, 404),
                    },
                }
            },
            "/api/v1/check": {
                "post": {
                    "operationId": "checkSubmission",
                    "summary": "Dry run: the full verification/FLK report, nothing journalled",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Submission"}}},
                    },
                    "responses": {
                        "200": _resp("The report", {"$ref": "#/components/schemas/Report"}),
                        **_errors(400, 401, 413, 415, 422, 503),
                    },
                }
            },
            "/api/v1/inbox": {
                "get": {
                    "operationId": "listInbox",
                    "summary": "Documents addressed to this client's organisations, not yet acknowledged",
                    "description": "MSE results, return notices and other documents peers sent to the client's "
                    "organisations, verified and linked to the referral they answer, in a fixed order. Pass the "
                    "answer's next_cursor as since to resume; an item stays offered (from any earlier cursor, or "
                    "from no cursor) until it is acknowledged (docs/inbound.md).",
                    "parameters": [
                        {
                            "name": "since",
                            "in": "query",
                            "description": "next_cursor of an earlier answer; absent or empty: from the start",
                            "schema": {"type": "string", "pattern": "^[0-9]{0,18}$"},
                        },
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
                    ],
                    "responses": {
                        "200": _resp("A page of the inbox", {"$ref": "#/components/schemas/InboxPage"}),
                        **_errors(400, 401, 422),
                    },
                }
            },
            "/api/v1/inbox/ack": {
                "post": {
                    "operationId": "acknowledgeInbox",
                    "summary": "Acknowledge inbox items: they are not offered to this client again",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/InboxAckRequest"}}},
                    },
                    "responses": {
                        "200": _resp(
                            "Acknowledged (again, for ids acknowledged before); unknown: not items of this client",
                            {"$ref": "#/components/schemas/InboxAck"},
                        ),
                        **_errors(400, 401, 413, 415, 422, 503),
                    },
                }
            },
            "/api/v1/inbox/{id}/ack": {
                "post": {
                    "operationId": "acknowledgeInboxItem",
                    "summary": "Acknowledge one inbox item",
                    "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": _resp("Acknowledged", {"$ref": "#/components/schemas/InboxAck"}),
                        **_errors(401, 404),
                    },
                }
            },
            **OPENAPI_PATHS,
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "getOpenApi",
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": _resp("OpenAPI 3.1", {"type": "object"})},
                }
            },
            "/api/v1/docs": {
                "get": {
                    "operationId": "getApiDocs",
                    "summary": "This document as a readable page",
                    "security": [],
                    "responses": {"200": {"description": "HTML", "content": {"text/html": {}}}},
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "operatorToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "an operator token (mse-gateway ops tokens add), not a client's",
                },
            },
            "schemas": {
                **OPENAPI_SCHEMAS,
                "Submission": submission_schema,
                "State": {"type": "string", "enum": [str(s) for s in State]},
                "Outcome": {
                    "type": "object",
                    "properties": {
                        "code": {"type": ["string", "null"]},
                        "message": {
                            "type": ["string", "null"],
                            "description": "In the Accept-Language's language (English by default) when the "
                            "gateway wrote it (an FLK rejection, no route, an operator's cancel); a peer's own "
                            "words as the peer wrote them.",
                        },
                        "peer_registration_id": {"type": ["string", "null"], "description": "e.g. REMD emdrId"},
                    },
                },
                "SubmissionSummary": {
                    "type": "object",
                    "required": ["id", "state", "local_uid", "links"],
                    "properties": {
                        "id": {"type": "string"},
                        "source_system": {"type": "string"},
                        "local_uid": {"type": "string"},
                        "kind": {"type": "string"},
                        "organization_oid": {"type": "string"},
                        "region": {"type": ["string", "null"]},
                        "destination": {"type": ["string", "null"]},
                        "state": {"$ref": "#/components/schemas/State"},
                        "final": {"type": "boolean"},
                        "attempts": {"type": "integer"},
                        "version": {
                            "type": "integer",
                            "description": "1, or N+1 for a document resent under the same local_uid after version N "
                            "was REJECTED or FAILED",
                        },
                        "supersedes": {"type": ["string", "null"], "description": "the id of the version before"},
                        "created_at": {"type": "string", "format": "date-time"},
                        "updated_at": {"type": "string", "format": "date-time"},
                        "next_attempt_at": {"type": ["string", "null"], "format": "date-time"},
                        "answer_deadline": {"type": ["string", "null"], "format": "date-time"},
                        "outcome": {"$ref": "#/components/schemas/Outcome"},
                        "status_url": {"type": "string"},
                        "links": {"type": "object", "properties": {"self": {"type": "string"}}},
                    },
                },
                "SubmissionDetail": {
                    "allOf": [
                        {"$ref": "#/components/schemas/SubmissionSummary"},
                        {
                            "type": "object",
                            "properties": {
                                "report": {"oneOf": [{"$ref": "#/components/schemas/Report"}, {"type": "null"}]},
                                "timeline": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}},
                            },
                        },
                    ]
                },
                "Event": {
                    "type": "object",
                    "properties": {
                        "at": {"type": "string", "format": "date-time"},
                        "kind": {"type": "string"},
                        "from": {"type": ["string", "null"]},
                        "to": {"type": ["string", "null"]},
                        "actor": {"type": "string"},
                        "code": {"type": ["string", "null"]},
                        "message": {"type": ["string", "null"]},
                    },
                },
                "Finding": {
                    "type": "object",
                    "properties": {
                        "rule": {"type": "string"},
                        "code": {"type": "string", "description": "REMD code where one exists"},
                        "category": {"type": "string", "enum": list(CATEGORIES)},
                        "message": {
                            "type": "string",
                            "description": "in the language Accept-Language asks for (English by default)",
                        },
                        "message_ru": {"type": "string"},
                        "message_en": {"type": "string"},
                        "field": {"type": ["string", "null"]},
                    },
                },
                "Report": {
                    "type": "object",
                    "required": ["passed", "flk"],
                    "properties": {
                        "passed": {"type": "boolean"},
                        "signatures": {"type": ["object", "null"], "description": "docs/verify-report.md"},
                        "roles": {"type": "array", "items": {"type": "object"}},
                        "flk": {"type": "array", "items": {"$ref": "#/components/schemas/Finding"}},
                    },
                },
                "InboxItem": {
                    "type": "object",
                    "required": ["id", "cursor", "kind", "recipient_oid", "state", "document", "signatures"],
                    "properties": {
                        "id": {"type": "string", "description": "acknowledge with this id"},
                        "cursor": {"type": "string", "description": "its place in the inbox order"},
                        "kind": {"type": "string"},
                        "recipient_oid": {"type": "string", "description": "the organisation it is addressed to"},
                        "local_uid": {"type": ["string", "null"], "description": "the document's own localUid"},
                        "author_oid": {"type": ["string", "null"], "description": "the organisation that wrote it"},
                        "referral": {
                            "type": "object",
                            "properties": {
                                "local_uid": {"type": ["string", "null"]},
                                "submission_id": {"type": ["string", "null"]},
                            },
                        },
                        "peer": {"type": "string"},
                        "peer_document_id": {"type": "string"},
                        "peer_ids": {"type": "object", "additionalProperties": {"type": "string"}},
                        "state": {"type": "string", "enum": ["ACCEPTED", "RELEASED"]},
                        "flag": {
                            "description": "set when an operator released a flagged document",
                            "oneOf": [
                                {"type": "null"},
                                {
                                    "type": "object",
                                    "properties": {"code": {"type": "string"}, "message": {"type": ["string", "null"]}},
                                },
                            ],
                        },
                        "registered_at": {"type": ["string", "null"], "format": "date-time"},
                        "received_at": {"type": "string", "format": "date-time"},
                        "summary": {
                            "description": "what the document says, for kinds that have a summary (the ЦБДИ "
                            "conclusion: decision, group, lost capacity, its texts by language — ru, kk — and "
                            "reasons); null otherwise. The signed document is authoritative.",
                            "oneOf": [
                                {"type": "null"},
                                {
                                    "type": "object",
                                    "properties": {
                                        "act_number": {"type": "string"},
                                        "decision": {"type": "string", "enum": ["disability", "refusal"]},
                                        "disability_group": {"type": ["string", "null"]},
                                        "lost_capacity_percent": {"type": ["integer", "null"]},
                                        "texts": {"type": "object", "additionalProperties": {"type": "string"}},
                                        "reasons": {
                                            "type": "array",
                                            "items": {"type": "object", "additionalProperties": {"type": "string"}},
                                        },
                                        "decided_at": {"type": "string", "format": "date-time"},
                                        "arrived_at": {"type": ["string", "null"], "format": "date-time"},
                                        "expert": {"type": "string"},
                                    },
                                },
                            ],
                        },
                        "document": {"type": "string", "contentEncoding": "base64"},
                        "document_mime": {"type": "string"},
                        "signatures": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "type": {"type": "string", "enum": ["personal", "organization"]},
                                    "signer": {"type": "object"},
                                    "cms": {"type": "string", "contentEncoding": "base64"},
                                },
                            },
                        },
                    },
                },
                "InboxPage": {
                    "type": "object",
                    "required": ["items", "next_cursor", "more"],
                    "properties": {
                        "items": {"type": "array", "items": {"$ref": "#/components/schemas/InboxItem"}},
                        "next_cursor": {"type": "string", "description": "pass as since to resume after this page"},
                        "more": {"type": "boolean"},
                    },
                },
                "InboxAckRequest": {
                    "type": "object",
                    "required": ["ids"],
                    "additionalProperties": False,
                    "properties": {
                        "ids": {
                            "type": "array",
                            "minItems": 1,
                            "maxItems": 500,
                            "items": {"type": "string", "pattern": "^[0-9A-Za-z-]{1,36}$"},
                        }
                    },
                },
                "InboxAck": {
                    "type": "object",
                    "required": ["acknowledged", "unknown"],
                    "properties": {
                        "acknowledged": {"type": "array", "items": {"type": "string"}},
                        "unknown": {"type": "array", "items": {"type": "string"}},
                    },
                },
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {
                                    "type": "string",
                                    "description": "English, or Russian when Accept-Language prefers ru and the "
                                    "code has a Russian text (Content-Language says which)",
                                },
                                "details": {
                                    "type": "object",
                                    "description": "message_en: the English original when message is Russian",
                                },
                            },
                        }
                    },
                },
            },
        },
    }


@routes.get("/api/v1/openapi.json")
async def get_openapi(_: web.Request) -> web.Response:
    return web.json_response(openapi_document())


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    source = resources.files("gateway.api").joinpath("api_docs.html").read_text("utf-8")
    return env.from_string(source)


@routes.get("/api/v1/docs")
async def get_docs(_: web.Request) -> web.Response:
    doc = openapi_document()
    operations = [
        {"method": method.upper(), "path": path, **op}
        for path, item in doc["paths"].items()
        for method, op in item.items()
    ]
    html = _template().render(info=doc["info"], operations=operations, schemas=doc["components"]["schemas"])
    return web.Response(text=html, content_type="text/html")
