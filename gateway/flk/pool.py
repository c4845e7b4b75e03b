"""Validation worker processes: the CPU-bound part of a check (parsing, signature verification,
schema and the rules over the document) off the gateway's main process.

In one process every thread shares one GIL: parsing and verifying in threads starved the event
loop and the journal's database thread, so each statement waited milliseconds to get the GIL back
(measured in ``bench delivery``; docs/benchmarks.md). Worker processes run the same
:func:`~gateway.flk.checker.offline_check`, each with its own :class:`FullChecker` built from the
same configuration; the journal rules stay in the main process, which owns the journal.

A worker that dies (a crash in native code) breaks the pool: it is replaced and the check is tried
once more on the fresh pool; a second failure is raised, and the checker holds the submission with
FLK_INTERNAL_ERROR rather than letting it through.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from gateway.common.logs import configure_logging, get_logger
from gateway.delivery.routing import Router
from gateway.flk.checker import FullChecker, OfflinePart, offline_check
from gateway.flk.config import ValidationConfig
from gateway.intake.submission import CanonicalSubmission

__all__ = ["PoolSettings", "ValidationPool"]

_log: Final = get_logger(__name__)


@dataclass(frozen=True)
class PoolSettings:
    """What a worker process needs to build its checker (picklable)."""

    validation: ValidationConfig
    router: Router | None
    data_dir: Path | None
    max_bytes: int
    log_level: str = "info"
    log_format: str = "json"


# One checker per worker process, built by the initializer.
_checker: FullChecker | None = None


def _initialise(settings: PoolSettings) -> None:
    global _checker
    configure_logging(settings.log_level, settings.log_format)
    _checker = FullChecker.from_config(
        settings.validation, router=settings.router, data_dir=settings.data_dir, max_bytes=settings.max_bytes
    )


def _check(sub: CanonicalSubmission, now: datetime) -> OfflinePart:
    assert _checker is not None, "worker process not initialised"
    return offline_check(_checker, sub, now)


def _ready() -> bool:
    return _checker is not None


class ValidationPool:
    """``processes`` worker processes (spawned, so nothing of the parent's event loop or open
    connections is inherited)."""

    def __init__(self, processes: int, settings: PoolSettings) -> None:
        if processes < 1:
            raise ValueError("a validation pool needs at least one process")
        self.processes = processes
        self._settings = settings
        self._lock = threading.Lock()
        self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_initialise,
            initargs=(self._settings,),
        )

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is broken:
                _log.error("validation worker process died; starting a new pool", processes=self.processes)
                broken.shutdown(wait=False, cancel_futures=True)
                self._executor = self._new_executor()

    async def warm_up(self) -> None:
        """Hand each worker slot a no-op, so the workers start and build their checkers (and a
        broken configuration fails) now rather than on the first document."""
        loop = asyncio.get_running_loop()
        executor = self._executor
        await asyncio.gather(*(loop.run_in_executor(executor, _ready) for _ in range(self.processes)))

    async def run(self, sub: CanonicalSubmission, now: datetime) -> OfflinePart:
        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            executor = self._executor
            try:
                return await loop.run_in_executor(executor, _check, sub, now)
            except BrokenProcessPool:
                self._replace(executor)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            self._executor.shutdown(wait=True, cancel_futures=True)
