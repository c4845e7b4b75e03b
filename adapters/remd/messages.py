"""The REMD messages as plain values, independent of XML. One dataclass per message of the
reconstructed WSDL (wsdl/remd/); :mod:`adapters.remd.codec` turns them into XML and back."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime

__all__ = [
    "CodedValue",
    "DocumentFile",
    "GetDocumentFileRequest",
    "GetDocumentFileResponse",
    "Patient",
    "PersonalSignature",
    "RegisterDocumentRequest",
    "RegisterDocumentResult",
    "RegistryItem",
    "RegistryMatch",
    "SearchRegistryItemRequest",
    "SearchRegistryItemResponse",
    "SignatureData",
    "Signer",
    "StatusResponse",
    "checksum",
]

Errors = tuple[tuple[str, str], ...]


def checksum(data: bytes) -> int:
    """REMD's ``checksum`` of a file or signature: CRC-32 of the decoded bytes as an unsigned
    decimal (reconstructed: public clients send an integer computed by a "CalculateCheckSum"
    service; CRC-32 is the project's reading, see docs/remd.md)."""
    return zlib.crc32(data) & 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class CodedValue:
    """A code from an NSI dictionary, optionally with the dictionary version (``version="2.4"``)."""

    code: str
    version: str | None = None


@dataclass(frozen=True, slots=True)
class SignatureData:
    """A detached CMS (CAdES-BES) signature and its checksum."""

    data: bytes
    checksum: int

    @classmethod
    def of(cls, data: bytes) -> SignatureData:
        return cls(data, checksum(data))


@dataclass(frozen=True, slots=True)
class DocumentFile:
    """The document: its bytes (None when REMD is to pull it with getDocumentFile) and checksum."""

    data: bytes | None
    checksum: int

    @classmethod
    def of(cls, data: bytes, *, inline: bool = True) -> DocumentFile:
        return cls(data if inline else None, checksum(data))


@dataclass(frozen=True, slots=True)
class Signer:
    local_id: str | None = None
    snils: str | None = None
    role: CodedValue | None = None
    position: CodedValue | None = None
    speciality: CodedValue | None = None
    department: str | None = None


@dataclass(frozen=True, slots=True)
class PersonalSignature:
    signer: Signer
    signature: SignatureData


@dataclass(frozen=True, slots=True)
class Patient:
    snils: str | None = None
    local_id: str | None = None


@dataclass(frozen=True, slots=True)
class RegisterDocumentRequest:
    local_uid: str
    kind: str
    organization: str
    creation_datetime: datetime
    document: DocumentFile
    department: str | None = None
    document_number: str | None = None
    patient: Patient | None = None
    org_signature: SignatureData | None = None
    personal_signatures: tuple[PersonalSignature, ...] = ()


@dataclass(frozen=True, slots=True)
class StatusResponse:
    """``registerDocumentResponse``: success means *accepted* (the result comes by callback)."""

    success: bool
    errors: Errors = ()


@dataclass(frozen=True, slots=True)
class SearchRegistryItemRequest:
    organization: str
    kind: str
    begin: datetime
    end: datetime
    patient_snils: str | None = None
    # "recipient": documents addressed to ``organization`` (reconstructed, issue 16); None/"author":
    # documents it registered.
    search_by: str | None = None


@dataclass(frozen=True, slots=True)
class RegistryMatch:
    local_uid: str
    emdr_id: str
    registered_at: datetime
    kind: str | None = None
    organization: str | None = None


@dataclass(frozen=True, slots=True)
class SearchRegistryItemResponse:
    success: bool
    matches: tuple[RegistryMatch, ...] = ()
    errors: Errors = ()


@dataclass(frozen=True, slots=True)
class RegistryItem:
    emdr_id: str
    registered_at: datetime
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RegisterDocumentResult:
    """The asynchronous result (callback namespace)."""

    relates_to_message: str
    success: bool
    kind: str
    organization: str
    local_uid: str
    registry_item: RegistryItem | None = None
    errors: Errors = ()


@dataclass(frozen=True, slots=True)
class GetDocumentFileRequest:
    local_uid: str
    organization: str
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class GetDocumentFileResponse:
    success: bool
    document: DocumentFile | None = None
    errors: Errors = ()
    # The registered signatures, when a recipient fetches a document (reconstructed, issue 16).
    org_signature: SignatureData | None = None
    personal_signatures: tuple[PersonalSignature, ...] = ()


@dataclass(frozen=True, slots=True)
class DocumentRegisteredNotification:
    """REMD → a recipient: a document addressed to ``recipient`` was registered (reconstructed)."""

    emdr_id: str
    local_uid: str
    kind: str
    organization: str
    recipient: str
    registered_at: datetime
