"""Latency and throughput of one tool call at c=1, 10 and 50: the backend directly, ``/mcp`` and ``/mcp/invoke``.

One backend process (SDK, stateless JSON, ``echo``), one gateway process (no audit sinks, no auth), and the
bare hop of ``bare_hop.py`` in front of the same backend (what forwarding alone costs on this stack).
Each run measures the three targets back to back at each concurrency; the reported figure is the median
of ``runs`` runs, with the CPU time per call and peak RSS of the process answering (for ``direct``, the
backend's own: the yardstick for the gateway's CPU per call on a machine slower or faster than the
reference one).

Run: ``python -m tests.benchmarks.bench_latency [--runs 3] [--duration 5] [--driver auto|wrk|python]``.
"""

from __future__ import annotations

from typing import Any

import psutil

from tests.benchmarks.load import Driver
from tests.benchmarks.processes import bare_hop, echo_backend, gateway
from tests.benchmarks.runs import echo_call, invoke_request, measure, median_run, run_from_command_line

__all__ = ("CONCURRENCY", "TARGETS", "run")

CONCURRENCY = (1, 10, 50)
TARGETS = ("direct", "hop", "mcp", "invoke")
"""``direct``: the backend's own endpoint; ``hop``: the bare hop; ``mcp``: the gateway's ``/mcp``; ``invoke``:
``POST /mcp/invoke``."""


def run(*, runs: int, duration: float, driver: Driver) -> dict[str, Any]:
    """``{"c1": {"direct": {...}, "mcp": {...}, "invoke": {...}}, "c10": ..., "c50": ..., "gateway_idle_rss_mb": x}``;
    the idle RSS is taken after start-up, before the first request."""
    with echo_backend() as backend, gateway({"echo": backend.url}) as gw, bare_hop(backend.url) as hop:
        requests = {
            "direct": echo_call(backend.url),
            "hop": echo_call(hop.url),
            "mcp": echo_call(f"{gw.url}/mcp"),
            "invoke": invoke_request(gw.url, "echo"),
        }
        idle_rss_mb = psutil.Process(gw.pid).memory_info().rss / 2**20
        samples: dict[str, dict[str, list[dict[str, Any]]]] = {f"c{c}": {t: [] for t in TARGETS} for c in CONCURRENCY}
        for _ in range(runs):
            for concurrency in CONCURRENCY:
                for target in TARGETS:
                    pid = {"direct": backend.pid, "hop": hop.pid}.get(target, gw.pid)
                    row = measure(requests[target], concurrency=concurrency, duration=duration, driver=driver, pid=pid)
                    samples[f"c{concurrency}"][target].append(row)
    results: dict[str, Any] = {c: {t: median_run(rows) for t, rows in by_t.items()} for c, by_t in samples.items()}
    results["gateway_idle_rss_mb"] = idle_rss_mb
    return results


if __name__ == "__main__":
    run_from_command_line(run, __doc__.splitlines()[0])
