"""The load generator: ``wrk`` when installed, else a Python asyncio driver in its own process.

Both drive one URL with one POST body at a fixed concurrency for a fixed time and report the same
:class:`LoadResult`. ``wrk`` runs a generated Lua script (body, headers, and a ``done`` hook that prints
the latency percentiles as JSON). The Python driver (httpx, uvloop when available) runs as a separate
process so it never shares an event loop with what it measures:
``python -m tests.benchmarks.load URL --body-file F --header 'k: v' --concurrency C --duration S``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import httpx

__all__ = ("Driver", "LoadResult", "choose_driver", "run_load")

Driver = Literal["wrk", "python"]

_WRK_SCRIPT = """\
local f = assert(io.open({body_path!r}, "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
{headers}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\nRESULT {{"requests":%d,"duration_us":%d,"errors":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d}}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


@dataclass(frozen=True)
class LoadResult:
    """One timed run at one concurrency."""

    driver: Driver
    concurrency: int
    duration_s: float
    requests: int
    errors: int
    """Failed requests: non-2xx answers, connection errors, timeouts."""
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def choose_driver(requested: str = "auto") -> Driver:
    """``wrk`` if asked for or found on PATH (``auto``), else ``python``."""
    if requested == "python":
        return "python"
    if shutil.which("wrk"):
        return "wrk"
    if requested == "wrk":
        raise RuntimeError("wrk is not installed (apt-get install wrk), use --driver python")
    return "python"


def run_load(
    url: str, body: bytes, headers: dict[str, str], *, concurrency: int, duration: float, driver: Driver
) -> LoadResult:
    """POST ``body`` to ``url`` from ``concurrency`` connections for ``duration`` seconds."""
    with tempfile.TemporaryDirectory(prefix="mcp-gateway-load-") as tmp:
        body_path = Path(tmp) / "body.json"
        body_path.write_bytes(body)
        if driver == "wrk":
            return _run_wrk(url, body_path, headers, concurrency, duration, Path(tmp))
        return _run_python(url, body_path, headers, concurrency, duration)


def _run_wrk(
    url: str, body_path: Path, headers: dict[str, str], concurrency: int, duration: float, tmp: Path
) -> LoadResult:
    lines = "\n".join(f"wrk.headers[{k!r}] = {v!r}" for k, v in headers.items())
    script = tmp / "post.lua"
    script.write_text(_WRK_SCRIPT.format(body_path=str(body_path), headers=lines))
    # One thread: the machine's cores belong to the processes being measured.
    command = ["wrk", "-t1", f"-c{concurrency}", f"-d{max(1, round(duration))}s", "--latency", "--timeout", "30s"]
    output = subprocess.run([*command, "-s", str(script), url], capture_output=True, text=True, check=True).stdout
    line = next((x for x in output.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{output}")
    raw = json.loads(line.removeprefix("RESULT "))
    seconds = raw["duration_us"] / 1e6
    return LoadResult(
        driver="wrk",
        concurrency=concurrency,
        duration_s=seconds,
        requests=raw["requests"],
        errors=raw["errors"],
        rps=raw["requests"] / seconds,
        p50_ms=raw["p50_us"] / 1000,
        p95_ms=raw["p95_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
    )


def _run_python(url: str, body_path: Path, headers: dict[str, str], concurrency: int, duration: float) -> LoadResult:
    command = [sys.executable, "-m", "tests.benchmarks.load", url, "--body-file", str(body_path)]
    command += [f"--header={k}: {v}" for k, v in headers.items()]
    command += ["--concurrency", str(concurrency), "--duration", str(duration)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return LoadResult(**json.loads(output.strip().splitlines()[-1]))


async def _drive(url: str, body: bytes, headers: dict[str, str], concurrency: int, duration: float) -> LoadResult:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker(deadline: float) -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    response = await client.post(url, content=body, headers=headers)
                    ok = response.is_success
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - started)
                errors += not ok

        started = time.perf_counter()
        await asyncio.gather(*(worker(started + duration) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()

    def at(fraction: float) -> float:
        return latencies[min(len(latencies) - 1, int(len(latencies) * fraction))] * 1000

    return LoadResult(
        driver="python",
        concurrency=concurrency,
        duration_s=elapsed,
        requests=len(latencies),
        errors=errors,
        rps=len(latencies) / elapsed,
        p50_ms=at(0.50),
        p95_ms=at(0.95),
        p99_ms=at(0.99),
        max_ms=latencies[-1] * 1000,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Python load driver (the fallback when wrk is missing).")
    parser.add_argument("url")
    parser.add_argument("--body-file", type=Path, required=True)
    parser.add_argument("--header", action="append", default=[], help="'name: value', repeatable")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--duration", type=float, default=5.0)
    args = parser.parse_args()
    headers = dict(h.split(": ", 1) for h in args.header)
    try:
        import uvloop

        loop_factory = uvloop.new_event_loop
    except ImportError:
        loop_factory = None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        result = runner.run(_drive(args.url, args.body_file.read_bytes(), headers, args.concurrency, args.duration))
    print(json.dumps(result.as_dict()))


if __name__ == "__main__":
    main()
