"""Archiving: the envelopes of final submissions older than a configured age leave the journal —
to compressed files in an archive directory (policy ``archive``) or nowhere (``delete``).

What moves is what makes a journal heavy: the wire messages exchanged with peers. The submission
row, its timeline and its sealed payload stay, as the index card every look-up by id, the
duplicate and version rules, the statistics and the SLA reports need; the row records when its
envelopes left and where to (``archived_at``, ``archive_ref``: the file's path under the archive
directory, or ``deleted``). Personal data is :mod:`gateway.journal.retention`'s business
(``purge``), which also reaches rows archived before.

Only final submissions (REGISTERED, REJECTED, FAILED, CANCELLED) are taken — never DEAD nor
anything still in flight — and none with an outcome notice still to deliver. They are found through
``ix_submissions_to_archive``, a partial index of the final rows not yet archived, so a run reads
what it archives, not the history it archived before.

**A file before a deletion.** A batch's envelopes are written as they are stored (sealed: zlib and
AES-GCM bound to the submission id, so the file is readable only with the deployment's secret), one
gzip'd JSON Lines file per batch, ``YYYY/MM/envelopes-<UTC time>-<random>.jsonl.gz``: a line per
submission (its id, state and outcome) followed by a line per envelope. The file is fsynced and
renamed into place before the transaction that deletes the envelopes begins. A crash between the
two leaves the envelopes in the journal and a file the next run writes again: a duplicate in cold
storage, never a loss. Envelopes recorded after the batch was read (a late callback) are not
deleted: the delete names the envelopes written, not the submission.
"""

from __future__ import annotations

import asyncio
import base64
import enum
import gzip
import json
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa

from gateway.journal.base import JournalBase
from gateway.journal.schema import TO_ARCHIVE_SQL, envelopes, notifications, submissions

__all__ = [
    "DELETED",
    "ArchiveJournal",
    "ArchivePolicy",
    "ArchiveResult",
    "ArchiveState",
    "ArchivedEnvelope",
    "read_archived",
]

DELETED: Final = "deleted"  # archive_ref of a submission whose envelopes were deleted by policy
_S = submissions.c
_ENV_COLS: Final = (
    envelopes.c.id, envelopes.c.submission_id, envelopes.c.event_id, envelopes.c.at, envelopes.c.direction,
    envelopes.c.peer, envelopes.c.content_type, envelopes.c.size, envelopes.c.sha256, envelopes.c.codec,
    envelopes.c.body,
)  # fmt: skip


class ArchivePolicy(enum.StrEnum):
    ARCHIVE = "archive"  # to compressed files in the archive directory
    DELETE = "delete"  # gone


@dataclass(frozen=True)
class ArchiveResult:
    policy: ArchivePolicy
    cutoff: datetime
    submissions: int
    envelopes: int
    bytes: int  # of envelope bodies, as stored
    files: tuple[str, ...]  # relative to the archive directory
    dry_run: bool
    more: bool = False  # stopped at max_batches with candidates left


@dataclass(frozen=True)
class ArchiveState:
    at: datetime
    ref: str  # a file under the archive directory, or DELETED


@dataclass(frozen=True)
class ArchivedEnvelope:
    id: int
    submission_id: str
    at: datetime
    direction: str
    peer: str
    content_type: str
    size: int
    sha256: str
    body: bytes  # opened (the exact bytes exchanged)


