"""XML signatures: the SMEV 3 transform, XMLDSig/XAdES verification and signing (docs/xmldsig.md)."""

from gateway.signatures.xml.sign import SignStyle, XmlSignError, sign_xml
from gateway.signatures.xml.smev_transform import (
    ALGORITHM_URN,
    DEFAULT_FLAVOUR,
    Flavour,
    SmevTransformError,
    smev_transform,
)
from gateway.signatures.xml.verify import XmlVerification, XmlVerifier, verify_xml

__all__ = [
    "ALGORITHM_URN",
    "DEFAULT_FLAVOUR",
    "Flavour",
    "SignStyle",
    "SmevTransformError",
    "XmlSignError",
    "XmlVerification",
    "XmlVerifier",
    "sign_xml",
    "smev_transform",
    "verify_xml",
]
