"""Coded errors of the documents package.

``DocumentError`` is what a parser raises for a document it cannot turn into a model: the code is
stable for clients, the message is Russian (it is shown to MIS users and MSE staff), and ``field``
names the model field or XML path at fault. ``SemdPackageError`` is an operator problem (a missing
or broken validation package), never the sender's fault.
"""

from __future__ import annotations

import enum

__all__ = ["DocumentError", "DocumentErrorCode", "SemdPackageError"]


class DocumentErrorCode(enum.StrEnum):
    """Why a document could not be parsed. Values are stable: clients and the journal store them."""

    XML_MALFORMED = "DOC_XML_MALFORMED"
    XML_FORBIDDEN = "DOC_XML_FORBIDDEN"
    UNKNOWN_KIND = "DOC_UNKNOWN_KIND"
    KIND_MISMATCH = "DOC_KIND_MISMATCH"
    MISSING_FIELD = "DOC_MISSING_FIELD"
    INVALID_VALUE = "DOC_INVALID_VALUE"


class DocumentError(ValueError):
    """A document that cannot be parsed into a :class:`~gateway.documents.model.ParsedDocument`."""

    def __init__(self, code: DocumentErrorCode, message_ru: str, field: str | None = None) -> None:
        super().__init__(f"{code}: {message_ru}" + (f" [{field}]" if field else ""))
        self.code = code
        self.message_ru = message_ru
        self.field = field

    def to_dict(self) -> dict[str, str | None]:
        return {"code": str(self.code), "message": self.message_ru, "field": self.field}


class SemdPackageError(RuntimeError):
    """A validation package (XSD / schematron) is missing, unreadable or does not compile."""
