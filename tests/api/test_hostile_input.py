"""Issue 14, findings 4 and 5: no input gets a 500, and what cannot be stored or put into XML is
refused where it enters, with a code. Every case here answered 500 (or, for the XML-illegal
characters, 202 and then 360 hours of "NETWORK_ERROR" retries) before the fix.

NUL reached PostgreSQL as a driver error, so those cases run on SQLite *and* PostgreSQL.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import error_middleware, request_id_middleware
from gateway.common.logs import configure_logging, get_logger
from gateway.journal.store import SearchQuery

from .conftest import Gateway, start_gateway, submission

SUBMIT = "/api/v1/submissions"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def storage(request: pytest.FixtureRequest) -> dict[str, Any]:
    if request.param == "postgres":
        return {"database_url": request.getfixturevalue("pg_url")}
    return {}


@pytest.fixture
async def gw(storage: dict[str, Any], tmp_path: Path) -> AsyncIterator[Gateway]:
    async with start_gateway(tmp_path, storage=storage) as g:
        yield g


async def _error(resp: Any) -> dict[str, Any]:
    assert resp.status < 500, f"{resp.status}: {await resp.text()}"
    body: dict[str, Any] = await resp.json()
    return body["error"]  # type: ignore[no-any-return]


async def _post_raw(gw: Gateway, body: bytes, path: str = SUBMIT, **headers: str) -> Any:
    return await gw.client.post(path, data=body, headers={**gw.auth, "Content-Type": "application/json", **headers})


# -- JSON the decoder used to choke on -------------------------------------------------------------


async def test_deep_nesting_and_huge_integers_are_coded_400(gw: Gateway) -> None:
    cases = {
        "nested-100000": b"[" * 100_000 + b"]" * 100_000,
        "nested-object": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        "nested-in-field": json.dumps(submission()).encode()[:-1] + b',"x":' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        "5000-digit-integer": b'{"local_uid": ' + b"9" * 5000 + b"}",
        "infinite-float": b'{"a": 1e999}',
    }
    for name, body in cases.items():
        for path in (SUBMIT, "/api/v1/check"):
            err = await _error(await _post_raw(gw, body, path))
            assert err["code"] == "JSON_LIMIT_EXCEEDED", (name, err)


async def test_nan_and_malformed_json_are_400(gw: Gateway) -> None:
    for body in (b'{"a": NaN}', b'{"a": Infinity}', b"\xff\xfe{", b"{", b""):
        err = await _error(await _post_raw(gw, body))
        assert err["code"] == "MALFORMED_JSON", (body, err)


async def test_lone_surrogates_and_nul_refused_at_the_edge(gw: Gateway) -> None:
    for field, raw in {
        "local_uid": r'"\ud800"',
        "callback_url": r'"http://example.org/\u0000"',
        "source_system": r'"mis-alpha\udfff"',
    }.items():
        text = json.dumps(submission(), ensure_ascii=True)
        body = text.replace(f'"{field}": ', f'"{field}": {raw}, "_ignored": ', 1).encode()
        body = json.dumps({**json.loads(text), field: "PLACEHOLDER"}).replace('"PLACEHOLDER"', raw).encode()
        err = await _error(await _post_raw(gw, body))
        assert err["code"] == "INVALID_CHARACTER", (field, err)
        assert err["details"]["errors"][0]["field"] == f"/{field}"
    # In a key too; the pointer is printable.
    err = await _error(await _post_raw(gw, b'{"a\\u0000b": 1}'))
    assert err["code"] == "INVALID_CHARACTER" and err["details"]["errors"][0]["field"] == "/a\\u0000b"


async def test_xml_illegal_characters_refused_in_every_field(gw: Gateway) -> None:
    """A NUL or another character XML 1.0 forbids is refused at intake, naming every field — it
    used to be accepted (202) and then fail delivery as a transient NETWORK_ERROR for 360 hours."""
    signatures = submission()["signatures"]
    signatures[0]["signer"]["local_id"] = "doc\x0btor"
    bad = submission(department="dep\x01t", document_number="N\x1f1", signatures=signatures)
    resp = await gw.client.post(SUBMIT, json=bad, headers=gw.auth)
    err = await _error(resp)
    assert resp.status in (400, 422) and err["code"] == "INVALID_CHARACTER", err
    fields = {e["field"] for e in err["details"]["errors"]}
    assert {"/department", "/document_number", "/signatures/0/signer/local_id"} <= fields
    # NUL is refused even earlier, where the JSON is decoded; U+FFFE is no XML character either.
    for department in ("dep\x00t", "x\ufffe"):
        resp = await gw.client.post(SUBMIT, json=submission(department=department), headers=gw.auth)
        err = await _error(resp)
        assert err["code"] == "INVALID_CHARACTER" and err["details"]["errors"][0]["field"] == "/department"
    items, _ = await gw.journal.search(SearchQuery())
    assert items == []  # nothing was journalled
    ok = await gw.client.post(SUBMIT, json=submission(department="отделение\t№ 1\r\n"), headers=gw.auth)
    assert ok.status == 202


# -- dates -----------------------------------------------------------------------------------------


async def test_creation_datetime_lower_case_and_overflow(gw: Gateway) -> None:
    resp = await gw.client.post(SUBMIT, json=submission(creation_datetime="2026-11-20t10:00:00z"), headers=gw.auth)
    assert resp.status == 202, await resp.text()
    for value in ("9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "2026-11-20T10:00:00"):
        err = await _error(await gw.client.post(SUBMIT, json=submission(creation_datetime=value), headers=gw.auth))
        assert err["code"] == "SCHEMA_INVALID" and err["details"]["errors"][0]["field"] == "/creation_datetime"


async def test_since_and_cursor_cannot_overflow(gw: Gateway) -> None:
    for since in ("99999-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "x"):
        resp = await gw.client.get(SUBMIT, params={"since": since}, headers=gw.auth)
        err = await _error(resp)
        assert resp.status == 422 and err["details"]["errors"][0]["field"] == "since", err
    ok = await gw.client.get(SUBMIT, params={"since": "2026-01-01t00:00:00z"}, headers=gw.auth)
    assert ok.status == 200
    for raw in ("9999-12-31T23:59:59-23:59|x", "99999-01-01T00:00:00|x", "2026-01-01T00:00:00+00:00|a\x00b"):
        cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
        err = await _error(await gw.client.get(SUBMIT, params={"cursor": cursor}, headers=gw.auth))
        assert err["code"] in {"INVALID_CURSOR", "INVALID_CHARACTER"}, err


# -- NUL in the URL --------------------------------------------------------------------------------


async def test_nul_in_path_and_query_is_400(gw: Gateway) -> None:
    for url in (
        f"{SUBMIT}/%00",
        f"{SUBMIT}/abc%00def",
        f"{SUBMIT}?local_uid=%00",
        f"{SUBMIT}?kind=1%0021",
        f"{SUBMIT}?org=1.2%00",
        f"{SUBMIT}?cursor=%00",
        f"{SUBMIT}?x%00=1",
    ):
        resp = await gw.client.get(url, headers=gw.auth)
        err = await _error(resp)
        assert resp.status == 400 and err["code"] == "INVALID_CHARACTER", (url, err)


# -- media types -----------------------------------------------------------------------------------


async def test_json_endpoints_require_json(gw: Gateway) -> None:
    body = json.dumps(submission()).encode()
    for path in (SUBMIT, "/api/v1/check"):
        for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml", None):
            headers = {**gw.auth} | ({"Content-Type": content_type} if content_type else {})
            resp = await gw.client.post(path, data=body, headers=headers)
            err = await _error(resp)
            assert resp.status == 415 and err["code"] == "UNSUPPORTED_MEDIA_TYPE", (path, content_type)
        resp = await _post_raw(gw, body, path, **{"Content-Type": "application/json; charset=latin-1"})
        assert resp.status == 415
    ok = await _post_raw(gw, body, SUBMIT, **{"Content-Type": "application/json; charset=utf-8"})
    assert ok.status == 202


# -- the 500 that remains possible: logged with its traceback, answered with a request id ----------


async def test_unexpected_error_logged_with_traceback_and_request_id(tmp_path: Path) -> None:
    """The masking processor used to replace the whole formatted traceback by a size and a hash
    (any string over 2,000 characters counted as a body), so operators saw "<5123 bytes ...>"."""
    stream = io.StringIO()
    configure_logging("info", "json", stream=stream)
    log = get_logger("test")

    async def broken(_: web.Request) -> web.Response:
        def deep(n: int) -> None:
            if n:
                deep(n - 1)
            raise RuntimeError("lookup failed for patient 112-233-445 95")

        log.info("handling")
        deep(40)  # a traceback long enough to have been hidden whole
        raise AssertionError("unreachable")

    app = web.Application(middlewares=[request_id_middleware(), error_middleware()])
    app.router.add_get("/broken", broken)
    async with TestClient(TestServer(app)) as client:
        resp = await client.get("/broken", headers={"X-Request-ID": "req-42"})
        assert resp.status == 500
        body = await resp.json()
    assert body["error"]["code"] == "INTERNAL_ERROR" and body["error"]["request_id"] == "req-42"
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    record = next(line for line in lines if line.get("event") == "unhandled error")
    assert record["request_id"] == "req-42" and record["path"] == "/broken"
    trace = record["exception"]
    assert "Traceback (most recent call last)" in trace and "in deep" in trace
    assert "RuntimeError: lookup failed for patient ***-***-*** 95" in trace
    assert "112-233-445" not in stream.getvalue()
