"""The kind table (gateway.documents.kinds) is the one list of kinds: everything else agrees with it."""

from __future__ import annotations

import base64
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from gateway.delivery.routing import DEFAULT_ROUTES, load_routes
from gateway.documents import kinds as kinds_module
from gateway.documents import parse
from gateway.documents.kinds import KIND_TABLE, accepted_codes, inbound_codes
from gateway.documents.model import DocumentKind
from gateway.flk.roles import BUILTIN_POLICY, load_role_policy
from gateway.intake.submission import SchemaViolation, load_schema, parse_submission
from gateway.model import ErrorCode

ROOT = Path(__file__).resolve().parents[2]
CODES = {str(code) for code in KIND_TABLE}


def _submission(kind: str) -> dict[str, Any]:
    return {
        "source_system": "mis-1",
        "local_uid": "uid-1",
        "kind": kind,
        "organization_oid": "1.2.643.5.1.13.13.12.2.77.1",
        "creation_datetime": "2026-03-17T12:00:00+03:00",
        "document": base64.b64encode(b"<x/>").decode(),
        "document_mime": "text/xml",
        "signatures": [],
    }


def test_the_table_covers_every_document_kind_the_model_names() -> None:
    assert set(KIND_TABLE) == set(DocumentKind)
    assert all(code is kind.code for code, kind in KIND_TABLE.items())


def test_the_published_schema_lists_exactly_the_table() -> None:
    published = json.loads((ROOT / "gateway" / "schemas" / "submission.schema.json").read_text("utf-8"))
    assert published["properties"]["kind"]["enum"] == list(accepted_codes())
    assert load_schema()["properties"]["kind"]["enum"] == list(accepted_codes())


@pytest.mark.parametrize("kind", sorted(accepted_codes()))
def test_every_submitted_table_kind_passes_the_schema(kind: str) -> None:
    assert parse_submission(_submission(kind)).kind == kind


def test_a_kind_only_received_is_in_the_inbound_codes_and_refused_at_intake() -> None:
    received = {str(k.code) for k in KIND_TABLE.values() if not k.submitted}
    assert received == {"kz-cbdi-conclusion"}
    assert received <= set(inbound_codes()) and not received & set(accepted_codes())
    assert set(inbound_codes()) == CODES
    with pytest.raises(SchemaViolation) as caught:
        parse_submission(_submission("kz-cbdi-conclusion"))
    assert [e["field"] for e in caught.value.details["errors"]] == ["/kind"]


@pytest.mark.parametrize("kind", ["257", "186", "131", "121 ", ""])
def test_a_code_outside_the_table_is_refused_at_intake_with_a_coded_error(kind: str) -> None:
    with pytest.raises(SchemaViolation) as caught:
        parse_submission(_submission(kind))
    assert caught.value.code is ErrorCode.SCHEMA_INVALID
    assert [e["field"] for e in caught.value.details["errors"]] == ["/kind"]


def test_routing_defaults_are_the_table_default_destinations() -> None:
    routed = {(kind, route.destination) for route in DEFAULT_ROUTES for kind in route.kinds}
    expected = {(str(k.code), k.default_destination) for k in KIND_TABLE.values() if k.default_destination}
    assert routed == expected
    shipped = load_routes(ROOT / "config" / "routes.toml")
    assert {(kind, r.destination) for r in shipped.routes for kind in r.kinds} == expected
    # The sandbox's routes add a regional relay for some referrals, but every routed kind still
    # reaches its default destination by the catch-all route; and the sandbox, which runs a ШЭП
    # twin, routes the Kazakh 031/у to it (production routes it nowhere until a ШЭП peer exists).
    sandbox = load_routes(ROOT / "config" / "routes.sandbox.toml")
    catch_all = {(kind, r.destination) for r in sandbox.routes if "*" in r.regions for kind in r.kinds}
    assert catch_all == expected | {("kz-031u", "shep")}


def test_role_policy_has_one_entry_per_kind_with_the_table_signer() -> None:
    with (ROOT / "config" / "roles.toml").open("rb") as fh:
        assert set(tomllib.load(fh)["kinds"]) == CODES
    for policy in (BUILTIN_POLICY, load_role_policy(ROOT / "config" / "roles.toml")):
        assert set(policy.kinds) == CODES
        for code, kind in KIND_TABLE.items():
            assert policy.kinds[str(code)].role == kind.signer_role, code


def test_every_kind_names_a_parser_that_exists() -> None:
    import importlib

    for kind in KIND_TABLE.values():
        module, function = kind.parser.split(".")
        assert callable(getattr(importlib.import_module(f"gateway.documents.{module}"), function)), kind.parser
    assert "KIND_TABLE" in parse.__dict__ and kinds_module.KIND_TABLE is parse.KIND_TABLE
