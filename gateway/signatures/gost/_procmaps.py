"""Where a shared library that this process has mapped really lives (for diagnostics only).

``ctypes`` loads by soname through the dynamic linker, so the path that was opened is not known
to Python; ``/proc/self/maps`` says which file was mapped. Both native backends report it.
"""

from __future__ import annotations

import os

__all__ = ["mapped_path"]


def mapped_path(fragment: str) -> str:
    """Path of the first mapped shared object whose file name contains ``fragment`` (Linux), or
    ``"unknown"`` where ``/proc`` cannot tell."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                path = line.split(maxsplit=5)[-1].strip()
                if fragment in os.path.basename(path):
                    return path
    except OSError:
        pass
    return "unknown"
