"""ЭП-ОВ and ЭП-СМЭВ: making the SMEV 3 signatures and checking the incoming ones.

Layout (SMEV 3 methodological recommendations; see docs/smev3.md): one ``ds:Signature`` with one
Reference ``URI="#<Id>"`` to the signed element, transforms exc-c14n then
``urn://smev-gov-ru/xmldsig/transform``, SignedInfo exc-c14n, GOST R 34.10-2012 256 or 512 by the
key, the certificate in ``KeyInfo/X509Data``. The Signature lives in a *sibling* holder of the
signed element:

============================== ==================================================================
holder                         signs (its parent's first element child, or the sibling data)
============================== ==================================================================
CallerInformationSystemSignature  SenderProvidedRequestData / SenderProvidedResponseData /
                                  MessageTypeSelector / AckTargetMessage / Timestamp
SMEVSignature                     MessageMetadata (Send*Response), Response (GetResponseResponse),
                                  Request or Cancel (GetRequestResponse), AsyncProcessingStatusData
SenderInformationSystemSignature  SenderProvidedRequestData / SenderProvidedResponseData (the
                                  sender's ЭП-ОВ forwarded by SMEV inside Request / Response)
PersonalSignature                 the business element under MessagePrimaryContent (ЭП-СП)
============================== ==================================================================

Signing is the project's :func:`gateway.signatures.xml.sign.sign_xml` (``style="smev"``);
verifying is :class:`gateway.signatures.xml.verify.XmlVerifier` (chain, revocation, time). On top
of it :func:`verify_incoming` checks each signature covers exactly the element its holder says,
and returns verdicts: it never raises for what arrived.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from lxml import etree

from gateway.signatures.certificates import Certificate, load_certificates
from gateway.signatures.codes import SignatureErrorCode
from gateway.signatures.keys import PrivateKey, load_private_key
from gateway.signatures.report import ReportEntry
from gateway.signatures.xml.sign import sign_xml
from gateway.signatures.xml.verify import XmlVerifier
from gateway.signatures.xml.xmldsig import find_signatures

__all__ = [
    "HOLDERS",
    "SignatureVerdict",
    "Signer",
    "Verdicts",
    "sign_element",
    "verify_incoming",
]

HOLDERS: Final = (
    "CallerInformationSystemSignature",
    "SMEVSignature",
    "SenderInformationSystemSignature",
    "PersonalSignature",
)


@dataclass(frozen=True, slots=True)
class Signer:
    """A signing identity: the key, its certificate and (optionally) the CA chain to put in
    KeyInfo."""

    key: PrivateKey
    certificate: Certificate
    chain: tuple[Certificate, ...] = ()

    @classmethod
    def from_files(
        cls,
        key_file: str | os.PathLike[str],
        certificate_file: str | os.PathLike[str],
        *,
        password: bytes | None = None,
    ) -> Signer:
        """Load a PKCS#8 key and a certificate (PEM or DER). Further certificates in the
        certificate file become the chain. Raises ValueError/OSError for unusable files."""
        key = load_private_key(Path(key_file).read_bytes(), password)
        certs = load_certificates(Path(certificate_file).read_bytes())
        return cls(key, certs[0], tuple(certs[1:]))


def sign_element(data: bytes, reference_id: str, signer: Signer, *, holder: str | None = None) -> bytes:
    """``data`` with the element ``Id=reference_id`` signed in the SMEV layout. The Signature goes
    into the signed element's sibling ``CallerInformationSystemSignature`` (which must exist,
    empty) or, with ``holder``, into the one element of that local name (``SMEVSignature``)."""
    if holder is None:
        return sign_xml(
            data, signer.key, signer.certificate, style="smev", reference_id=reference_id, chain=signer.chain
        )
    return sign_xml(
        data,
        signer.key,
        signer.certificate,
        style="smev",
        reference_id=reference_id,
        chain=signer.chain,
        container=f"//*[local-name()='{holder}']",
    )


# --- verification ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignatureVerdict:
    """One signature of an incoming message.

    ``holder``: the element holding it (SMEVSignature, ...); ``target``: the local name of the
    element it must cover; ``covers_target``: it covers exactly that element (no more, no other);
    ``valid``: integrity, chain and the coverage all fine. ``reasons``: the error codes/texts."""

    index: int
    holder: str
    target: str | None
    valid: bool
    covers_target: bool
    integrity: str
    chain: str
    signer: str | None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Verdicts:
    """Every signature of a message, plus what could not be read at all."""

    signatures: tuple[SignatureVerdict, ...]
    errors: tuple[str, ...] = ()

    def of(self, holder: str) -> tuple[SignatureVerdict, ...]:
        return tuple(v for v in self.signatures if v.holder == holder)

    def trusted(self, holder: str) -> bool:
        """At least one signature in ``holder`` and every one of them valid."""
        found = self.of(holder)
        return bool(found) and all(v.valid for v in found)

    @property
    def smev_valid(self) -> bool:
        """The message's ЭП-СМЭВ is there and valid: what makes an incoming message trusted."""
        return self.trusted("SMEVSignature")

    @property
    def all_valid(self) -> bool:
        return not self.errors and bool(self.signatures) and all(v.valid for v in self.signatures)


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _elements(parent: etree._Element) -> list[etree._Element]:
    return [c for c in parent if isinstance(c.tag, str)]


