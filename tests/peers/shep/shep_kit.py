"""Helpers of the ШЭП tests (imported as a plain module, like smev3_kit)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

from gateway.wire.soap11 import parse_envelope

ROOT = Path(__file__).resolve().parents[3]
ALL_XSD = ROOT / "wsdl" / "shep" / "all.xsd"
WHEN = datetime(2025, 7, 1, 10, 59, 0, tzinfo=UTC)  # 15:59 in Astana

_schema: etree.XMLSchema | None = None


def schema() -> etree.XMLSchema:
    global _schema
    if _schema is None:
        _schema = etree.XMLSchema(etree.parse(str(ALL_XSD)))
    return _schema


def body_payload(envelope: bytes) -> etree._Element:
    env = parse_envelope(envelope)
    if env.fault is not None:
        return env.fault.detail[0]
    assert env.payload is not None
    return env.payload


def assert_valid(envelope: bytes) -> None:
    """The Body's element validates against the ШЭП XSDs (wsdl/shep/all.xsd)."""
    element = body_payload(envelope)
    doc = etree.ElementTree(etree.fromstring(etree.tostring(element)))
    s = schema()
    assert s.validate(doc), "\n".join(str(e) for e in s.error_log)
