"""The MIS's inbox: documents addressed to the client's organisations (MSE results, return
notices, …), pulled with a cursor and acknowledged (docs/inbound.md).

``GET /api/v1/inbox?since=<cursor>&limit=<n>`` answers the offered documents addressed to the
client's organisations that it has not acknowledged, after ``since``, in a fixed order; the
answer's ``next_cursor`` resumes after the last one. ``POST /api/v1/inbox/ack`` acknowledges:
an acknowledged document is never offered to that client again, an unacknowledged one is offered
again whenever the client reads from a cursor before it (a new cycle starts from no cursor).
"""

from __future__ import annotations

import re
from typing import Any, Final

from aiohttp import web

from gateway.api.auth import current_client
from gateway.api.submissions import _bad_param, _json_body
from gateway.appkeys import JOURNAL_KEY
from gateway.errors import NotFound
from gateway.intake.submission import SchemaViolation
from gateway.journal.inbound import InboundJournal, offer_view
from gateway.journal.records import InvalidCursor

__all__ = ["routes"]

routes = web.RouteTableDef()
_MAX_ACK: Final = 500
# Cursors are positions in a BIGINT sequence: up to 18 digits always fit.
_CURSOR: Final = re.compile(r"[0-9]{1,18}")
ITEM_ID: Final = re.compile(r"[0-9A-Za-z-]{1,36}")


def _cursor(value: str | None) -> int:
    if value is None or value == "":
        return 0
    if _CURSOR.fullmatch(value) is None:
        raise InvalidCursor("since must be a next_cursor this API returned (a non-negative integer)")
    return int(value)


@routes.get("/api/v1/inbox")
async def list_inbox(request: web.Request) -> web.Response:
    client = current_client(request)
    after = _cursor(request.query.get("since"))
    try:
        limit = int(request.query.get("limit", "50"))
    except ValueError:
        raise _bad_param("limit", "an integer") from None
    if not 1 <= limit <= 500:
        raise _bad_param("limit", "between 1 and 500")
    inbound = InboundJournal(request.app[JOURNAL_KEY])
    # One more than asked says whether there is more without a second query.
    offers = await inbound.offers(client.id, client.organization_oids, after=after, limit=limit + 1)
    page = offers[:limit]
    items = [offer_view(record, content) for record, content in page]
    last = page[-1][0].offer_seq if page else None
    return web.json_response(
        {"items": items, "next_cursor": str(last if last is not None else after), "more": len(offers) > limit}
    )


def _ids(data: dict[str, Any]) -> list[str]:
    extra = sorted(set(data) - {"ids"})
    if extra:
        raise SchemaViolation(
            "unknown field in the acknowledgement",
            details={"errors": [{"field": f"/{extra[0][:40]}", "message": "not allowed"}]},
        )
    ids = data.get("ids")
    if (
        not isinstance(ids, list)
        or not ids
        or len(ids) > _MAX_ACK
        or not all(isinstance(i, str) and ITEM_ID.fullmatch(i) for i in ids)
    ):
        raise SchemaViolation(
            f"ids must be a list of 1 to {_MAX_ACK} inbox item ids",
            details={"errors": [{"field": "/ids", "message": "a non-empty list of ids (strings)"}]},
        )
    return ids


@routes.post("/api/v1/inbox/ack")
async def acknowledge(request: web.Request) -> web.Response:
    client = current_client(request)
    async with _json_body(request) as (data, _):
        ids = _ids(data)
    inbound = InboundJournal(request.app[JOURNAL_KEY])
    acked, unknown = await inbound.acknowledge(client.id, client.organization_oids, ids)
    return web.json_response({"acknowledged": acked, "unknown": unknown})


@routes.post("/api/v1/inbox/{id}/ack")
async def acknowledge_one(request: web.Request) -> web.Response:
    client = current_client(request)
    item = request.match_info["id"]
    inbound = InboundJournal(request.app[JOURNAL_KEY])
    acked, _ = await inbound.acknowledge(client.id, client.organization_oids, [item[:36]])
    if not acked:
        raise NotFound(f"no inbox item {item[:36]}")  # other organisations' documents do not exist for you
    return web.json_response({"acknowledged": acked, "unknown": []})
