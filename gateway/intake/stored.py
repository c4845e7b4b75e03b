"""Reading a submission's stored payload back, and handing the decoded submission from one stage
to the next in the same process.

Validation and delivery both need the decoded submission; each used to read the payload (a read
transaction), open it (AES-GCM, zlib), parse the JSON and decode the base64 document. Payloads
never change (sealed, bound to their submission id), so validation leaves what it decoded for
delivery in a small bounded map; delivery takes it (or reads the journal when it is not there: a
retry, another process, an evicted entry). Nothing here is a source of truth — a miss costs a
read, never a wrong answer.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Final, Protocol

from gateway.intake.submission import CanonicalSubmission, decode_stored

__all__ = ["Handoff", "PayloadSource", "load_stored"]

# Entries are ~2.5 times the submission JSON (dict, decoded document, CMS): ~150 KB for a 65 KB
# submission, so 32 are ~5 MB. Delivery takes an entry within a claim of validation routing it;
# more would only hold memory for documents delivered elsewhere.
_DEFAULT_SIZE: Final = 32


class PayloadSource(Protocol):
    async def payload(self, submission_id: str) -> bytes: ...


async def load_stored(journal: PayloadSource, submission_id: str) -> CanonicalSubmission:
    """The stored submission, decoded (the schema already passed at intake)."""
    return decode_stored(json.loads(await journal.payload(submission_id)))


class Handoff:
    """Decoded submissions waiting for the next stage of this process, newest ``size`` kept."""

    def __init__(self, size: int = _DEFAULT_SIZE) -> None:
        self._size = size
        self._entries: OrderedDict[str, CanonicalSubmission] = OrderedDict()

    def put(self, submission_id: str, canonical: CanonicalSubmission) -> None:
        self._entries[submission_id] = canonical
        self._entries.move_to_end(submission_id)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def take(self, submission_id: str) -> CanonicalSubmission | None:
        return self._entries.pop(submission_id, None)

    async def load(self, journal: PayloadSource, submission_id: str) -> CanonicalSubmission:
        """What validation left for ``submission_id``, or the journal's copy."""
        canonical = self.take(submission_id)
        return canonical if canonical is not None else await load_stored(journal, submission_id)

    def __len__(self) -> int:
        return len(self._entries)
