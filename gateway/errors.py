"""One root for every error the gateway raises on purpose.

Each class carries the stable ``code`` clients see and the HTTP status the REST edge answers with.
Peer-specific fault formats (SOAP faults, ШЭП statuses) are produced from these at the edge only.
"""

from __future__ import annotations

from typing import ClassVar

from gateway.model import ErrorCode

__all__ = [
    "ConcurrentUpdate",
    "ConfigError",
    "DuplicateConflict",
    "Forbidden",
    "GatewayError",
    "IllegalTransition",
    "InvalidCharacter",
    "JsonLimitExceeded",
    "MalformedJson",
    "NotFound",
    "Overloaded",
    "PayloadTooLarge",
    "StoreError",
    "UnsupportedMediaType",
]


class GatewayError(Exception):
    """Base of the gateway's own errors."""

    code: ClassVar[ErrorCode | str] = "GATEWAY_ERROR"
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, *, details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def to_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"code": str(self.code), "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class ConfigError(GatewayError):
    code = ErrorCode.CONFIG_INVALID
    http_status = 500


class StoreError(GatewayError):
    code = ErrorCode.STORE_UNAVAILABLE
    http_status = 503


class NotFound(GatewayError):
    code = ErrorCode.NOT_FOUND
    http_status = 404


class DuplicateConflict(GatewayError):
    """Same (source system, local_uid) already journalled with different content."""

    code = ErrorCode.DUPLICATE_CONFLICT
    http_status = 409


class IllegalTransition(GatewayError):
    """The state machine forbids this move; a bug or a stale caller, never silently ignored."""

    code = ErrorCode.ILLEGAL_TRANSITION
    http_status = 409


class ConcurrentUpdate(GatewayError):
    """Someone else moved the submission first (optimistic check on the state failed)."""

    code = ErrorCode.CONCURRENT_UPDATE
    http_status = 409


class MalformedJson(GatewayError):
    code = ErrorCode.MALFORMED_JSON
    http_status = 400


class Forbidden(GatewayError):
    code = ErrorCode.FORBIDDEN
    http_status = 403


class PayloadTooLarge(GatewayError):
    code = ErrorCode.PAYLOAD_TOO_LARGE
    http_status = 413


class InvalidCharacter(GatewayError):
    """A NUL, a lone surrogate or another character that can be neither stored (PostgreSQL text
    refuses NUL) nor written into XML 1.0 — refused where it enters, not found at delivery."""

    code = ErrorCode.INVALID_CHARACTER
    http_status = 400


class JsonLimitExceeded(GatewayError):
    """JSON nested deeper, or with numbers longer, than the gateway accepts."""

    code = ErrorCode.JSON_LIMIT_EXCEEDED
    http_status = 400


class UnsupportedMediaType(GatewayError):
    code = ErrorCode.UNSUPPORTED_MEDIA_TYPE
    http_status = 415


class Overloaded(GatewayError):
    """The in-flight request budget is exhausted: try again shortly (Retry-After)."""

    code = ErrorCode.OVERLOADED
    http_status = 503

    def __init__(self, message: str, *, retry_after: int = 1, details: dict[str, object] | None = None) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after
