"""Test PKI for the sandbox and the tests: root + issuing CA, profile-based certificates, CRLs.

Never real keys. Certificates are built with asn1crypto and signed through the same algorithm layer
the verifier uses, so GOST, RSA and ECDSA PKIs all work the same way.
"""

from gateway.signatures.pki.profiles import PROFILES, Profile, SubjectFields
from gateway.signatures.pki.store import PKI_ALGORITHMS, IssuedCertificate, TestPki, normalise_serial

__all__ = [
    "PKI_ALGORITHMS",
    "PROFILES",
    "IssuedCertificate",
    "Profile",
    "SubjectFields",
    "TestPki",
    "normalise_serial",
]
