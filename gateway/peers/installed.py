"""The installed peer plug-ins: the one module of the core that names adapter packages.

Everything else in the core reaches a protocol only through the :class:`PeerPlugin` objects
listed here (the import-linter contract in pyproject.toml enforces it). To add a protocol, write
``adapters/<protocol>/`` exporting ``PLUGIN`` and add it below; docs/adding-a-peer.md walks
through it.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.peers.contract import PeerPlugin

__all__ = ["installed_plugins"]


def installed_plugins() -> Mapping[str, PeerPlugin]:
    """Protocol name → plug-in, imported on first use (adapters are not loaded by `import gateway`)."""
    from adapters.remd import PLUGIN as REMD
    from adapters.shep import PLUGIN as SHEP
    from adapters.smev3 import PLUGIN as SMEV3

    plugins: list[PeerPlugin] = [REMD, SMEV3, SHEP]
    return {p.protocol: p for p in plugins}
