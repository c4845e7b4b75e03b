"""Files the project ships beside its packages: ``config/`` (role policy, routes, examination
tables, fault profiles) and ``wsdl/`` (the reconstructed REMD contract).

In a checkout they sit at the repository root; an installed wheel puts them under
``<prefix>/share/mse-gateway/`` (pyproject's data-files). A file of the same relative path under the
working directory comes first, so an operator's own ``config/roles.toml`` overrides the shipped one,
as it always did; then the checkout, then the installed copy.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Final

__all__ = ["SHARE_NAME", "search_bases", "shipped"]

SHARE_NAME: Final = "mse-gateway"


def search_bases() -> list[Path]:
    """Where shipped files are looked for, in order."""
    return [Path.cwd(), Path(__file__).resolve().parents[2], Path(sys.prefix) / "share" / SHARE_NAME]


def shipped(relative: str | Path) -> Path | None:
    """The first existing ``relative`` path (e.g. ``config/roles.toml``) under :func:`search_bases`."""
    for base in search_bases():
        candidate = base / relative
        if candidate.exists():
            return candidate
    return None
