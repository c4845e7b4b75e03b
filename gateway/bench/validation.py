"""The cost of checking a document, without the gateway around it: the yardstick of ``bench
delivery``'s ``overhead_ratio``.

The offline check (:func:`~gateway.flk.checker.offline_check`: parsing the CDA, both CAdES
signatures with chain and CRLs, schema, role policy and the rules over the document) is what a
validation worker runs for each document. Here it runs in this process, on one thread, over the
very documents the delivery bench then sends, and its cost is read as that thread's CPU time —
which other work on the machine slows down far less than wall time, so the ratio of the gateway's
CPU per document to it stays comparable within one run.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from gateway.config import GatewayConfig
from gateway.delivery.routing import load_routes
from gateway.flk.checker import FullChecker, offline_check
from gateway.intake.submission import parse_submission

__all__ = ["validation_cpu_ms_per_document"]


def validation_cpu_ms_per_document(config: GatewayConfig, bodies: Iterable[dict[str, Any]]) -> float | None:
    """Mean thread CPU time, in ms, of one offline check of each REST submission body in
    ``bodies`` with the checker ``config`` builds (as a gateway validation worker builds it).
    The first document is checked once more beforehand, untimed, so lazy set-up (tables, XPaths,
    the verifier's caches of the trust anchors) is not charged to it. None if ``bodies`` is empty."""
    checker = FullChecker.from_config(
        config.validation,
        router=load_routes(config.routes_path),
        data_dir=config.data_dir,
        max_bytes=config.server.max_body_bytes,
    )
    subs = [parse_submission(body) for body in bodies]
    if not subs:
        return None
    offline_check(checker, subs[0], datetime.now(UTC))
    spent = 0.0
    for sub in subs:
        now = datetime.now(UTC)
        started = time.thread_time()
        offline_check(checker, sub, now)
        spent += time.thread_time() - started
    return round(1000 * spent / len(subs), 3)
