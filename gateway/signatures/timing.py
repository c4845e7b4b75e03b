"""How the signature benchmarks time an operation: the median rate of several short rounds.

One long timing is at the mercy of whatever else the machine does during it (on the shared
2-core development machine a single 2-second figure varied by 1.6x between back-to-back runs);
the median of rounds discards the disturbed ones without picking the luckiest. ``interleaved``
alternates the rounds of several operations, so figures that are compared with each other (the
XML bench's GOST against signxml's RSA) see the same machine.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from typing import Final

__all__ = ["ROUNDS", "interleaved", "median_rate"]

ROUNDS: Final = 5


def _round(seconds: float, op: Callable[[], object]) -> float:
    done = 0
    start = time.perf_counter()
    while True:
        op()
        done += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and done >= 3:
            return done / elapsed


def median_rate(seconds: float, op: Callable[[], object], rounds: int = ROUNDS) -> float:
    """Calls per second of ``op``: the median over ``rounds`` rounds sharing ``seconds``."""
    return statistics.median(_round(seconds / rounds, op) for _ in range(rounds))


def interleaved(seconds: float, ops: Mapping[str, Callable[[], object]], rounds: int = ROUNDS) -> dict[str, float]:
    """:func:`median_rate` of each operation, their rounds alternating; ``seconds`` per operation."""
    rates: dict[str, list[float]] = {name: [] for name in ops}
    for _ in range(rounds):
        for name, op in ops.items():
            rates[name].append(_round(seconds / rounds, op))
    return {name: statistics.median(values) for name, values in rates.items()}
