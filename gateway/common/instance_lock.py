"""One gateway process per SQLite data directory.

Two processes on one SQLite file would each run the delivery workers and take turns on its single
write lock; the second `make run` used to do exactly that, silently. ``serve`` and ``sandbox`` hold
an exclusive ``flock`` on ``<data-dir>/gateway.lock`` for their lifetime: the kernel releases it
when the process ends, however it ends (SIGKILL included), so a stale lock file never blocks a
restart. PostgreSQL is the way to run several processes on one journal.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Final

__all__ = ["LOCK_FILE", "DataDirLocked", "InstanceLock"]

LOCK_FILE: Final = "gateway.lock"


class DataDirLocked(Exception):
    """Another live process holds the data directory."""

    def __init__(self, path: Path, holder: str) -> None:
        self.path = path
        self.holder = holder
        who = f"process {holder}" if holder else "another process"
        super().__init__(
            f"{path.parent} is in use by {who} (lock {path}); one gateway process per SQLite data "
            f"directory — stop it, choose another --data-dir, or use PostgreSQL (storage.database_url) "
            f"to run several processes"
        )


class InstanceLock:
    """An exclusive, non-blocking lock on ``<data_dir>/gateway.lock`` holding the owner's pid."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            os.close(fd)
            raise DataDirLocked(self.path, holder) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            # The file stays: unlinking it would let a third process lock a new inode while a
            # second still waits on the old one.
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *_: object) -> None:
        self.release()
