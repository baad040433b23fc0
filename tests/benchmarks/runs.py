"""One measured run (load + the gateway's CPU and memory during it), the requests it sends, and medians.

The requests are the three ways to call ``echo`` that the benchmarks compare: the backend directly and
the gateway's ``/mcp`` (both a stateless 2026-07-28 ``tools/call``), and ``POST /mcp/invoke``.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tests.benchmarks.load import Driver, choose_driver, run_load
from tests.benchmarks.processes import sample_resources

__all__ = (
    "META",
    "Request",
    "echo_call",
    "invoke_request",
    "measure",
    "median_run",
    "modern_request",
    "run_from_command_line",
)

META = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}
"""The ``_meta`` a stateless 2026-07-28 request carries in place of a handshake."""


@dataclass(frozen=True)
class Request:
    url: str
    body: bytes
    headers: dict[str, str]


def modern_request(url: str, method: str, params: Mapping[str, Any], name: str | None = None) -> Request:
    """A stateless 2026-07-28 JSON-RPC request (``Mcp-Method`` / ``Mcp-Name`` headers, ``_meta`` in params)."""
    headers = {
        "accept": "application/json, text/event-stream",
        "content-type": "application/json",
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": method,
    }
    if name is not None:
        headers["mcp-name"] = name
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": {**params, "_meta": META}}
    return Request(url, json.dumps(body).encode(), headers)


def echo_call(url: str) -> Request:
    """``tools/call echo`` as a modern request to ``url`` (a backend's or the gateway's MCP endpoint)."""
    return modern_request(url, "tools/call", {"name": "echo", "arguments": {"text": "hi"}}, name="echo")


def invoke_request(gateway_url: str, server: str, headers: Mapping[str, str] | None = None) -> Request:
    """``POST /mcp/invoke?mcp_server=<server>`` running ``echo``."""
    body = json.dumps({"tool_name": "echo", "parameters": {"text": "hi"}}).encode()
    return Request(
        f"{gateway_url}/mcp/invoke?mcp_server={server}", body, {"content-type": "application/json", **(headers or {})}
    )


def measure(
    request: Request, *, concurrency: int, duration: float, driver: Driver, pid: int | None = None
) -> dict[str, Any]:
    """Warm up, then one timed run; with ``pid``, also that process's CPU per call and peak RSS."""
    run_load(request.url, request.body, request.headers, concurrency=concurrency, duration=1, driver=driver)
    if pid is None:
        result = run_load(
            request.url, request.body, request.headers, concurrency=concurrency, duration=duration, driver=driver
        )
        return result.as_dict()
    with sample_resources(pid) as usage:
        result = run_load(
            request.url, request.body, request.headers, concurrency=concurrency, duration=duration, driver=driver
        )
    row = result.as_dict()
    row["cpu_us_per_call"] = usage.cpu_seconds / max(1, result.requests) * 1e6
    row["peak_rss_mb"] = usage.peak_rss_mb
    return row


def median_run(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The per-field median of several runs (peak RSS and errors: the largest)."""
    merged: dict[str, Any] = dict(runs[0])
    for key, value in runs[0].items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            values = [run[key] for run in runs]
            merged[key] = max(values) if key in {"peak_rss_mb", "errors"} else statistics.median(values)
    merged["runs"] = len(runs)
    return merged


def run_from_command_line(run: Callable[..., dict[str, Any]], description: str) -> None:
    """``python -m tests.benchmarks.<scenario> [--runs N] [--duration S] [--driver D]``: print its results as JSON."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--driver", default="auto", choices=("auto", "wrk", "python"))
    args = parser.parse_args()
    print(json.dumps(run(runs=args.runs, duration=args.duration, driver=choose_driver(args.driver)), indent=2))
