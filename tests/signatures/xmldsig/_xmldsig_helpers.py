"""Helpers shared by the XMLDSig tests (imported as a plain module, like ``_sig_helpers``)."""

from __future__ import annotations

from pathlib import Path

from gateway.signatures.certificates import Certificate, load_certificates
from gateway.signatures.pki import TestPki
from gateway.signatures.xml.verify import XmlVerifier

VECTORS = Path(__file__).resolve().parents[2] / "vectors"

SMEV_NS = "urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.1"
NS = {"s": "http://schemas.xmlsoap.org/soap/envelope/", "ns": SMEV_NS, "ds": "http://www.w3.org/2000/09/xmldsig#"}

# An SMEV 3 SendRequestRequest in the shape the gateway sends (PROTOCOLS.md, SMEV 3).
SMEV_REQUEST = b"""<?xml version="1.0" encoding="UTF-8"?>
<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/">
  <S:Header><h:Trace xmlns:h="urn:test:header">outside the signed element</h:Trace></S:Header>
  <S:Body>
    <ns:SendRequestRequest xmlns:ns="urn://x-artefacts-smev-gov-ru/services/message-exchange/types/1.1">
      <ns:SenderProvidedRequestData Id="SIGNED_BY_CONSUMER">
        <ns:MessageID>db0486d0-3c08-11e5-95e2-d4c9eff07b77</ns:MessageID>
        <b:MessagePrimaryContent xmlns:b="urn://x-artefacts-smev-gov-ru/services/message-exchange/types/basic/1.1">
          <m:Referral xmlns:m="urn:test:mse" kind="121"><m:Snils>12345678901</m:Snils><m:Amount>100</m:Amount>
          </m:Referral>
        </b:MessagePrimaryContent>
        <ns:TestMessage/>
      </ns:SenderProvidedRequestData>
      <ns:CallerInformationSystemSignature/>
    </ns:SendRequestRequest>
  </S:Body>
</S:Envelope>
"""

# A Kazakh-style document (form 031/u draft) signed enveloped over the whole document.
KZ_DOCUMENT = """<?xml version="1.0" encoding="UTF-8"?>
<document xmlns="urn:test:kz031">
  <number>031-77</number>
  <patient><iin>900101300123</iin></patient>
  <decision>Заключение ВКК</decision>
</document>
""".encode()

SMEV_EXPECT = ["/S:Envelope/S:Body/ns:SendRequestRequest/ns:SenderProvidedRequestData"]
SMEV_EXPECT_NS = {"S": "http://schemas.xmlsoap.org/soap/envelope/", "ns": SMEV_NS}


def chain_of(pki: TestPki) -> list[Certificate]:
    return load_certificates(pki.chain_path.read_bytes())


def verifier_for(pki: TestPki, **kwargs: object) -> XmlVerifier:
    """An XmlVerifier trusting ``pki``'s root and reading its CRLs."""
    return XmlVerifier(trust=pki.trust_dir, crls=[pki.crl_path.parent], **kwargs)  # type: ignore[arg-type]
