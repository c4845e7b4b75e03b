"""Fast detached CAdES-BES signing for generated test submissions (samples, simulations).

:func:`gateway.signatures.sign_cms` builds every structure with asn1crypto, which costs ~50 ms per
signature here — most of it re-encoding the same issuer name and certificates. For one signer
everything except three values is constant: the signing time, the content's digest and the
signature. :class:`CmsTemplate` makes one reference signature with ``sign_cms`` (so the layout is
exactly the engine's), keeps its constant DER pieces, and per document encodes only the variable
ones and calls the engine's own digest and ``sign_digest``. The output is byte-identical to
``sign_cms`` for the same signing time except the signature value (GOST signatures are randomised);
a test holds it to that.

For generated data only: production signing is the MIS's business, never the gateway's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final

from asn1crypto import cms

from gateway.signatures import Certificate, PrivateKey, sign_cms
from gateway.signatures.algorithms import default_signature_algorithm, sign_digest

__all__ = ["CmsTemplate"]

_SIGNING_TIME: Final = "1.2.840.113549.1.9.5"
_MESSAGE_DIGEST: Final = "1.2.840.113549.1.9.4"
_OID_SIGNING_TIME: Final = bytes.fromhex("06092a864886f70d010905")
_OID_MESSAGE_DIGEST: Final = bytes.fromhex("06092a864886f70d010904")


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _length(len(content)) + content


def _time(moment: datetime) -> bytes:
    moment = moment.astimezone(UTC)
    if 1950 <= moment.year < 2050:  # RFC 5652: UTCTime for 1950-2049
        return _tlv(0x17, moment.strftime("%y%m%d%H%M%SZ").encode("ascii"))
    return _tlv(0x18, moment.strftime("%Y%m%d%H%M%SZ").encode("ascii"))


class CmsTemplate:
    """Detached CAdES-BES signatures by one key/certificate, at a fraction of ``sign_cms``'s cost."""

    def __init__(self, key: PrivateKey, certificate: Certificate, chain: Sequence[Certificate] = ()) -> None:
        self.key = key
        self.certificate = certificate
        self._scheme = default_signature_algorithm(key.public)
        reference = sign_cms(b"", key, certificate, chain=chain, signing_time=datetime(2020, 1, 1, tzinfo=UTC))
        info = cms.ContentInfo.load(reference)
        signed = info["content"]
        signer = signed["signer_infos"][0]
        self._content_type = info["content_type"].dump()
        self._head = (
            signed["version"].dump()
            + signed["digest_algorithms"].dump()
            + signed["encap_content_info"].dump()
            + signed["certificates"].dump()
        )
        self._signer_head = signer["version"].dump() + signer["sid"].dump() + signer["digest_algorithm"].dump()
        self._signature_algorithm = signer["signature_algorithm"].dump()
        self._constant_attributes = [
            a.dump() for a in signer["signed_attrs"] if a["type"].dotted not in (_SIGNING_TIME, _MESSAGE_DIGEST)
        ]

    def sign(self, content: bytes, signing_time: datetime) -> bytes:
        """DER of a detached SignedData over ``content`` signed at ``signing_time``."""
        digest = self._scheme.digest
        attributes = [
            *self._constant_attributes,
            _tlv(0x30, _OID_SIGNING_TIME + _tlv(0x31, _time(signing_time))),
            _tlv(0x30, _OID_MESSAGE_DIGEST + _tlv(0x31, _tlv(0x04, digest.hash(content)))),
        ]
        attributes.sort()  # DER: a SET OF is ordered by the encodings of its elements
        attribute_set = b"".join(attributes)
        signature = sign_digest(self.key, self._scheme, digest.hash(_tlv(0x31, attribute_set)))
        signer_info = _tlv(
            0x30,
            self._signer_head + _tlv(0xA0, attribute_set) + self._signature_algorithm + _tlv(0x04, signature),
        )
        signed_data = _tlv(0x30, self._head + _tlv(0x31, signer_info))
        return _tlv(0x30, self._content_type + _tlv(0xA0, signed_data))
