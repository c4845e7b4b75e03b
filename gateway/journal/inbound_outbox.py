"""The webhook outbox of inbound documents (table ``inbound_notices``): the outbox of outcome
notices (:class:`gateway.journal.outbox.Outbox`) over the inbound tables, so one
:class:`~gateway.notices.notifier.Notifier` drives it. A claimed notice's ``submission_id``
carries the *inbound document* id."""

from __future__ import annotations

from typing import ClassVar

import sqlalchemy as sa

from gateway.journal.outbox import Outbox
from gateway.journal.schema import inbound_events, inbound_notices

__all__ = ["InboundOutbox"]


class InboundOutbox(Outbox):
    table: ClassVar[sa.Table] = inbound_notices
    subject: ClassVar[str] = "document_id"
    timeline: ClassVar[sa.Table] = inbound_events
    what: ClassVar[str] = "inbound notice"
