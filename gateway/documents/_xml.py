"""Small helpers to write and read CDA with lxml: namespaces, typed element builders, and a reader
that turns every missing or malformed field into a coded :class:`DocumentError`.

Private to the package: builders and parsers of each kind use these so that the XML conventions
(namespaces, ``xsi:type``, date formats, code attributes) live in one place.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any, Final, cast

from lxml import etree

from gateway.documents.codes import CodeSystem
from gateway.documents.errors import DocumentError, DocumentErrorCode
from gateway.documents.model import Coded

HL7: Final = "urn:hl7-org:v3"
XSI: Final = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP: Final[dict[str | None, str]] = {
    None: HL7,
    "xsi": XSI,
    "identity": "urn:hl7-ru:identity",
    "address": "urn:hl7-ru:address",
    "fias": "urn:hl7-ru:fias",
    "medService": "urn:hl7-ru:medService",
    "PII": "urn:hl7-ru:PII",
}
# XPath namespaces for reading: the HL7 default namespace gets the prefix ``h``.
XPNS: Final[dict[str, str]] = {"h": HL7, **{k: v for k, v in NSMAP.items() if k is not None}}
XSI_TYPE: Final = f"{{{XSI}}}type"
MSK: Final = timezone(timedelta(hours=3))


def qname(tag: str) -> str:
    """``"identity:Props"`` → Clark notation; an unprefixed tag is in the HL7 v3 namespace."""
    if ":" in tag:
        prefix, local = tag.split(":", 1)
        return f"{{{NSMAP[prefix]}}}{local}"
    return f"{{{HL7}}}{tag}"


def root_element(tag: str = "ClinicalDocument") -> etree._Element:
    return etree.Element(qname(tag), nsmap=cast(Any, NSMAP))


def sub(
    parent: etree._Element,
    tag: str,
    attrib: dict[str, str] | None = None,
    text: str | None = None,
    *,
    xsi_type: str | None = None,
) -> etree._Element:
    """Append ``<tag>`` to ``parent``; attributes with a value of ``None`` are not written."""
    element = etree.SubElement(parent, qname(tag))
    if xsi_type is not None:
        element.set(XSI_TYPE, xsi_type)
    for key, value in (attrib or {}).items():
        element.set(key, value)
    if text is not None:
        element.text = text
    return element


def coded(
    parent: etree._Element,
    tag: str,
    system: CodeSystem,
    value: Coded,
    *,
    xsi_type: str | None = None,
) -> etree._Element:
    """A CD-style element: code, codeSystem, codeSystemName, codeSystemVersion, displayName."""
    return sub(
        parent,
        tag,
        {
            "code": value.code,
            "codeSystem": system.oid,
            "codeSystemVersion": system.version,
            "codeSystemName": system.name,
            "displayName": value.name,
        },
        xsi_type=xsi_type,
    )


def ts_date(value: date) -> str:
    return value.strftime("%Y%m%d")


def ts_datetime(value: datetime) -> str:
    """CDA TS with seconds and offset: ``20240115103000+0300`` (naive values are taken as UTC+3)."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=MSK)
    return aware.strftime("%Y%m%d%H%M%S%z")


_TS_RE: Final = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?([+-]\d{4})?)?$")


def parse_ts(value: str, field: str) -> datetime:
    match = _TS_RE.match(value.strip())
    if not match:
        raise DocumentError(DocumentErrorCode.INVALID_VALUE, f"Некорректное значение даты/времени «{value}»", field)
    year, month, day, hour, minute, second, offset = match.groups()
    try:
        tz = MSK
        if offset:
            sign = 1 if offset[0] == "+" else -1
            tz = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])))
        return datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), tzinfo=tz)
    except ValueError:
        raise DocumentError(DocumentErrorCode.INVALID_VALUE, f"Несуществующая дата «{value}»", field) from None


def parse_date(value: str, field: str) -> date:
    return parse_ts(value, field).date()


@functools.lru_cache(maxsize=4096)
def _compiled(xpath: str, namespaces: tuple[tuple[str, str], ...]) -> etree.XPath:
    """Compile each expression once: element.xpath() compiles on every call, which was the largest
    single cost of validating a document (measured with py-spy under the delivery benchmark)."""
    return etree.XPath(xpath, namespaces=dict(namespaces))


class Reader:
    """XPath access to one element that raises coded errors naming the missing field."""

    def __init__(self, element: etree._Element, path: str = "", namespaces: dict[str, str] | None = None) -> None:
        self.element = element
        self.path = path
        self.namespaces = namespaces if namespaces is not None else XPNS

    def _xp(self, xpath: str) -> list[etree._Element]:
        found = _compiled(xpath, tuple(sorted(self.namespaces.items())))(self.element)
        assert isinstance(found, list)
        return [node for node in found if isinstance(node, etree._Element)]

    def opt(self, xpath: str) -> Reader | None:
        found = self._xp(xpath)
        return Reader(found[0], f"{self.path}/{xpath}", self.namespaces) if found else None

    def req(self, xpath: str, field: str) -> Reader:
        found = self.opt(xpath)
        if found is None:
            raise missing(field, f"{self.path}/{xpath}")
        return found

    def all(self, xpath: str) -> Iterator[Reader]:
        for index, node in enumerate(self._xp(xpath), start=1):
            yield Reader(node, f"{self.path}/{xpath}[{index}]", self.namespaces)

    def attr(self, name: str, field: str) -> str:
        value = self.element.get(name)
        if value is None or not value.strip():
            raise missing(field, f"{self.path}/@{name}")
        return value.strip()

    def opt_attr(self, name: str) -> str | None:
        value = self.element.get(name)
        return value.strip() if value is not None and value.strip() else None

    def text(self, field: str) -> str:
        value = "".join(map(str, self.element.itertext())).strip()
        if not value:
            raise missing(field, self.path)
        return value

    def opt_text(self) -> str | None:
        value = "".join(map(str, self.element.itertext())).strip()
        return value or None

    def text_of(self, xpath: str, field: str) -> str:
        return self.req(xpath, field).text(field)

    def opt_text_of(self, xpath: str) -> str | None:
        found = self.opt(xpath)
        return found.opt_text() if found is not None else None

    def coded(self, field: str) -> Coded:
        return Coded(code=self.attr("code", field), name=self.attr("displayName", field))

    def coded_of(self, xpath: str, field: str) -> Coded:
        return self.req(xpath, field).coded(field)

    def date_attr(self, field: str, name: str = "value") -> date:
        return parse_date(self.attr(name, field), field)

    def datetime_attr(self, field: str, name: str = "value") -> datetime:
        return parse_ts(self.attr(name, field), field)


def missing(field: str, where: str) -> DocumentError:
    return DocumentError(
        DocumentErrorCode.MISSING_FIELD,
        f"В документе отсутствует обязательное поле «{field}» ({where or '/'})",
        field,
    )
