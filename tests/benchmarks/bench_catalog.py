"""``tools/list`` through ``/mcp`` on a catalog of 100 servers x 50 tools, served from the gateway's cache.

One backend process serves 100 MCP endpoints with 50 tools each (``echo`` and ``work`` on every server,
48 named per server: 4 802 distinct names, 5 000 tool entries). The gateway caches the lists
(``CATALOG_TTL_SECONDS=3600``, so no refresh happens during the run); once the whole catalog is listed,
the first page (100 tools) is timed at c=1 and c=10, and walking all pages once is timed as well. A
``tools/call`` of one server's own tool is timed at c=10 through the gateway and on that server directly:
routing a call must not cost more because a hundred other servers are registered.

Run: ``python -m tests.benchmarks.bench_catalog [--runs 3] [--duration 5] [--driver ...]``.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import httpx

from tests.benchmarks.load import Driver
from tests.benchmarks.processes import fleet_backend, gateway
from tests.benchmarks.runs import measure, median_run, modern_request, run_from_command_line

__all__ = ("SERVERS", "TOOLS", "run")

SERVERS = 100
TOOLS = 50
DISTINCT = 2 + SERVERS * (TOOLS - 2)
"""Names in the aggregated listing: the shared ``echo`` and ``work`` once, plus every server's own."""
CALLED = "s7_tool_0"
"""The tool called: server ``s7``'s own (one provider, so the call is routed, not broadcast)."""


def _list_all(client: httpx.Client, mcp_url: str) -> int:
    """Walk every page of ``tools/list``; returns how many tools it listed."""
    count, cursor = 0, None
    while True:
        request = modern_request(mcp_url, "tools/list", {"cursor": cursor} if cursor else {})
        response = client.post(mcp_url, content=request.body, headers=request.headers)
        response.raise_for_status()
        result = response.json()["result"]
        count += len(result["tools"])
        cursor = result.get("nextCursor")
        if not cursor:
            return count


def _wait_for_catalog(client: httpx.Client, mcp_url: str) -> None:
    deadline = time.monotonic() + 120
    while (listed := _list_all(client, mcp_url)) < DISTINCT:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the catalog lists {listed} tools, expected {DISTINCT}")
        time.sleep(0.2)


def run(*, runs: int, duration: float, driver: Driver) -> dict[str, Any]:
    """``{"first_page_c1": {...}, "first_page_c10": {...}, "call_c10_direct": {...}, "call_c10_gateway": {...},
    "all_pages_ms": ..., ...}``."""
    with (
        fleet_backend(SERVERS, tools=TOOLS) as urls,
        gateway({f"s{i}": url for i, url in enumerate(urls)}, {"CATALOG_TTL_SECONDS": "3600"}) as gw,
    ):
        mcp_url = f"{gw.url}/mcp"
        with httpx.Client(timeout=60) as client:
            _wait_for_catalog(client, mcp_url)
            walks = []
            for _ in range(5 * runs):
                started = time.perf_counter()
                _list_all(client, mcp_url)
                walks.append((time.perf_counter() - started) * 1000)
        first_page = modern_request(mcp_url, "tools/list", {})
        results: dict[str, Any] = {"servers": SERVERS, "tools_per_server": TOOLS, "distinct_tools": DISTINCT}
        for concurrency in (1, 10):
            rows = [
                measure(first_page, concurrency=concurrency, duration=duration, driver=driver, pid=gw.pid)
                for _ in range(runs)
            ]
            results[f"first_page_c{concurrency}"] = median_run(rows)
        params = {"name": CALLED, "arguments": {"text": "hi"}}
        for target, url, pid in (("direct", urls[7], None), ("gateway", mcp_url, gw.pid)):
            call = modern_request(url, "tools/call", params, name=CALLED)
            rows = [measure(call, concurrency=10, duration=duration, driver=driver, pid=pid) for _ in range(runs)]
            results[f"call_c10_{target}"] = median_run(rows)
        results["all_pages_ms"] = statistics.median(walks)
        results["pages"] = -(-DISTINCT // 100)
    return results


if __name__ == "__main__":
    run_from_command_line(run, __doc__.splitlines()[0])
