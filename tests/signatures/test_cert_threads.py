"""A Certificate is shared between verification threads from its first use on.

Regression (SMEV 3 run, issue: FLK_INTERNAL_ERROR on valid documents right after a restart): the
names, identity and extension values were derived lazily by walking the asn1crypto tree kept in
``Certificate.asn1``. asn1crypto parses a SEQUENCE's children on first access and publishes the
list before filling it, so a second thread reading the same node meanwhile saw a half-built list:
``KeyError: No field numbered 1 is present in this NameTypeAndValue`` — or, silently, a subject with
RDNs missing, cached for the certificate's lifetime. The first verifications after a (re)start are
the ones that meet cold certificates, several at once.

The race window is a few bytecodes; a tiny GIL switch interval and a barrier make the threads
interleave inside it on almost every round (before the fix every run failed within a few rounds).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from gateway.signatures.certificates import Certificate
from gateway.signatures.pki import IssuedCertificate, TestPki

THREADS = 8
ROUNDS = 150


@pytest.fixture
def tiny_switch_interval() -> Iterator[None]:
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def _derived(cert: Certificate) -> tuple[Any, ...]:
    """Everything a verification report, the role policy and revocation read from a certificate."""
    return (cert.identity(), cert.subject, cert.issuer, tuple(cert.crl_urls()), cert.version)


def _read_at_once(cert: Certificate) -> tuple[list[tuple[Any, ...]], list[str]]:
    """What THREADS threads, released together, read from ``cert``; and what they raised."""
    barrier = threading.Barrier(THREADS)
    results: list[tuple[Any, ...]] = []
    errors: list[str] = []

    def read() -> None:
        barrier.wait()
        try:
            results.append(_derived(cert))
        except Exception as exc:  # the defect: any exception here is a failure
            errors.append(f"{type(exc).__name__}: {' '.join(str(exc).split())}")

    threads = [threading.Thread(target=read) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def _hammer(make: Callable[[], Certificate], reference: tuple[Any, ...]) -> tuple[list[str], int]:
    """ROUNDS fresh (cold) certificates, each read by THREADS threads at once."""
    errors: list[str] = []
    wrong = 0
    for _ in range(ROUNDS):
        cert = make()
        results, raised = _read_at_once(cert)
        errors += raised
        wrong += sum(1 for r in results if r != reference)
        wrong += _derived(cert) != reference  # nothing half-built stays cached either
    return errors, wrong


@pytest.mark.usefixtures("tiny_switch_interval")
def test_cold_certificate_read_by_many_threads_at_once(gost_signer: IssuedCertificate, gost_pki: TestPki) -> None:
    for der in (gost_signer.certificate.der, gost_pki.ca.der):
        reference = _derived(Certificate(der))
        assert reference[0].snils or reference[0].organization  # the reference itself is meaningful
        errors, wrong = _hammer(lambda der=der: Certificate(der), reference)
        assert errors == []
        assert wrong == 0
