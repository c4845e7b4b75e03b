"""The shared XML parser refuses XXE, entity bombs, DTDs and oversize input before parsing content."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gateway.wire.safexml import XmlSecurityError, XmlSyntaxError, parse_xml

BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">'
    + b"".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">'.encode() for i in range(1, 10))
    + b"]><lolz>&lol9;</lolz>"
)


def test_external_entity_file_is_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    doc = f'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file://{secret}">]><a>&x;</a>'.encode()
    with pytest.raises(XmlSecurityError) as info:
        parse_xml(doc)
    assert "TOP-SECRET" not in str(info.value)


def test_billion_laughs_refused_quickly() -> None:
    start = time.monotonic()
    with pytest.raises(XmlSecurityError):
        parse_xml(BILLION_LAUGHS)
    assert time.monotonic() - start < 5  # generous: it must not expand anything


def test_external_dtd_and_parameter_entities() -> None:
    with pytest.raises(XmlSecurityError):
        parse_xml(b'<!DOCTYPE a SYSTEM "http://127.0.0.1:9/evil.dtd"><a/>')
    with pytest.raises(XmlSecurityError):
        parse_xml(b'<!DOCTYPE a [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x">%p;]><a/>')


def test_undeclared_entity_is_a_security_error() -> None:
    with pytest.raises(XmlSecurityError):
        parse_xml(b"<a>&xxe;</a>")


def test_size_limit_checked_before_parsing() -> None:
    with pytest.raises(XmlSecurityError, match="exceeds"):
        parse_xml(b"<a>" + b"x" * 2000 + b"</a>", max_bytes=1000)


def test_malformed_and_plain() -> None:
    with pytest.raises(XmlSyntaxError):
        parse_xml(b"<a><b></a>")
    root = parse_xml('<a xmlns="urn:x">текст &amp; <b/></a>'.encode())
    assert root.text == "текст & "


def test_str_input_refused() -> None:
    with pytest.raises(TypeError):
        parse_xml("<a/>")  # type: ignore[arg-type]
