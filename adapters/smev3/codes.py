"""SMEV 3's fault codes and what each means for delivery.

``error-codes.tsv`` beside this module lists every fault element of the official faults XSD
(``smev-message-exchange-faults-1.1.xsd``), the SignatureVerificationFault reasons (a fault's
answer codes carry the reason first, then ``SignatureVerificationFault``), and the project's
``SOAP_SERVER``/``SOAP_CLIENT`` rows for faults without a SMEV detail. The class column follows
the XSD's annotations (PROTOCOLS.md, SMEV 3) and issue 15; the description column is for
operators (RU), with the likely cause.

``StaleMessageId`` is transient *and* the adapter sets ``Answer.renew_message_id``: the retry
must carry a new UUID v1 — which the core issues only if no send under the old one may have
arrived (else the submission waits for the answer to it: gateway/delivery/stage.py).
``MessageIsAlreadySent`` is never classified as a failure: the adapter reads it as accepted (its
``already-there`` row is what operators read).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Final

from gateway.peers.codes import CodeTable

__all__ = ["RENEW_MESSAGE_ID", "smev3_code_table"]

# The codes after which the next attempt needs a new MessageID.
RENEW_MESSAGE_ID: Final = frozenset({"STALEMESSAGEID"})


@cache
def smev3_code_table() -> CodeTable:
    text = resources.files("adapters.smev3").joinpath("error-codes.tsv").read_text("utf-8")
    return CodeTable.from_tsv(text, source="adapters/smev3/error-codes.tsv")
