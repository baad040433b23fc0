"""Soak: thousands of calls through a real gateway process leave memory flat and leak no tasks or connections.

Bounded to well under a minute: a warm-up, then three rounds of load, each followed by a quiet moment in
which the gateway's RSS (psutil), its event-loop task count (``/metrics``) and its open TCP connections are
read. A leak shows as growth from round to round; a bounded pool shows as a flat line.
"""

from __future__ import annotations

import asyncio
import re
import time

import httpx
import psutil
import pytest

from tests.benchmarks.processes import echo_backend, gateway

pytestmark = pytest.mark.slow

MODERN = {
    "content-type": "application/json",
    "accept": "application/json, text/event-stream",
    "mcp-protocol-version": "2026-07-28",
    "mcp-method": "tools/call",
    "mcp-name": "echo",
}
META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientInfo": {"name": "soak", "version": "1"},
    "io.modelcontextprotocol/clientCapabilities": {},
}


async def _round(base: str, calls: int, concurrency: int = 20) -> int:
    """``calls`` tool calls, alternating ``/mcp`` and ``/mcp/invoke``; returns how many failed."""
    failures = 0
    counter = iter(range(calls))

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal failures
        for i in counter:
            if i % 2:
                body = {
                    "jsonrpc": "2.0",
                    "id": i,
                    "method": "tools/call",
                    "params": {"name": "echo", "arguments": {"text": "x"}, "_meta": META},
                }
                response = await client.post("/mcp", json=body, headers=MODERN)
                ok = response.status_code == 200 and "result" in response.json()
            else:
                response = await client.post(
                    "/mcp/invoke",
                    params={"mcp_server": "echo"},
                    json={"tool_name": "echo", "parameters": {"text": "x"}},
                )
                ok = response.status_code == 200
            failures += not ok

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return failures


def _state(base: str, process: psutil.Process) -> tuple[float, int, int]:
    time.sleep(0.5)  # let keep-alive timers and finished tasks settle
    tasks = re.search(r"^mcp_gateway_event_loop_tasks (\S+)$", httpx.get(f"{base}/metrics").text, re.MULTILINE)
    assert tasks is not None
    connections = len([c for c in process.net_connections(kind="tcp") if c.status == psutil.CONN_ESTABLISHED])
    return process.memory_info().rss / 2**20, int(float(tasks.group(1))), connections


def test_memory_tasks_and_connections_stay_flat_under_sustained_load() -> None:
    with echo_backend() as backend, gateway({"echo": backend.url}) as gw:
        process = psutil.Process(gw.pid)
        assert asyncio.run(_round(gw.url, 1500)) == 0  # warm-up: caches, pools, lazy imports
        baseline = _state(gw.url, process)
        states = []
        for _ in range(3):
            assert asyncio.run(_round(gw.url, 3000)) == 0
            states.append(_state(gw.url, process))
    rss = [s[0] for s in states]
    tasks = [s[1] for s in states]
    connections = [s[2] for s in states]
    assert rss[-1] - baseline[0] < 12, f"RSS grew from {baseline[0]:.1f} MB to {rss} MB"
    assert rss[-1] - rss[0] < 6, f"RSS kept growing across rounds: {rss} MB"
    assert max(tasks) <= baseline[1] + 5, f"event-loop tasks {baseline[1]} -> {tasks}"
    assert max(connections) <= baseline[2] + 5, f"open connections {baseline[2]} -> {connections}"
