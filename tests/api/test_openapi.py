"""The OpenAPI document is valid and describes exactly the routes the app serves."""

from __future__ import annotations

from openapi_spec_validator import validate

from gateway.api.openapi import openapi_document

from .conftest import Gateway


async def test_openapi_validates_and_matches_routes(gateway: Gateway) -> None:
    resp = await gateway.client.get("/api/v1/openapi.json")
    doc = await resp.json()
    assert doc == openapi_document()
    validate(doc)
    app = gateway.client.server.app  # type: ignore[union-attr]
    served = set()
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if path and path.startswith("/api/v1") and route.method != "HEAD":
            served.add((route.method.lower(), path))
    documented = {(m, p) for p, item in doc["paths"].items() for m in item}
    assert served == documented


async def test_docs_page_is_readable_html(gateway: Gateway) -> None:
    resp = await gateway.client.get("/api/v1/docs")
    assert resp.status == 200 and resp.content_type == "text/html"
    html = await resp.text()
    assert "createSubmission" in html
    assert "<script" not in html and "<link" not in html  # offline: nothing fetched from elsewhere
