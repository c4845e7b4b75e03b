"""Validation in worker processes gives the very report the in-process checker gives, and a worker
that dies is replaced without losing the check."""

from __future__ import annotations

import asyncio
import base64
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from flk.helpers import NOW, canonical
from gateway.flk.checker import FullChecker
from gateway.flk.config import ValidationConfig
from gateway.flk.pool import PoolSettings, ValidationPool
from gateway.validation.contract import Report
from gateway.wire.safexml import DEFAULT_MAX_BYTES

Valid = Callable[[str, int], dict[str, Any]]


@pytest.fixture(scope="module")
def pool(config: ValidationConfig) -> Iterator[ValidationPool]:
    validation_pool = ValidationPool(1, PoolSettings(config, router=None, data_dir=None, max_bytes=DEFAULT_MAX_BYTES))
    yield validation_pool
    validation_pool.close()


def _check(checker: FullChecker, data: dict[str, Any]) -> Report:
    return asyncio.run(checker.check(canonical(data)))


def _tampered(data: dict[str, Any]) -> dict[str, Any]:
    document = bytearray(base64.b64decode(data["document"]))
    at = document.index(b"<title>") + len(b"<title>")
    document[at] ^= 0x01
    return {**data, "document": base64.b64encode(bytes(document)).decode()}


@pytest.mark.parametrize(("kind", "seed"), [("121", 71), ("35", 72), ("108", 73)])
def test_the_pool_reports_what_the_process_reports(
    config: ValidationConfig, pool: ValidationPool, valid: Valid, kind: str, seed: int
) -> None:
    local = FullChecker.from_config(config, clock=lambda: NOW)
    pooled = FullChecker.from_config(config, clock=lambda: NOW, pool=pool)
    for data in (valid(kind, seed), _tampered(valid(kind, seed))):
        expected, got = _check(local, data), _check(pooled, data)
        assert got.to_dict() == expected.to_dict()
    assert _check(pooled, valid(kind, seed)).passed
    assert not _check(pooled, _tampered(valid(kind, seed))).passed


def test_a_killed_worker_is_replaced(config: ValidationConfig, pool: ValidationPool, valid: Valid) -> None:
    checker = FullChecker.from_config(config, clock=lambda: NOW, pool=pool)
    assert _check(checker, valid("121", 74)).passed  # the worker is up
    workers = multiprocessing.active_children()
    assert workers
    for worker in workers:
        assert worker.pid is not None
        os.kill(worker.pid, signal.SIGKILL)
        worker.join(10)
    report = _check(checker, valid("121", 75))
    assert report.passed, report.to_dict()["flk"]
