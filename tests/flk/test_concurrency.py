"""Concurrent checks right after a (re)start: valid documents pass, none is held as an internal error.

Regression: in a 2,000-request SMEV 3 run three valid documents, checked at the same moment less
than a second after the gateway restarted, were rejected with FLK_INTERNAL_ERROR — a ``KeyError``
out of signature verification. The verification threads shared the signer's just-parsed
certificate and walked its lazily parsed asn1crypto tree at once (see
tests/signatures/test_cert_threads.py for the mechanism). Here the whole checker runs as the gateway
runs it — checks on the event loop, the CPU-bound part in worker threads — with the certificate cache
emptied before every round, so each round's checks meet cold certificates, like after a restart.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from flk.helpers import canonical
from gateway.flk.checker import FullChecker
from gateway.flk.codes import FlkCode
from gateway.signatures.certificates import certificate_from_der
from gateway.validation.contract import Report

Valid = Callable[..., dict[str, Any]]
ROUNDS = 30
AT_ONCE = 8


@pytest.fixture
def tiny_switch_interval() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


@pytest.mark.usefixtures("tiny_switch_interval")
def test_concurrent_checks_on_cold_certificates_pass(base_checker: FullChecker, valid: Valid) -> None:
    submissions = [canonical(valid("121", 300 + i)) for i in range(AT_ONCE)]

    async def round_of_checks() -> list[Report]:
        return await asyncio.gather(*(base_checker.check(s) for s in submissions))

    failures: list[str] = []
    for _ in range(ROUNDS):
        certificate_from_der.cache_clear()  # as after a restart: no certificate parsed yet
        for report in asyncio.run(round_of_checks()):
            if not report.passed:
                failures.extend(f"{f.rule}: {f.code}: {f.message}" for f in report.findings)
    assert not any(FlkCode.INTERNAL_ERROR in f for f in failures), failures
    assert failures == []
