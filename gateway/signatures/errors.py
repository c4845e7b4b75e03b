"""Exceptions of the signature layer.

Low-level code raises; only ``report`` turns exceptions into coded report entries. ``InvalidSignature``
is the GOST primitives' class, re-exported so there is one "this signature does not verify" type for
every algorithm (the algorithm layer converts ``cryptography``'s own into it).
"""

from __future__ import annotations

from gateway.signatures.codes import SignatureErrorCode
from gateway.signatures.gost import InvalidSignature

__all__ = [
    "CmsFormatError",
    "InvalidSignature",
    "MissingContentError",
    "SignatureLayerError",
    "UnsupportedAlgorithm",
]


class SignatureLayerError(Exception):
    """Base of the errors below; each knows the report code it becomes."""

    code: SignatureErrorCode = SignatureErrorCode.INTERNAL_ERROR


class UnsupportedAlgorithm(SignatureLayerError):
    """An algorithm (key, digest, signature, curve) we do not implement, named by OID."""

    code = SignatureErrorCode.UNKNOWN_ALGORITHM

    def __init__(self, oid: str, detail: str = "") -> None:
        self.oid = oid
        self.detail = detail
        super().__init__(f"{detail or 'unsupported algorithm'}: {oid}")


class CmsFormatError(SignatureLayerError, ValueError):
    """The input is not a CMS SignedData we can read (``code`` says whether undecodable or foreign)."""

    def __init__(self, message: str, code: SignatureErrorCode = SignatureErrorCode.SIGNATURE_DECODING_ERROR):
        self.code = code
        super().__init__(message)


class MissingContentError(SignatureLayerError, ValueError):
    """A detached signature was given without the content it signs: a caller mistake, not a verdict."""

    code = SignatureErrorCode.WRONG_SIGNATURE_FORMAT
