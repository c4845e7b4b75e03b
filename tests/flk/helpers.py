"""Helpers shared by the FLK tests (constants and small functions; fixtures are in conftest)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from gateway.flk.checker import FullChecker
from gateway.intake.submission import CanonicalSubmission, parse_submission
from gateway.validation.contract import Report

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT.parent / "shared" / "reference"
T = TypeVar("T")
NOW = datetime(2026, 3, 17, 12, 0, 0, tzinfo=UTC)


def run_check(checker: FullChecker, data: dict[str, Any]) -> Report:
    return asyncio.run(checker.check(parse_submission(json.loads(json.dumps(data)))))


def canonical(data: dict[str, Any]) -> CanonicalSubmission:
    return parse_submission(json.loads(json.dumps(data)))


def replace(obj: T, **changes: Any) -> T:
    return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
