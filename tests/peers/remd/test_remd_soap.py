"""SOAP 1.2 envelopes: headers round trip, faults round trip, hostile and malformed input refused
with codes (never an exception other than EnvelopeError)."""

from __future__ import annotations

import time

import pytest
from lxml import etree

from adapters.remd.soap import (
    SOAP12_NS,
    Addressing,
    EnvelopeError,
    SoapFault,
    build_envelope,
    build_fault,
    parse_envelope,
)

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body><a>&x;</a></soap:Body></soap:Envelope>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">]>
<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body><a>&lol9;</a></soap:Body></soap:Envelope>"""

SOAP11 = b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><a/></s:Body></s:Envelope>'


def test_headers_round_trip() -> None:
    body = etree.Element("{urn:x}ping")
    addressing = Addressing(
        message_id="m-1", action="registerDocument", to="https://remd/emdr", reply_to="https://gw/cb", relates_to="r-9"
    )
    env = parse_envelope(build_envelope(body, addressing=addressing, client_entity_id="entity-1"))
    assert env.addressing == addressing
    assert env.client_entity_id == "entity-1"
    assert env.operation == "ping"
    assert env.fault is None


def test_fault_round_trip() -> None:
    fault = SoapFault("Receiver", "занято", subcode="RATE_LIMIT", errors=(("RATE_LIMIT", "повторите позже"),))
    env = parse_envelope(build_fault(fault, addressing=Addressing(relates_to="m-1")))
    assert env.body is None
    assert env.fault == fault
    assert env.fault.codes() == (("RATE_LIMIT", "повторите позже"),)
    assert env.addressing.relates_to == "m-1"


def test_fault_without_detail_names_its_subcode_or_soap_fault() -> None:
    assert SoapFault("Sender", "bad", subcode="XML_MALFORMED").codes()[0][0] == "XML_MALFORMED"
    assert SoapFault("Receiver", "boom").codes()[0][0] == "SOAP_FAULT"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (XXE, "XML_FORBIDDEN_CONSTRUCT"),
        (BILLION_LAUGHS, "XML_FORBIDDEN_CONSTRUCT"),
        (b"<not-closed>", "XML_MALFORMED"),
        (b"", "XML_MALFORMED"),
        (b"<html><body>502 Bad Gateway</body></html>", "XML_MALFORMED"),
        (f'<soap:Envelope xmlns:soap="{SOAP12_NS}"/>'.encode(), "XML_MALFORMED"),
        (f'<soap:Envelope xmlns:soap="{SOAP12_NS}"><soap:Body/></soap:Envelope>'.encode(), "XML_MALFORMED"),
        (SOAP11, "VERSION_MISMATCH"),
    ],
)
def test_hostile_and_malformed_input_is_a_coded_error(data: bytes, code: str) -> None:
    started = time.monotonic()
    with pytest.raises(EnvelopeError) as info:
        parse_envelope(data)
    assert info.value.code == code
    assert time.monotonic() - started < 1.0  # refused up front, nothing expanded
    assert b"root:" not in info.value.message.encode()  # /etc/passwd never read into the message


def test_oversize_is_refused_before_parsing() -> None:
    body = etree.Element("{urn:x}big")
    body.text = "x" * 5000
    with pytest.raises(EnvelopeError) as info:
        parse_envelope(build_envelope(body), max_bytes=1000)
    assert info.value.code == "XML_FORBIDDEN_CONSTRUCT"


def test_version_mismatch_maps_to_its_fault_code() -> None:
    with pytest.raises(EnvelopeError) as info:
        parse_envelope(SOAP11)
    assert info.value.fault_code == "VersionMismatch"
    assert info.value.http_status == 400  # the sender's mistake: never a 5xx (issue 14)


def test_a_fault_reason_is_tagged_with_the_language_it_is_written_in() -> None:
    """Issue 18: every reason used to be tagged ru, English ones included."""
    from lxml import etree

    from adapters.remd.soap import SoapFault, build_fault

    xml_lang = "{http://www.w3.org/XML/1998/namespace}lang"
    for reason, lang in (("internal error, try again later", "en"), ("РМИС/МИС не зарегистрирована", "ru")):
        root = etree.fromstring(build_fault(SoapFault("Sender", reason)))
        (text,) = root.iter("{http://www.w3.org/2003/05/soap-envelope}Text")
        assert (text.text, text.get(xml_lang)) == (reason, lang)
