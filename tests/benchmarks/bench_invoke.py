"""Gateway overhead of one tool call: ``POST /mcp/invoke`` vs calling the backend directly.

Starts a real backend process (SDK, stateless JSON, ``echo``) and a real gateway process
(``mcp-gateway serve``), then drives both with the same async httpx load generator and prints
p50/p95/p99, requests per second and the ratios. Numbers on shared machines are noisy: read the
ratios, which are measured side by side in one run.

Run: ``just bench`` or ``python -m tests.benchmarks.bench_invoke [--requests N] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

GATEWAY = str(Path(sys.executable).with_name("mcp-gateway"))
MODERN_HEADERS = {
    "accept": "application/json, text/event-stream",
    "content-type": "application/json",
    "mcp-protocol-version": "2026-07-28",
    "mcp-method": "tools/call",
    "mcp-name": "echo",
}
META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: process exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


async def measure(
    call: Callable[[httpx.AsyncClient], Awaitable[None]], requests: int, concurrency: int
) -> dict[str, float]:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        for _ in range(min(50, requests)):  # warm-up: connections, sessions, caches
            await call(client)
        remaining = requests

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                await call(client)
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    quantile = statistics.quantiles(latencies, n=100)
    return {
        "p50_ms": quantile[49] * 1000,
        "p95_ms": quantile[94] * 1000,
        "p99_ms": quantile[98] * 1000,
        "rps": len(latencies) / elapsed,
    }


async def measure_all(backend_url: str, gateway_url: str, requests: int) -> dict[str, Any]:
    async def direct(client: httpx.AsyncClient) -> None:
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "echo", "arguments": {"text": "hi"}, "_meta": META},
        }
        response = await client.post(backend_url, json=body, headers=MODERN_HEADERS)
        assert response.status_code == 200, response.text

    async def via_gateway(client: httpx.AsyncClient) -> None:
        response = await client.post(
            f"{gateway_url}/mcp/invoke",
            params={"mcp_server": "echo"},
            json={"tool_name": "echo", "parameters": {"text": "hi"}},
        )
        assert response.status_code == 200, response.text

    results: dict[str, Any] = {}
    for concurrency in (1, 10):
        results[f"direct_c{concurrency}"] = await measure(direct, requests, concurrency)
        results[f"gateway_c{concurrency}"] = await measure(via_gateway, requests, concurrency)
    return results


def run(requests: int) -> dict[str, Any]:
    """Start the backend and the gateway as processes, measure both, stop them."""
    backend_port, gateway_port = free_port(), free_port()
    workdir = Path(tempfile.mkdtemp(prefix="mcp-gateway-bench-"))
    backend_url = f"http://127.0.0.1:{backend_port}/mcp"
    gateway_url = f"http://127.0.0.1:{gateway_port}"
    (workdir / "mcp_servers.yaml").write_text(f"servers:\n  echo:\n    url: {backend_url}\n    timeout: 30\n")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{workdir / 'gw.db'}", "AUDIT_LOG_FILE": "", "LOG_LEVEL": "WARNING"}
    backend = subprocess.Popen([sys.executable, "-m", "tests.benchmarks.echo_backend", str(backend_port)])
    gateway = subprocess.Popen([GATEWAY, "serve", "--port", str(gateway_port), "--no-access-log"], cwd=workdir, env=env)
    try:
        wait_until_up(f"http://127.0.0.1:{backend_port}/", backend)
        wait_until_up(f"{gateway_url}/health", gateway)
        return asyncio.run(measure_all(backend_url, gateway_url, requests))
    finally:
        for process in (gateway, backend):
            process.terminate()
            process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    results = run(args.requests)
    print(f"{'target':<14} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'rps':>8}")
    for name, row in results.items():
        print(f"{name:<14} {row['p50_ms']:8.2f} {row['p95_ms']:8.2f} {row['p99_ms']:8.2f} {row['rps']:8.0f}")
    for c in (1, 10):
        direct, gateway = results[f"direct_c{c}"], results[f"gateway_c{c}"]
        print(
            f"c={c}: gateway p50 = {gateway['p50_ms'] / direct['p50_ms']:.2f}x direct, "
            f"throughput = {gateway['rps'] / direct['rps']:.0%} of direct"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
