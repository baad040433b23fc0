"""BackendGuard: the breaker opens after consecutive failures, probes once when half-open, and the concurrency
bound turns overload into an immediate 503 instead of an unbounded queue."""

from __future__ import annotations

import asyncio

import pytest

from app.adapters.mcp_client.guard import BackendGuard
from app.errors import BackendCircuitOpen, BackendRpcError, BackendSaturated, BackendTimeout, BackendUnreachable


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _fail(guard: BackendGuard, error: Exception) -> None:
    with pytest.raises(type(error)):
        async with guard.call():
            raise error


async def _succeed(guard: BackendGuard) -> None:
    async with guard.call():
        pass


async def test_circuit_opens_after_consecutive_failures_and_fails_fast() -> None:
    clock = Clock()
    guard = BackendGuard("elk", failure_threshold=3, open_seconds=10, clock=clock)
    for _ in range(2):
        await _fail(guard, BackendUnreachable("elk", "connection refused"))
    assert guard.state == "closed"
    await _fail(guard, BackendTimeout("elk", "no answer"))
    assert guard.state == "open"
    with pytest.raises(BackendCircuitOpen) as refused:
        await _succeed(guard)
    assert refused.value.status_code == 503
    assert "next attempt in 10.0s" in refused.value.message


async def test_answers_with_errors_do_not_open_the_circuit() -> None:
    guard = BackendGuard("elk", failure_threshold=2)
    for _ in range(5):
        await _fail(guard, BackendRpcError("elk", -32602, "bad arguments"))
        await _fail(guard, ValueError("the caller's own problem"))
    assert guard.state == "closed"
    assert guard.consecutive_failures == 0


async def test_a_success_resets_the_failure_count() -> None:
    guard = BackendGuard("elk", failure_threshold=3)
    await _fail(guard, BackendUnreachable("elk", "reset"))
    await _fail(guard, BackendUnreachable("elk", "reset"))
    await _succeed(guard)
    await _fail(guard, BackendUnreachable("elk", "reset"))
    assert guard.state == "closed"


async def test_half_open_lets_one_probe_through_and_closes_on_success() -> None:
    clock = Clock()
    guard = BackendGuard("elk", failure_threshold=1, open_seconds=5, clock=clock)
    await _fail(guard, BackendUnreachable("elk", "down"))
    clock.now += 5
    assert guard.state == "half_open"
    release = asyncio.Event()

    async def probe() -> None:
        async with guard.call():
            await release.wait()

    task = asyncio.create_task(probe())
    await asyncio.sleep(0)
    with pytest.raises(BackendCircuitOpen):  # only one probe at a time
        await _succeed(guard)
    release.set()
    await task
    assert guard.state == "closed"
    await _succeed(guard)


async def test_failed_probe_opens_the_circuit_again() -> None:
    clock = Clock()
    guard = BackendGuard("elk", failure_threshold=3, open_seconds=5, clock=clock)
    for _ in range(3):
        await _fail(guard, BackendUnreachable("elk", "down"))
    clock.now += 6
    await _fail(guard, BackendUnreachable("elk", "still down"))
    assert guard.state == "open"
    clock.now += 4
    assert guard.state == "open"
    clock.now += 1
    assert guard.state == "half_open"


async def test_cancelled_probe_lets_the_next_call_probe() -> None:
    clock = Clock()
    guard = BackendGuard("elk", failure_threshold=1, open_seconds=1, clock=clock)
    await _fail(guard, BackendUnreachable("elk", "down"))
    clock.now += 1

    async def hang() -> None:
        async with guard.call():
            await asyncio.sleep(60)

    task = asyncio.create_task(hang())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await _succeed(guard)
    assert guard.state == "closed"


async def test_overload_beyond_in_flight_and_queue_is_refused_at_once() -> None:
    guard = BackendGuard("elk", max_in_flight=2, max_waiting=1)
    gate = asyncio.Event()
    finished: list[int] = []

    async def work(i: int) -> None:
        async with guard.call():
            await gate.wait()
            finished.append(i)

    tasks = [asyncio.create_task(work(i)) for i in range(3)]  # 2 run, 1 waits
    await asyncio.sleep(0)
    assert guard.in_flight == 2
    with pytest.raises(BackendSaturated) as refused:
        await _succeed(guard)
    assert refused.value.status_code == 503
    gate.set()
    await asyncio.gather(*tasks)
    assert sorted(finished) == [0, 1, 2]
    assert guard.in_flight == 0
    await _succeed(guard)
