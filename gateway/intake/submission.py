"""The canonical submission format (JSON) — what the REST API accepts and what the journal keeps.

Parsing is in two steps, both coded: the JSON Schema (gateway/schemas/submission.schema.json, the
published contract) and the semantic decode (base64, dates). The content hash that decides
idempotency covers everything the sender controls except ``callback_url``, so re-sending the same
document with a new callback is a repeat, not a conflict.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from gateway.documents.kinds import accepted_codes
from gateway.errors import GatewayError
from gateway.model import ErrorCode

__all__ = [
    "CanonicalSubmission",
    "SchemaViolation",
    "SignatureEntry",
    "content_hash",
    "load_schema",
    "parse_submission",
]


class SchemaViolation(GatewayError):
    code = ErrorCode.SCHEMA_INVALID
    http_status = 422


@dataclass(frozen=True, slots=True)
class SignatureEntry:
    type: str  # "personal" | "organization"
    signer: dict[str, str]
    cms: bytes | None
    xmldsig: bool


@dataclass(frozen=True, slots=True)
class CanonicalSubmission:
    source_system: str
    local_uid: str
    kind: str
    organization_oid: str
    creation_datetime: datetime
    document: bytes
    document_mime: str
    signatures: tuple[SignatureEntry, ...]
    patient: dict[str, str] = field(default_factory=dict)
    department: str | None = None
    document_number: str | None = None
    callback_url: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def patient_id(self) -> str | None:
        return self.patient.get("snils") or self.patient.get("iin")


@cache
def load_schema() -> dict[str, Any]:
    """The published schema, its ``kind`` enum taken from the kind table (gateway.documents.kinds);
    a test keeps the file's own list equal to the table."""
    text = resources.files("gateway.schemas").joinpath("submission.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    schema["properties"]["kind"]["enum"] = list(accepted_codes())
    return schema


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = load_schema()
    cls = jsonschema.validators.validator_for(schema)
    validator: jsonschema.protocols.Validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    return validator


def _b64(value: str, where: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SchemaViolation(
            "invalid base64", details={"errors": [{"field": where, "message": "not valid base64"}]}
        ) from None


def parse_submission(data: Any) -> CanonicalSubmission:
    """Validate a decoded JSON value against the schema and decode it. Raises SchemaViolation
    listing every problem with its JSON path (so a vendor fixes them all in one go)."""
    errors = sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        raise SchemaViolation(
            f"submission does not match the schema ({len(errors)} problem(s))",
            details={
                "errors": [
                    {"field": "/" + "/".join(str(p) for p in e.absolute_path), "message": e.message[:300]}
                    for e in errors[:50]
                ]
            },
        )
    created = datetime.fromisoformat(data["creation_datetime"])
    if created.tzinfo is None:
        raise SchemaViolation(
            "creation_datetime needs a time zone",
            details={"errors": [{"field": "/creation_datetime", "message": "no UTC offset"}]},
        )
    signatures = tuple(
        SignatureEntry(
            type=s["type"],
            signer=dict(s.get("signer", {})),
            cms=_b64(s["cms"], f"/signatures/{i}/cms") if "cms" in s else None,
            xmldsig=bool(s.get("xmldsig", False)),
        )
        for i, s in enumerate(data["signatures"])
    )
    return CanonicalSubmission(
        source_system=data["source_system"],
        local_uid=data["local_uid"],
        kind=data["kind"],
        organization_oid=data["organization_oid"],
        creation_datetime=created,
        document=_b64(data["document"], "/document"),
        document_mime=data["document_mime"],
        signatures=signatures,
        patient=dict(data.get("patient", {})),
        department=data.get("department"),
        document_number=data.get("document_number"),
        callback_url=data.get("callback_url"),
        raw=data,
    )


def content_hash(data: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON (sorted keys, no whitespace) without ``callback_url``."""
    material = {k: v for k, v in data.items() if k != "callback_url"}
    encoded = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()
