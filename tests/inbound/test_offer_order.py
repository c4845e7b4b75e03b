"""The offer sequence under concurrent writers: documents recorded by several connections at once
(separate engines, as separate gateway processes) while a reader follows the inbox with its
cursor. Every document is read exactly once and none is skipped: the counter row makes offering
transactions commit in sequence order, so a reader past position n has seen everything below n."""

from __future__ import annotations

import asyncio
import hashlib
import uuid

from gateway.common.secrets import DeploymentSecret
from gateway.journal.engine import create_engine
from gateway.journal.inbound import InboundJournal, NewInbound, StoredContent
from gateway.journal.schema import clients
from gateway.journal.store import Journal
from inbound.kit import MO, journal_referral

WRITERS = 4
PER_WRITER = 15


async def test_cursor_reader_sees_every_concurrent_offer_once(
    journal: Journal, db_url: str, secret: DeploymentSecret
) -> None:
    client_id = str(uuid.uuid4())
    async with journal.engine.begin() as conn:
        await conn.execute(
            clients.insert().values(
                id=client_id, source_system="mis-x", token_sha256="0" * 64, organization_oids=[MO],
                callback_key=b"k", created_at=journal.clock.now(),
            )
        )  # fmt: skip
    referrals = [await journal_referral(journal) for _ in range(WRITERS * PER_WRITER)]
    engines = [create_engine(db_url) for _ in range(WRITERS)]
    done = asyncio.Event()
    try:

        async def writer(w: int) -> list[str]:
            inbound = InboundJournal(Journal(engines[w], secret))
            ids = []
            for i in range(PER_WRITER):
                ref = referrals[w * PER_WRITER + i]
                content = StoredContent(
                    document=f"<d w='{w}' i='{i}'/>".encode(), document_mime="application/xml", signatures=()
                )
                record, created = await inbound.record(
                    NewInbound(
                        peer="remd", peer_document_id=f"{w}-{i}", kind="35", recipient_oid=MO, content=content,
                        sha256=hashlib.sha256(content.document).hexdigest(), peer_ids={},
                        referral_local_uid=ref.local_uid,
                    )
                )  # fmt: skip
                assert created and record.offer_seq is not None
                ids.append(record.id)
            return ids

        async def reader() -> list[str]:
            inbound = InboundJournal(journal)
            seen: list[str] = []
            cursor = 0
            while True:
                finished = done.is_set()  # read once more after the writers are done
                page = await inbound.offers(client_id, [MO], after=cursor, limit=7)
                for record, _ in page:
                    seen.append(record.id)
                    assert record.offer_seq is not None and record.offer_seq > cursor
                    cursor = record.offer_seq
                if finished and not page:
                    return seen
                await asyncio.sleep(0)

        reading = asyncio.create_task(reader())
        written = await asyncio.gather(*(writer(w) for w in range(WRITERS)))
        done.set()
        seen = await reading
    finally:
        for engine in engines:
            await engine.dispose()
    everything = [i for ids in written for i in ids]
    assert len(seen) == len(set(seen)) == len(everything)
    assert set(seen) == set(everything)
