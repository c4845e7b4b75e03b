"""Qualified e-signature verification and signing (CMS / CAdES-BES; RSA, ECDSA, GOST R 34.10-2012).

The public API is imported lazily so that importing the GOST primitives (``gateway.signatures.gost``,
a subpackage) does not drag in CMS, X.509 and the PKI code.

Typical use::

    verifier = Verifier(trust="certs/trust", crls=["certs/crl"])
    report = await verifier.verify_cms_async(signature, content)
    if not report.valid: ...
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.signatures.certificates import Certificate, SignerIdentity, load_certificates
    from gateway.signatures.codes import SignatureErrorCode
    from gateway.signatures.errors import (
        CmsFormatError,
        InvalidSignature,
        MissingContentError,
        UnsupportedAlgorithm,
    )
    from gateway.signatures.keys import PrivateKey, PublicKey, generate_key, load_private_key
    from gateway.signatures.report import SignatureReport, VerificationReport
    from gateway.signatures.revocation import CrlStore
    from gateway.signatures.sign import SignerSpec, sign_cms, sign_cms_multi
    from gateway.signatures.trust import TrustStore, load_trust_directory
    from gateway.signatures.verify import Verifier, VerifyPolicy, verify_cms, verify_cms_async

__all__ = [
    "Certificate",
    "CmsFormatError",
    "CrlStore",
    "InvalidSignature",
    "MissingContentError",
    "PrivateKey",
    "PublicKey",
    "SignatureErrorCode",
    "SignatureReport",
    "SignerIdentity",
    "SignerSpec",
    "TrustStore",
    "UnsupportedAlgorithm",
    "VerificationReport",
    "Verifier",
    "VerifyPolicy",
    "generate_key",
    "load_certificates",
    "load_private_key",
    "load_trust_directory",
    "sign_cms",
    "sign_cms_multi",
    "verify_cms",
    "verify_cms_async",
]

_WHERE = {
    "Certificate": "certificates",
    "SignerIdentity": "certificates",
    "load_certificates": "certificates",
    "SignatureErrorCode": "codes",
    "CmsFormatError": "errors",
    "InvalidSignature": "errors",
    "MissingContentError": "errors",
    "UnsupportedAlgorithm": "errors",
    "PrivateKey": "keys",
    "PublicKey": "keys",
    "generate_key": "keys",
    "load_private_key": "keys",
    "SignatureReport": "report",
    "VerificationReport": "report",
    "CrlStore": "revocation",
    "SignerSpec": "sign",
    "sign_cms": "sign",
    "sign_cms_multi": "sign",
    "TrustStore": "trust",
    "load_trust_directory": "trust",
    "Verifier": "verify",
    "VerifyPolicy": "verify",
    "verify_cms": "verify",
    "verify_cms_async": "verify",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
