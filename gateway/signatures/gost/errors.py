"""Exceptions raised by the GOST primitives.

Low-level code raises; the report builder above decides what a failure means for a document
(the pattern of ``cryptography.exceptions.InvalidSignature``).
"""

from __future__ import annotations

__all__ = ["BackendUnavailable", "GostError", "InvalidSignature", "UnknownCurve"]


class GostError(Exception):
    """Root of the exceptions raised by ``gateway.signatures.gost``."""


class InvalidSignature(GostError):
    """The signature does not verify: wrong value, malformed bytes, or a public key not on the curve.

    Everything that comes from the signed material itself ends here, so a caller needs one
    ``except`` to turn "this signature cannot be accepted" into a verdict.
    """


class UnknownCurve(GostError, KeyError):
    """No known GOST parameter set has this OID or name.

    It is a ``KeyError`` so that code treating :data:`CURVES` as a mapping keeps working, but its
    message is readable (``KeyError`` would print only the repr of the key).
    """

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key

    def __str__(self) -> str:
        return f"unknown GOST R 34.10 parameter set: {self.key!r}"


class BackendUnavailable(GostError, RuntimeError):
    """A backend was asked for (forced by configuration or by a test) but cannot be used here."""
