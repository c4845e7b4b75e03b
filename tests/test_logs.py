"""A full SNILS, IIN, patient name or document body never appears in a log line."""

from __future__ import annotations

import io
import json
import logging

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import request_id_middleware
from gateway.common.logs import bind_ids, configure_logging, get_logger
from gateway.common.pii import mask_text

SNILS = "112-233-445 95"
SNILS_DIGITS = "11223344595"
IIN = "900101300123"
FAMILY, GIVEN = "Иванов", "Пётр"
BODY = "<ClinicalDocument>" + "секретный текст " * 200 + "</ClinicalDocument>"
FORBIDDEN = [SNILS, SNILS_DIGITS, "112-233-445", IIN, FAMILY, GIVEN, "секретный текст"]


@pytest.fixture
def captured() -> io.StringIO:
    stream = io.StringIO()
    configure_logging("debug", "json", stream=stream)
    return stream


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def _assert_clean(stream: io.StringIO) -> None:
    text = stream.getvalue()
    for value in FORBIDDEN:
        assert value not in text, f"{value!r} leaked into the log"


def test_structlog_fields_messages_and_exceptions_are_masked(captured: io.StringIO) -> None:
    log = get_logger("test")
    log.info("received", snils=SNILS, iin=IIN, family=FAMILY, given=GIVEN, document=BODY.encode())
    log.info(f"patient {SNILS_DIGITS} with IIN {IIN}")  # values inside free text
    log.info("nested", patient={"snils": SNILS, "family": FAMILY}, items=[SNILS, {"iin": IIN}])
    log.info("body as text", note=BODY)
    try:
        raise ValueError(f"bad SNILS {SNILS}")
    except ValueError:
        log.exception("failed")
    _assert_clean(captured)
    lines = _lines(captured)
    assert lines[0]["snils"] == "***-***-*** 95"
    assert lines[0]["iin"] == "********0123"
    assert str(lines[0]["document"]).startswith("<") and "bytes sha256:" in str(lines[0]["document"])
    assert "***-***-*** 95" in str(lines[-1]["exception"])


def test_stdlib_loggers_are_masked_too(captured: io.StringIO) -> None:
    logging.getLogger("aiohttp.access").info('GET /api?snils=%s&iin=%s HTTP/1.1" 200', SNILS_DIGITS, IIN)
    _assert_clean(captured)
    assert json.loads(captured.getvalue())["logger"] == "aiohttp.access"


def test_oids_and_timestamps_survive_masking() -> None:
    text = "kind 1.2.643.5.1.13.13.15.4.6 at 2026-11-25T12:00:00 id 20261125120000 req ec706cda80208118bf447233b10f4"
    assert mask_text(text) == text


async def test_request_id_is_on_every_line_of_a_request(captured: io.StringIO) -> None:
    log = get_logger("handler")

    async def handler(_: web.Request) -> web.Response:
        log.info("one")
        log.info("two", snils=SNILS)
        return web.Response(text="ok")

    app = web.Application(middlewares=[request_id_middleware()])
    app.router.add_get("/", handler)
    async with TestClient(TestServer(app)) as client:
        resp = await client.get("/", headers={"X-Request-ID": "vendor-req-42"})
        assert resp.headers["X-Request-ID"] == "vendor-req-42"
    mine = [line for line in _lines(captured) if line.get("logger") == "handler"]
    assert len(mine) == 2 and all(line["request_id"] == "vendor-req-42" for line in mine)
    _assert_clean(captured)


def test_submission_id_binding(captured: io.StringIO) -> None:
    import structlog

    structlog.contextvars.clear_contextvars()
    bind_ids(submission_id="sub-1")
    get_logger("w").info("working")
    structlog.contextvars.clear_contextvars()
    assert _lines(captured)[0]["submission_id"] == "sub-1"
