"""Revocation by default in production: what `serve` checks before it starts.

Issue 14 finding 8: with no CRL source configured, a revoked certificate verified as valid and
nothing said so. `serve` (production) now refuses to start without CRL sources unless the
operator wrote ``[validation] require_revocation = false`` — and that choice is logged as a
warning at every start, so it cannot be forgotten. The sandbox is exempt: it checks revocation
against its own test PKI's CRLs (gateway.sandbox.setup).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from gateway.common.logs import get_logger
from gateway.config import GatewayConfig
from gateway.errors import ConfigError
from gateway.flk.checker import resolve_trust

__all__ = ["check_revocation_at_start"]

_log: Final = get_logger(__name__)


def check_revocation_at_start(config: GatewayConfig) -> list[str]:
    """The CRL sources `serve` will use; raises ConfigError when there are none and revocation
    was not switched off explicitly."""
    v = config.validation
    _, sources = resolve_trust(Path(v.trust_dir) if v.trust_dir else None, v.crl_sources)
    if v.require_revocation is False:
        _log.warning(
            "revocation checking is not required (validation.require_revocation = false): "
            "a revoked certificate without a configured CRL verifies as valid",
            crl_sources=len(sources),
        )
        return sources
    if not sources:
        raise ConfigError(
            "no CRL sources: set validation.crl_sources (CRL files, directories or http(s) URLs of the "
            "trusted CAs), or set validation.require_revocation = false explicitly to run without "
            "revocation checking (docs/security.md)"
        )
    return sources