def _expected_target(holder: etree._Element) -> etree._Element | None:
    """The element a signature holder must cover, by its name and place."""
    parent = holder.getparent()
    if parent is None:
        return None
    name = _local(holder)
    siblings = _elements(parent)
    if name in ("CallerInformationSystemSignature", "SMEVSignature"):
        return siblings[0] if siblings and siblings[0] is not holder else None
    if name == "SenderInformationSystemSignature":
        wanted = ("SenderProvidedRequestData", "SenderProvidedResponseData")
        return next((s for s in siblings if _local(s) in wanted), None)
    if name == "PersonalSignature":
        content = next((s for s in siblings if _local(s) == "MessagePrimaryContent"), None)
        inner = _elements(content) if content is not None else []
        return inner[0] if inner else None
    return None


def _entry(entry: ReportEntry) -> str:
    return f"{entry.code.value}: {entry.detail}" if entry.detail else entry.code.value


def verify_incoming(
    data: bytes,
    verifier: XmlVerifier,
    *,
    certificates: Sequence[Certificate] = (),
    check_time: datetime | None = None,
) -> Verdicts:
    """Verify every signature of an SMEV 3 envelope (ЭП-СМЭВ, the sender's ЭП-ОВ, ЭП-СП).

    Never raises for what ``data`` contains: malformed XML, no signatures, a signature over the
    wrong element, an untrusted certificate all become verdicts. A signature outside the known
    holders is reported with ``holder`` = its parent's local name and is never valid."""
    try:
        result = verifier.verify_xml(data, certificates=certificates, check_time=check_time)
    except Exception as exc:  # the verifier's contract says it does not raise; be sure of it
        return Verdicts((), (f"verification failed: {type(exc).__name__}: {exc}",))
    # no signature at all is the absence of verdicts (Verdicts.smev_valid is False), not an error
    errors = tuple(_entry(e) for e in result.report.errors if e.code is not SignatureErrorCode.NO_SIGNATURE)
    root = result.root
    if root is None:
        return Verdicts((), errors or ("the message cannot be read",))
    elements = find_signatures(root)  # the verifier's own order: report.index refers to it
    verdicts: list[SignatureVerdict] = []
    for report in result.report.signatures:
        index = report.index
        element = elements[index] if index < len(elements) else None
        holder = element.getparent() if element is not None else None
        holder_name = _local(holder) if holder is not None else ""
        expected = _expected_target(holder) if holder is not None and holder_name in HOLDERS else None
        covered = result.signed_elements(index) if index < len(result.signed) else []
        covers = expected is not None and len(covered) == 1 and covered[0] is expected
        reasons = [_entry(e) for e in report.errors]
        if holder_name not in HOLDERS:
            reasons.append(f"signature in an unexpected place ({holder_name or 'root'})")
        elif not covers:
            what = _local(expected) if expected is not None else "target"
            reasons.append(f"{holder_name} does not cover exactly its {what}")
        signer = report.signer.common_name if report.signer is not None else None
        verdicts.append(
            SignatureVerdict(
                index=index,
                holder=holder_name,
                target=_local(expected) if expected is not None else None,
                valid=report.valid and covers,
                covers_target=covers,
                integrity=report.integrity,
                chain=report.chain,
                signer=signer,
                reasons=tuple(reasons),
            )
        )
    return Verdicts(tuple(verdicts), errors)
