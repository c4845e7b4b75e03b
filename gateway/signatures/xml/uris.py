"""XMLDSig algorithm URIs -> the project's one algorithm layer (``gateway.signatures.algorithms``).

Signature URIs are mapped to the X.509 signature OID of the same scheme, and
``algorithms.resolve_signature_algorithm`` does the rest (key type check, GOST key size, the Kazakh
byte order for the ``pkigovkz`` URIs). Nothing here computes a hash or checks a signature.

Byte orders (PROTOCOLS.md "Signatures and certificates", checked on the NCA XAdES sample):
DigestValue is the hash as ``hashlib``/OpenSSL output it (Streebog included); a Russian GOST
SignatureValue is ``s || r`` big-endian as in CMS; a Kazakh one (``pkigovkz`` URIs) ``r || s`` with
little-endian halves; an ECDSA one the fixed-width ``r || s`` of RFC 4050/6931 (not DER).
"""

from __future__ import annotations

from typing import Final

from gateway.signatures import algorithms, oids
from gateway.signatures.errors import UnsupportedAlgorithm
from gateway.signatures.keys import PublicKey

__all__ = [
    "C14N",
    "C14N_WITH_COMMENTS",
    "DIGEST_URIS",
    "ENVELOPED",
    "EXC_C14N",
    "EXC_C14N_WITH_COMMENTS",
    "SIGNATURE_URIS",
    "SMEV_TRANSFORM",
    "digest_for_uri",
    "signature_for_uri",
    "uri_for_digest",
    "uri_for_signature",
]

DS_NS: Final = "http://www.w3.org/2000/09/xmldsig#"
XADES_NS: Final = "http://uri.etsi.org/01903/v1.3.2#"

ENVELOPED: Final = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
C14N: Final = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N_WITH_COMMENTS: Final = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
EXC_C14N: Final = "http://www.w3.org/2001/10/xml-exc-c14n#"
EXC_C14N_WITH_COMMENTS: Final = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
SMEV_TRANSFORM: Final = "urn://smev-gov-ru/xmldsig/transform"

_CP: Final = "urn:ietf:params:xml:ns:cpxmlsec:algorithms:"
_KZ: Final = "urn:ietf:params:xml:ns:pkigovkz:xmlsec:algorithms:"

# digest URI -> digest OID (the OID selects the function in algorithms.DIGESTS)
DIGEST_URIS: Final[dict[str, str]] = {
    "http://www.w3.org/2000/09/xmldsig#sha1": "1.3.14.3.2.26",
    "http://www.w3.org/2001/04/xmldsig-more#sha224": "2.16.840.1.101.3.4.2.4",
    "http://www.w3.org/2001/04/xmlenc#sha256": "2.16.840.1.101.3.4.2.1",
    "http://www.w3.org/2001/04/xmldsig-more#sha384": "2.16.840.1.101.3.4.2.2",
    "http://www.w3.org/2001/04/xmlenc#sha512": "2.16.840.1.101.3.4.2.3",
    _CP + "gostr34112012-256": oids.GOST_DIGEST_256,
    _CP + "gostr34112012-512": oids.GOST_DIGEST_512,
    _KZ + "gostr34112015-256": oids.KZ_DIGEST_256,
    _KZ + "gostr34112015-512": oids.KZ_DIGEST_512,
    # the Kazakh legacy hash (GOST 34.311-95), verification only
    "http://www.w3.org/2001/04/xmldsig-more#gost34311": oids.KZ_DIGEST_GOST34311,
}

# signature URI -> X.509 signature OID of the same scheme
SIGNATURE_URIS: Final[dict[str, str]] = {
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": "1.2.840.113549.1.1.11",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": "1.2.840.113549.1.1.12",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": "1.2.840.113549.1.1.13",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": "1.2.840.10045.4.3.2",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": "1.2.840.10045.4.3.3",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512": "1.2.840.10045.4.3.4",
    _CP + "gostr34102012-gostr34112012-256": oids.GOST_SIG_256,
    _CP + "gostr34102012-gostr34112012-512": oids.GOST_SIG_512,
    _KZ + "gostr34102015-gostr34112015-256": oids.KZ_SIG_256,
    _KZ + "gostr34102015-gostr34112015-512": oids.KZ_SIG_512,
    # the Kazakh legacy GOST 34.310-2004 (PROTOCOLS.md), verification only
    "http://www.w3.org/2001/04/xmldsig-more#gost34310-gost34311": oids.KZ_SIG_GOST2004,
}

# what we write when signing: scheme name -> URIs (Kazakh GOST gets the pkigovkz URIs, as NCA does)
_SIGN_URI: Final = {
    "rsa-sha256": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    "rsa-sha512": "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
    "ecdsa-sha256": "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
    "gost2012-256": _CP + "gostr34102012-gostr34112012-256",
    "gost2012-512": _CP + "gostr34102012-gostr34112012-512",
    "gost2015-256": _KZ + "gostr34102015-gostr34112015-256",
    "gost2015-512": _KZ + "gostr34102015-gostr34112015-512",
}
_DIGEST_URI: Final = {oid: uri for uri, oid in DIGEST_URIS.items() if not uri.endswith("#sha1")}


def digest_for_uri(uri: str) -> algorithms.DigestAlgorithm:
    """The digest function a DigestMethod URI names; UnsupportedAlgorithm otherwise."""
    oid = DIGEST_URIS.get(uri)
    if oid is None:
        raise UnsupportedAlgorithm(uri, "unsupported XMLDSig digest method")
    return algorithms.digest_by_oid(oid)


def signature_for_uri(uri: str, key: PublicKey) -> algorithms.SignatureAlgorithm:
    """Resolve a SignatureMethod URI for the signer's key (UnsupportedAlgorithm when it does not fit)."""
    oid = SIGNATURE_URIS.get(uri)
    if oid is None:
        raise UnsupportedAlgorithm(uri, "unsupported XMLDSig signature method")
    return algorithms.resolve_signature_algorithm(oid, None, key)


def uri_for_signature(scheme: algorithms.SignatureAlgorithm) -> str:
    try:
        return _SIGN_URI[scheme.name]
    except KeyError:
        raise UnsupportedAlgorithm(scheme.name, "no XMLDSig URI for this scheme") from None


def uri_for_digest(digest: algorithms.DigestAlgorithm) -> str:
    try:
        return _DIGEST_URI[digest.oid]
    except KeyError:
        raise UnsupportedAlgorithm(digest.oid, "no XMLDSig URI for this digest") from None
