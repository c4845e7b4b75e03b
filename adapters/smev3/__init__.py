"""The SMEV 3 protocol (``protocol = "smev3"``), first layer: messages, codec, signatures, codes.

What is here (see docs/smev3.md):

- :mod:`adapters.smev3.settings` — :class:`Smev3Settings` (namespace version, ЭП-ОВ key and
  certificate files, message type selector, file-store threshold, TestMessage, NodeID);
- :mod:`adapters.smev3.identity` — MessageID as UUID v1: :func:`new_message_id`,
  :func:`check_message_id`;
- :mod:`adapters.smev3.messages` — dataclasses of every operation's messages and of SMEV faults;
- :mod:`adapters.smev3.codec` — :class:`Smev3Codec`: SOAP 1.1 envelopes built (signed) and parsed
  for SendRequest, GetResponse, Ack, GetStatus, GetRequest, SendResponse, SMEV's answers and faults;
- :mod:`adapters.smev3.signing` — :class:`Signer`, the SMEV signature layout, and
  :func:`verify_incoming` (verdicts per signature, never an exception);
- :mod:`adapters.smev3.codes` — the fault code table (``error-codes.tsv``).

The sandbox twin (a simulated SMEV 3 node) is :mod:`adapters.smev3.sandbox`.

Not yet here: the HTTP client, polling and Ack worker, the adapter and ``PLUGIN`` (the plug-in is
not registered in gateway.peers.installed), MTOM and the file store.
"""

from adapters.smev3.codec import SOAP_ACTIONS, Smev3Codec, Smev3FormatError
from adapters.smev3.codes import RENEW_MESSAGE_ID, smev3_code_table
from adapters.smev3.identity import MessageIdError, check_message_id, message_id_time, new_message_id
from adapters.smev3.settings import MessageTypeSelectorSettings, Smev3Settings
from adapters.smev3.signing import SignatureVerdict, Signer, Verdicts, verify_incoming

__all__ = [
    "RENEW_MESSAGE_ID",
    "SOAP_ACTIONS",
    "MessageIdError",
    "MessageTypeSelectorSettings",
    "SignatureVerdict",
    "Signer",
    "Smev3Codec",
    "Smev3FormatError",
    "Smev3Settings",
    "Verdicts",
    "check_message_id",
    "message_id_time",
    "new_message_id",
    "smev3_code_table",
    "verify_incoming",
]
