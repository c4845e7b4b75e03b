"""The journal: the source of truth for where every submission stands.

All writes are short transactions. A state change, its timeline event and any envelopes it carries
are written together or not at all. Nothing is acknowledged to a sender before :meth:`Journal.submit`
has committed.

The work is split by job: :mod:`~gateway.journal.intake` (the first write, look-ups),
:mod:`~gateway.journal.transitions` (state changes, notes, flags, the outcome notice in the same
transaction), :mod:`~gateway.journal.claims` (leases), :mod:`~gateway.journal.search` (timelines,
envelopes, search), :mod:`~gateway.journal.retention` (purging personal data);
:mod:`~gateway.journal.base` holds what they share and :mod:`~gateway.journal.records` the records
they exchange. ``Journal`` is all of them.
"""

from __future__ import annotations

from gateway.journal.archive import ArchiveJournal
from gateway.journal.claims import ClaimJournal
from gateway.journal.intake import IntakeJournal
from gateway.journal.records import (
    UNCHANGED,
    AlsoInTransaction,
    Changes,
    EnvelopeMeta,
    Event,
    InvalidCursor,
    SearchQuery,
)
from gateway.journal.retention import RetentionJournal
from gateway.journal.search import SearchJournal
from gateway.journal.transitions import TransitionJournal

__all__ = [
    "UNCHANGED",
    "AlsoInTransaction",
    "Changes",
    "EnvelopeMeta",
    "Event",
    "InvalidCursor",
    "Journal",
    "SearchQuery",
]


class Journal(IntakeJournal, TransitionJournal, ClaimJournal, SearchJournal, RetentionJournal, ArchiveJournal):
    """Async access to the journal tables. Stateless apart from the engine: any number of
    processes may share one PostgreSQL database."""
