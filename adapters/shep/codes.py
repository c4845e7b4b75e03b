"""ШЭП's error codes and what each means for delivery (``error-codes.tsv`` beside this module).

ШЭП documents the shape of an error (``ErrorInfo {errorCode, errorMessage, errorData?, errorDate,
subError?, sessionId?}``) and the status codes ``SCSS001`` (processed) / ``SCSE001`` (failed to
process); the ``errorCode`` values themselves depend on the service and on ШЭП's release, and no
public list exists. The table therefore names SCSE001, the project's own codes for what its
twins and ЦБДИ answer (SENDER_AUTH_FAILED, CBDI_*, ...), and ``SOAP_SERVER``/``SOAP_CLIENT`` for
faults without ErrorInfo. A nested ``subError`` is reported after its parent, so the most
specific code is classified too (docs/shep.md, "Error codes").

Unknown codes: the core's default (permanent). A code nobody listed puts the document in FAILED,
in front of an operator with the peer's text, instead of retrying it out of sight or losing it;
the operator can resend it once the code is understood.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Final

from gateway.peers.codes import CodeClass, CodeTable

__all__ = ["ALERT_CODES", "SUCCESS_STATUSES", "reported_codes", "shep_code_table"]

# Statuses that mean "processed": SCSS001 is ШЭП's usual one; some services answer "Success".
SUCCESS_STATUSES: Final = frozenset({"SCSS001", "SUCCESS"})
# Codes that stop every message of the instance until an operator acts: an alert, not a retry
# (the table's ``alert`` column; the core's default alert counts submissions failed with them).
ALERT_CODES: Final = frozenset({"SENDER_AUTH_FAILED", "SIGNATURE_INVALID"})


@cache
def shep_code_table() -> CodeTable:
    text = resources.files("adapters.shep").joinpath("error-codes.tsv").read_text("utf-8")
    table = CodeTable.from_tsv(text, source="adapters/shep/error-codes.tsv")
    assert table.unknown is CodeClass.PERMANENT  # the documented default above
    assert table.alerting() == ALERT_CODES, "error-codes.tsv's alert column and ALERT_CODES disagree"
    return table


def reported_codes(chain: Sequence[tuple[str, str]], table: CodeTable | None = None) -> tuple[tuple[str, str], ...]:
    """What the adapter reports for an ErrorInfo chain (outermost first): the most specific error
    the table knows, alone, so that a known permanent cause nested under a generic transient one
    (``SCSE001`` › ``SENDER_AUTH_FAILED``) is not retried for ever; the whole chain when the table
    knows none of it (the core's unknown-code default then decides, and the operator sees all)."""
    known = table or shep_code_table()
    for code, message in reversed(chain):
        if known.lookup(code) is not None:
            return ((code, message),)
    return tuple(chain)
