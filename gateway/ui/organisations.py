"""The register of medical organisations the lists name (``[ui] organisations_file``): OID → name.

The gateway ships no register (the FRMO is the Ministry's, and changes); an installation that has
an extract points ``organisations_file`` at a TSV with the columns ``oid`` and ``name``. The file
is re-read when it changes (its modification time), so an updated extract needs no restart. A
missing or malformed file leaves the lists with OIDs and is logged once per change, never fatal.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Final

from gateway.common.logs import get_logger

__all__ = ["OrganisationRegister"]

_log: Final = get_logger(__name__)
_MAX_BYTES: Final = 64 * 1024 * 1024


class OrganisationRegister:
    def __init__(self, path: str) -> None:
        self.path = Path(path) if path else None
        self._names: dict[str, str] = {}
        self._stamp: tuple[float, int] | None = None

    def names(self) -> dict[str, str]:
        """OID → name, as the file says now (an empty mapping without a file)."""
        if self.path is None:
            return {}
        try:
            stat = self.path.stat()
        except OSError as exc:
            if self._stamp != (0.0, -1):
                _log.warning("organisations file unreadable", path=str(self.path), error=type(exc).__name__)
                self._stamp, self._names = (0.0, -1), {}
            return self._names
        stamp = (stat.st_mtime, stat.st_size)
        if stamp != self._stamp:
            self._stamp, self._names = stamp, self._read(stat.st_size)
        return self._names

    def _read(self, size: int) -> dict[str, str]:
        assert self.path is not None
        if size > _MAX_BYTES:
            _log.warning("organisations file too large", path=str(self.path), size=size)
            return {}
        rows = csv.DictReader(self.path.read_text(encoding="utf-8-sig").splitlines(), delimiter="\t")
        if not {"oid", "name"} <= set(rows.fieldnames or ()):
            _log.warning("organisations file lacks the columns oid and name", path=str(self.path))
            return {}
        return {r["oid"].strip(): r["name"].strip() for r in rows if r.get("oid") and r.get("name")}
