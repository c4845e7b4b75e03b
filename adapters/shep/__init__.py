"""The ШЭП protocol (``protocol = "shep"``): Kazakhstan's e-government gateway, SyncChannel and
AsyncChannel v10, WS-Security on every message, towards АИС ЦБДИ for form 031/у (docs/shep.md).

- :mod:`adapters.shep.settings` — :class:`ShepSettings` (channel, serviceId, sender credentials,
  WS-Security key and certificate, pinned certificates of answers, the pilot's regions);
- :mod:`adapters.shep.messages`, :mod:`adapters.shep.codec` — the v10 messages and their SOAP 1.1
  envelopes, built (signed) and parsed;
- :mod:`adapters.shep.payload` — the 031/у and ЦБДИ's answers in ``data`` (the project's model);
- :mod:`adapters.shep.codes` — the code table (``error-codes.tsv``);
- :mod:`adapters.shep.pilot` — the pilot's regions, the 16:00 / 1-working-day deadline, the metric;
- :mod:`adapters.shep.client`, :mod:`adapters.shep.adapter` — sendMessage, getMessages → sink →
  sendDeliveryNotification;
- :mod:`adapters.shep.callbacks` — the AsyncChannel client callback (changeMassageStatusNotification);
- :mod:`adapters.shep.inspect` — ``envelope inspect`` for ШЭП;
- :mod:`adapters.shep.sandbox` — the ШЭП twin with the ЦБДИ twin behind it.
"""

from adapters.shep.codes import shep_code_table
from adapters.shep.plugin import PLUGIN
from adapters.shep.settings import ShepSettings

__all__ = ["PLUGIN", "ShepSettings", "shep_code_table"]
