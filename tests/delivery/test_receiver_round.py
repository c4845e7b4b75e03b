"""The leased receiver's round (gateway/delivery/receiver.py), with a stub adapter and lease."""

from __future__ import annotations

import asyncio
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


class _Clocked:
    """An adapter whose queue is always empty, noting when it was polled."""

    def __init__(self) -> None:
        self.polled: list[float] = []

    async def receive(self, sink: Any) -> int:
        self.polled.append(asyncio.get_running_loop().time())
        return 0


async def test_an_empty_queue_backs_off_and_a_send_resets_the_pause() -> None:
    adapter = _Clocked()
    peer = SimpleNamespace(name="smev", adapter=adapter)
    receiver = Receiver(
        SimpleNamespace(), peer, sink=SimpleNamespace(), lease_seconds=60, idle_sleep=0.05, max_sleep=0.8
    )  # type: ignore[arg-type]
    receiver.leases = _Leases()  # type: ignore[assignment]
    task = asyncio.create_task(receiver.run())
    try:
        await asyncio.sleep(1.6)
        backed_off = len(adapter.polled)
        gaps = [b - a for a, b in zip(adapter.polled, adapter.polled[1:], strict=False)]
        # 0.1, 0.2, 0.4, 0.8, 0.8 ...: a handful of polls, not 1.6 / 0.05 = 32
        assert 3 <= backed_off <= 8, adapter.polled
        assert gaps[-1] > 2 * gaps[0]
        receiver.wake()  # a send to the peer: an answer may come soon
        woke_at = asyncio.get_running_loop().time()
        await asyncio.sleep(0.3)
        assert len(adapter.polled) > backed_off and adapter.polled[backed_off] - woke_at < 0.2
    finally:
        await receiver.stop()
        await asyncio.wait_for(task, 5)


def test_the_idle_pause_never_outlives_the_lease() -> None:
    peer = SimpleNamespace(name="smev", adapter=_Clocked())
    receiver = Receiver(SimpleNamespace(), peer, sink=SimpleNamespace(), lease_seconds=6, max_sleep=30)  # type: ignore[arg-type]
    assert receiver.max_sleep == 2


async def test_a_failing_peer_logs_one_line_not_a_traceback_per_round() -> None:
    """SMEVFailure bursts logged a full traceback every round: now one warning per change of
    error (with the count), then a line when the peer answers again."""
    from structlog.testing import capture_logs

    failing = [ConnectionError("SMEVFailure")] * 6
    receiver = _receiver([*failing, 1] + [0] * 50)  # type: ignore[list-item]
    receiver.idle_sleep = receiver.max_sleep = 0.01
    with capture_logs() as logs:
        task = asyncio.create_task(receiver.run())
        try:
            for _ in range(200):
                await asyncio.sleep(0.01)
                if len(receiver.adapter.script) < 40:  # type: ignore[attr-defined]
                    break
        finally:
            await receiver.stop()
            await asyncio.wait_for(task, 5)
    mine = [e for e in logs if e.get("peer") == "smev"]
    warnings = [e for e in mine if e["log_level"] == "warning"]
    assert len(warnings) == 1 and warnings[0]["error"] == "ConnectionError: SMEVFailure"
    assert not any(e.get("exc_info") for e in mine) and all(e["log_level"] != "error" for e in mine)
    assert [e["failures_before"] for e in mine if e["event"] == "receiver round succeeded again"] == [6]
