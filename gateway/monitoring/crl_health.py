"""Whether the CRLs the gateway checks revocation with are current: read by the /metrics scrape
(``mse_gateway_crl_stale``) and by the ``crl_stale`` alert rule. A CRL past its nextUpdate that
cannot be refreshed makes every verdict depending on it INDETERMINATE (gateway.signatures.chain),
so operators must hear about it before vendors do."""

from __future__ import annotations

import asyncio
from datetime import datetime

from aiohttp import web

from gateway.appkeys import CHECKER_KEY
from gateway.signatures.revocation import CrlStore

__all__ = ["crl_store", "stale_crl_sources"]


def crl_store(app: web.Application) -> CrlStore | None:
    """The CRL store of this process's checker (None: no checker yet, or one without CRLs)."""
    checker = app.get(CHECKER_KEY)
    verifier = getattr(checker, "verifier", None)
    store = getattr(verifier, "crls", None)
    return store if isinstance(store, CrlStore) else None


async def stale_crl_sources(app: web.Application, now: datetime) -> dict[str, str]:
    """Configured CRL sources without a current CRL, with the reason. In a thread: a refresh may
    fetch an HTTP CRL."""
    store = crl_store(app)
    if store is None:
        return {}
    return await asyncio.to_thread(store.stale, now)
