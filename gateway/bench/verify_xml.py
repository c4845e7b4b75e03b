"""How fast does the gateway verify an SMEV-style XML signature? ``bench_verify_xml`` measures it.

Workload: a ~50 KB SMEV 3 ``SendRequestRequest`` whose ``SenderProvidedRequestData`` is signed
SMEV-style (GOST R 34.10-2012-256, exc-c14n + SMEV transform, signature in
``CallerInformationSystemSignature``), signer certificate issued by an intermediate CA, trust
anchor and both CRLs configured. Figures, each full verifications per second on one thread for
about ``seconds``:

* ``project_gost_ops_per_s`` — ``XmlVerifier.verify_xml`` (parse, Id index, SMEV transform,
  Streebog, GOST verification, XAdES/none, chain with revocation, report);
* ``signxml_rsa_ops_per_s`` — the reference: ``XMLVerifier().verify`` of the same document
  signed by signxml with RSA-SHA256 (exc-c14n, the same element by Id; signxml has no SMEV
  transform), certificate given directly (no chain, no CRL: signxml does neither);
* ``project_rsa_ops_per_s`` — the project's verifier on that signxml signature (with chain/CRLs);
* ``loadavg_before`` / ``loadavg_after`` — the 1/5/15-minute load average around the run: other
  work on the machine changes every figure.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from lxml import etree
from signxml.algorithms import (
    CanonicalizationMethod,
    DigestAlgorithm,
    SignatureConstructionMethod,
    SignatureMethod,
)
from signxml.signer import XMLSigner
from signxml.verifier import XMLVerifier

from gateway.signatures import gost
from gateway.signatures.certificates import load_certificates
from gateway.signatures.pki import TestPki
from gateway.signatures.timing import ROUNDS, interleaved
from gateway.signatures.xml.sign import sign_xml
from gateway.signatures.xml.verify import XmlVerifier
from gateway.wire.safexml import parse_xml

__all__ = ["DOCUMENT_SIZE", "bench_verify_xml", "smev_envelope"]

DOCUMENT_SIZE = 50 * 1024
_SMEV = "urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.1"
_BASIC = "urn://x-artefacts-smev-gov-ru/services/message-exchange/types/basic/1.1"


def smev_envelope(size: int = DOCUMENT_SIZE) -> bytes:
    """An unsigned SMEV 3 SendRequestRequest of about ``size`` bytes (synthetic referral rows)."""
    rows: list[str] = []
    total, i = 0, 0
    while total < size - 900:
        rows.append(
            f'<m:Row n="{i}"><m:Code>I10.{i % 10}</m:Code><m:Text>Исследование {i}: '
            f"результат в пределах нормы</m:Text></m:Row>"
        )
        total += len(rows[-1].encode("utf-8"))
        i += 1
    body = "".join(rows)
    text = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body>'
        f'<ns:SendRequestRequest xmlns:ns="{_SMEV}">'
        '<ns:SenderProvidedRequestData Id="SIGNED_BY_CONSUMER">'
        "<ns:MessageID>db0486d0-3c08-11e5-95e2-d4c9eff07b77</ns:MessageID>"
        f'<b:MessagePrimaryContent xmlns:b="{_BASIC}"><m:Referral xmlns:m="urn:test:mse">{body}</m:Referral>'
        "</b:MessagePrimaryContent></ns:SenderProvidedRequestData>"
        "<ns:CallerInformationSystemSignature/></ns:SendRequestRequest></S:Body></S:Envelope>"
    )
    return text.encode("utf-8")


def bench_verify_xml(seconds: float = 2.0) -> dict[str, Any]:
    """Measure on this machine; returns the figures above plus the document size and backend."""
    from cryptography import x509 as crypto_x509
    from cryptography.hazmat.primitives import serialization

    load_before = os.getloadavg()
    document = smev_envelope()
    results: dict[str, Any] = {
        "document_bytes": len(document),
        "backend": gost.backend_info().name,
        "seconds_per_figure": seconds,
        "loadavg_before": [round(x, 2) for x in load_before],
    }
    with tempfile.TemporaryDirectory() as tmp:
        gost_pki = TestPki.init(Path(tmp) / "gost", "gost2012-256")
        signer = gost_pki.issue("vk-chair")
        chain = load_certificates(gost_pki.chain_path.read_bytes())
        signed = sign_xml(
            document, signer.key, signer.certificate, style="smev", reference_id="SIGNED_BY_CONSUMER", chain=chain
        )
        verifier = XmlVerifier(trust=gost_pki.trust_dir, crls=[gost_pki.crl_path.parent])
        check = verifier.verify_xml(signed)
        if not check.valid:
            raise RuntimeError(f"benchmark signature does not verify: {check.report.codes}")
        results["signed_bytes"] = len(signed)

        rsa_pki = TestPki.init(Path(tmp) / "rsa", "rsa")
        rsa_signer = rsa_pki.issue("vk-chair")
        key_pem = rsa_signer.key.to_pem()
        crypto_cert = crypto_x509.load_der_x509_certificate(rsa_signer.certificate.der)
        cert_pem = crypto_cert.public_bytes(serialization.Encoding.PEM)
        root = parse_xml(document)
        target = root.find(f".//{{{_SMEV}}}SenderProvidedRequestData")
        holder = root.find(f".//{{{_SMEV}}}CallerInformationSystemSignature")
        assert target is not None and holder is not None
        signature = XMLSigner(
            method=SignatureConstructionMethod.detached,
            signature_algorithm=SignatureMethod.RSA_SHA256,
            digest_algorithm=DigestAlgorithm.SHA256,
            c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
        ).sign(target, key=key_pem, cert=cert_pem.decode("ascii"), reference_uri="#SIGNED_BY_CONSUMER")
        holder.append(signature)
        rsa_signed = etree.tostring(root)
        xml_verifier = XMLVerifier()
        xml_verifier.verify(rsa_signed, x509_cert=crypto_cert)
        rsa_chain = load_certificates(rsa_pki.chain_path.read_bytes())
        rsa_verifier = XmlVerifier(trust=rsa_pki.trust_dir, crls=[rsa_pki.crl_path.parent])
        rsa_check = rsa_verifier.verify_xml(rsa_signed, certificates=rsa_chain)
        if not rsa_check.valid:
            raise RuntimeError(f"signxml's signature does not verify here: {rsa_check.report.codes}")
        # Rounds alternate between the three, so the ratio compares them on the same machine.
        rates = interleaved(
            seconds,
            {
                "project_gost_ops_per_s": lambda: verifier.verify_xml(signed),
                "signxml_rsa_ops_per_s": lambda: xml_verifier.verify(rsa_signed, x509_cert=crypto_cert),
                "project_rsa_ops_per_s": lambda: rsa_verifier.verify_xml(rsa_signed, certificates=rsa_chain),
            },
        )
        results.update(rates)
        results["gost_to_signxml_ratio"] = round(rates["project_gost_ops_per_s"] / rates["signxml_rsa_ops_per_s"], 3)
        results["rounds"] = ROUNDS
    results["loadavg_after"] = [round(x, 2) for x in os.getloadavg()]
    results["cpu_count"] = os.cpu_count()
    return results
