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

- :mod:`adapters.smev3.client` — :class:`Smev3Client`: the SOAP 1.1 exchanges, envelopes recorded;
- :mod:`adapters.smev3.adapter` — :class:`Smev3Adapter`: SendRequest, GetResponse/verify/sink/Ack;
- :mod:`adapters.smev3.plugin` — ``PLUGIN`` (registered in gateway.peers.installed);
- :mod:`adapters.smev3.inspect` — ``envelope inspect`` for SMEV 3.

- :mod:`adapters.smev3.sandbox` — the sandbox twin (a simulated SMEV 3 node).

Not yet here: MTOM and the file store, GetRequest/SendResponse (provider side) in the adapter.
"""

from adapters.smev3.codec import SOAP_ACTIONS, Smev3Codec, Smev3FormatError
from adapters.smev3.codes import RENEW_MESSAGE_ID, smev3_code_table
from adapters.smev3.identity import MessageIdError, check_message_id, message_id_time, new_message_id
from adapters.smev3.plugin import PLUGIN
from adapters.smev3.settings import MessageTypeSelectorSettings, Smev3Settings
from adapters.smev3.signing import SignatureVerdict, Signer, Verdicts, verify_incoming

__all__ = [
    "PLUGIN",
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
