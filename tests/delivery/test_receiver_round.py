"""The leased receiver's round (gateway/delivery/receiver.py), with a stub adapter and lease."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from gateway.delivery.receiver import Receiver


class _Leases:
    async def acquire(self, name: str, owner: str, seconds: float) -> bool:
        return True

    async def release(self, name: str, owner: str) -> None:
        return None


class _Adapter:
    def __init__(self, script: list[int | Exception]) -> None:
        self.script = script

    async def receive(self, sink: Any) -> int:
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step


def _receiver(script: list[int | Exception]) -> Receiver:
    peer = SimpleNamespace(name="smev", adapter=_Adapter(script))
    receiver = Receiver(SimpleNamespace(), peer, sink=SimpleNamespace(), lease_seconds=60, idle_sleep=0.1)  # type: ignore[arg-type]
    receiver.leases = _Leases()  # type: ignore[assignment]
    return receiver


async def test_a_fault_after_messages_were_taken_ends_the_round_with_them() -> None:
    """Found by the SMEV 3 run (10 % SMEVFailure): every round that drained a long queue ended in
    a fault, so the receiver backed off to its maximum pause with thousands of messages waiting."""
    receiver = _receiver([50, 50, ConnectionError("SMEVFailure")])
    assert await receiver._round() == 100


async def test_a_fault_before_anything_was_taken_still_raises() -> None:
    receiver = _receiver([ConnectionError("SMEVFailure")])
    with pytest.raises(ConnectionError):
        await receiver._round()