class ArchiveJournal(JournalBase):
    def _to_archive(self, cutoff: datetime) -> sa.Select[Any]:
        busy = sa.select(notifications.c.submission_id).where(notifications.c.state == "pending")
        return (
            sa.select(
                _S.id,
                _S.local_uid,
                _S.kind,
                _S.state,
                _S.destination,
                _S.peer_registration_id,
                _S.outcome_code,
                _S.created_at,
                _S.updated_at,
            )
            .where(sa.text(TO_ARCHIVE_SQL), _S.updated_at < cutoff, _S.id.not_in(busy))
            .order_by(_S.updated_at, _S.id)
            # Without statistics SQLite prefers the state index, i.e. every final row ever.
            .with_hint(submissions, "INDEXED BY ix_submissions_to_archive", "sqlite")
        )

    async def archive(
        self,
        cutoff: datetime,
        *,
        policy: ArchivePolicy,
        directory: Path | None,
        actor: str,
        batch: int = 500,
        max_batches: int | None = None,
        pause_seconds: float = 0.0,
        dry_run: bool = False,
    ) -> ArchiveResult:
        """Archive (or delete) the envelopes of final submissions last changed before ``cutoff``,
        ``batch`` submissions per transaction, at most ``max_batches`` batches, sleeping
        ``pause_seconds`` between batches so the hot path keeps the writer."""
        if policy is ArchivePolicy.ARCHIVE and directory is None:
            raise ValueError("policy archive needs an archive directory")
        if dry_run:
            return await self._dry_run(cutoff, policy)
        done = n_env = size = 0
        files: list[str] = []
        batches = 0
        while max_batches is None or batches < max_batches:
            async with self._reading() as conn:
                rows = (await conn.execute(self._to_archive(cutoff).limit(batch))).all()
                if not rows:
                    return ArchiveResult(policy, cutoff, done, n_env, size, tuple(files), False)
                ids = [r.id for r in rows]
                envs = (
                    await conn.execute(
                        sa.select(*_ENV_COLS).where(envelopes.c.submission_id.in_(ids)).order_by(envelopes.c.id)
                    )
                ).all()
            now = self.clock.now()
            ref = DELETED
            if policy is ArchivePolicy.ARCHIVE:
                assert directory is not None
                ref = await asyncio.to_thread(_write_file, directory, now, rows, envs)
                files.append(ref)
            await self._seal_batch(ids, [e.id for e in envs], now, ref, actor)
            done += len(ids)
            n_env += len(envs)
            size += sum(len(e.body) for e in envs)
            batches += 1
            if pause_seconds:
                await asyncio.sleep(pause_seconds)
        async with self._reading() as conn:
            more = (await conn.execute(self._to_archive(cutoff).limit(1))).first() is not None
        return ArchiveResult(policy, cutoff, done, n_env, size, tuple(files), False, more)

    async def _seal_batch(self, ids: list[str], envelope_ids: list[int], now: datetime, ref: str, actor: str) -> None:
        message = "envelopes deleted (retention)" if ref == DELETED else f"envelopes archived to {ref}"
        async with self.writing() as conn:
            if envelope_ids:
                await conn.execute(envelopes.delete().where(envelopes.c.id.in_(envelope_ids)))
            await conn.execute(
                submissions.update()
                .where(_S.id.in_(ids), _S.archived_at.is_(None))
                .values(archived_at=now, archive_ref=ref)
            )
            for sid in ids:
                await self._insert_event(conn, sid, at=now, kind="note", actor=actor, message=message)

    async def _dry_run(self, cutoff: datetime, policy: ArchivePolicy) -> ArchiveResult:
        candidates = self._to_archive(cutoff).order_by(None).subquery()
        async with self._reading() as conn:
            n = int((await conn.execute(sa.select(sa.func.count()).select_from(candidates))).scalar_one())
            env = (
                await conn.execute(
                    sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(envelopes.c.size), 0)).where(
                        envelopes.c.submission_id.in_(sa.select(candidates.c.id))
                    )
                )
            ).one()
        return ArchiveResult(policy, cutoff, n, int(env[0]), int(env[1]), (), True)

    async def archive_state(self, submission_id: str) -> ArchiveState | None:
        """When and where a submission's envelopes went, or None if they are in the journal."""
        async with self._reading() as conn:
            row = (await conn.execute(sa.select(_S.archived_at, _S.archive_ref).where(_S.id == submission_id))).first()
        if row is None or row.archived_at is None:
            return None
        return ArchiveState(row.archived_at, row.archive_ref or DELETED)

    def open_archived(self, directory: Path, ref: str, submission_id: str) -> list[ArchivedEnvelope]:
        """A submission's envelopes read back from its archive file, opened with this deployment's
        secret (FileNotFoundError if the file is gone)."""
        return [
            ArchivedEnvelope(
                id=e["id"],
                submission_id=submission_id,
                at=datetime.fromisoformat(e["at"]),
                direction=e["direction"],
                peer=e["peer"],
                content_type=e["content_type"],
                size=e["size"],
                sha256=e["sha256"],
                body=self.open_body(base64.b64decode(e["body"]), bind=submission_id),
            )
            for e in read_archived(directory, ref, submission_id)
        ]


def _write_file(directory: Path, now: datetime, rows: Sequence[Any], envs: Sequence[Any]) -> str:
    rel = Path(f"{now:%Y}", f"{now:%m}", f"envelopes-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}.jsonl.gz")
    path = directory / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    by_submission: dict[str, list[Any]] = {}
    for env in envs:
        by_submission.setdefault(env.submission_id, []).append(env)
    tmp = path.with_name(path.name + ".partial")
    with tmp.open("wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            for row in rows:
                record = {k: _json_value(v) for k, v in row._mapping.items()}
                gz.write(json.dumps({"submission": record}, ensure_ascii=False).encode() + b"\n")
                for env in by_submission.get(row.id, ()):
                    data = {k: _json_value(v) for k, v in env._mapping.items() if k != "body"}
                    data["body"] = base64.b64encode(env.body).decode("ascii")
                    gz.write(json.dumps({"envelope": data}, ensure_ascii=False).encode() + b"\n")
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a crash
    finally:
        os.close(dir_fd)
    return rel.as_posix()


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def read_archived(directory: Path, ref: str, submission_id: str) -> list[dict[str, Any]]:
    """The envelope records (bodies still sealed, base64) of one submission in an archive file."""
    path = (directory / ref).resolve()
    if directory.resolve() not in path.parents:
        raise ValueError(f"archive reference {ref!r} is outside the archive directory")
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            item = json.loads(line)
            env = item.get("envelope")
            if env is not None and env["submission_id"] == submission_id:
                out.append(env)
    return out
