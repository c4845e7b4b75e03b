"""What the REMD-compatible SOAP front door (adapters/remd/frontdoor.py) needs from the core: the
same durable intake as the REST API, and a search over what the gateway registered."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from gateway.intake.clients import Client
from gateway.intake.service import accept, authorise
from gateway.intake.submission import parse_submission
from gateway.journal.store import Journal, SearchQuery
from gateway.journal.worker import ClaimLoop
from gateway.model import EnvelopeIn, State
from gateway.monitoring.counters import observe_intake
from gateway.wire.outbound import CallbackPolicy

__all__ = ["FrontDoorService"]


class FrontDoorService:
    def __init__(
        self, journal: Journal, workers: dict[str, ClaimLoop[Any]], *, callbacks: CallbackPolicy | None = None
    ) -> None:
        self.journal = journal
        self.workers = workers
        self.callbacks = callbacks or CallbackPolicy()

    async def accept(
        self,
        client: Client,
        canonical_json: dict[str, Any],
        *,
        envelope: bytes,
        message_id: str,
        reply_to: str | None,
    ) -> tuple[str, bool]:
        """Journal a registerDocumentRequest translated to the canonical format. The MIS's
        ReplyTo becomes the callback address and its MessageID the relatesToMessage of the
        registerDocumentResult it will receive. ``canonical_json["callback_url"]`` is the ReplyTo
        when the adapter found it usable (not the WS-Addressing anonymous address): ``reply_to``
        itself is not copied over it, or an anonymous ReplyTo would become a callback to w3.org."""
        data = dict(canonical_json)
        started = time.perf_counter()
        sub = parse_submission(data)
        authorise(client, sub)
        self.callbacks.check_intake(sub.callback_url, client.callback_hosts, field="wsa:ReplyTo")
        record, created = await accept(
            self.journal,
            sub,
            data,
            payload=json.dumps(data, ensure_ascii=False).encode(),
            origin="remd-soap",
            origin_ref=message_id,
        )
        observe_intake("remd-soap", time.perf_counter() - started)
        if created:
            await self.journal.note(
                record.id,
                kind="intake",
                actor="intake:remd-soap",
                message="registerDocumentRequest received",
                envelopes_in=[EnvelopeIn("in", "mis", "application/soap+xml", envelope)],
            )
            worker = self.workers.get("validation")
            if worker is not None:
                worker.wake()
        return record.id, created

    async def search(
        self,
        client: Client,
        organization: str,
        kind: str,
        begin: datetime | None,
        end: datetime | None,
        snils: str | None,
    ) -> list[tuple[str, str, datetime]]:
        """REGISTERED submissions of this client matching REMD's searchRegistryItem filters."""
        found: list[tuple[str, str, datetime]] = []
        cursor = None
        while True:
            items, cursor = await self.journal.search(
                SearchQuery(
                    source_system=client.source_system,
                    organization_oid=organization,
                    kind=kind,
                    states=(State.REGISTERED,),
                    patient_id=snils,
                    since=begin,
                    until=end,
                    cursor=cursor,
                    limit=500,
                )
            )
            found.extend((s.local_uid, s.peer_registration_id or "", s.updated_at) for s in items)
            if cursor is None or len(found) >= 5000:
                return found
