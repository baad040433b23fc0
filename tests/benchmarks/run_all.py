"""The gateway's performance suite: every scenario, target verdicts, tables, JSON and plots.

Scenarios (each in its own module, each runnable alone): ``latency`` (one call at c=1/10/50, directly,
via ``/mcp`` and via ``/mcp/invoke``), ``overheads`` (auth and audit on/off at c=10), ``broadcast``
(fan-out to N servers, a slow leg) and ``catalog`` (cached ``tools/list`` of 100 x 50 tools). All figures
are ratios against the direct backend call measured in the same run; absolute numbers depend on the machine.

Run: ``just bench`` (full: medians of 3 runs of 5 s; writes ``tests/benchmarks/results/``) or
``just bench-quick`` (1 run of 2 s; writes to a temporary directory unless ``--results-dir`` is given).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.benchmarks import bench_broadcast, bench_catalog, bench_latency, bench_overheads
from tests.benchmarks.load import choose_driver
from tests.benchmarks.processes import gateway_install
from tests.benchmarks.report import evaluate, markdown, plot

SCENARIOS = ("latency", "overheads", "broadcast", "catalog")
RESULTS = Path(__file__).with_name("results")


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], capture_output=True, text=True, check=False).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one short run per figure (a smoke run, ~1.5 min)")
    parser.add_argument("--runs", type=int, help="runs per figure, the median is reported (default 3, quick 1)")
    parser.add_argument("--duration", type=float, help="seconds per timed run (default 5, quick 2)")
    parser.add_argument("--driver", default="auto", choices=("auto", "wrk", "python"), help="load generator")
    parser.add_argument("--only", nargs="+", choices=SCENARIOS, default=list(SCENARIOS), help="scenarios to run")
    parser.add_argument("--results-dir", type=Path, help=f"where latest.json and the plots go (default {RESULTS})")
    args = parser.parse_args()
    runs = args.runs or (1 if args.quick else 3)
    duration = args.duration or (2.0 if args.quick else 5.0)
    repeats = 10 if args.quick else 30
    directory = args.results_dir or (Path(tempfile.mkdtemp(prefix="mcp-gateway-bench-")) if args.quick else RESULTS)
    directory.mkdir(parents=True, exist_ok=True)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    driver = choose_driver(args.driver)

    started = time.monotonic()
    results: dict[str, Any] = {
        "meta": {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "git_commit": _git("rev-parse", "--short", "HEAD"),
            "git_dirty": bool(_git("status", "--porcelain", "--", "app")),
            "driver": driver,
            "gateway_install": gateway_install(),
            "cpus": os.cpu_count(),
            "machine": f"{platform.system()} {platform.machine()}, Python {platform.python_version()}",
            "runs": runs,
            "duration_s": duration,
            "broadcast_repeats": repeats,
            "quick": args.quick,
        }
    }
    for scenario in args.only:
        print(f"… {scenario}", flush=True)
        if scenario == "latency":
            results["latency"] = bench_latency.run(runs=runs, duration=duration, driver=driver)
        elif scenario == "overheads":
            results["overheads"] = bench_overheads.run(runs=runs, duration=duration, driver=driver)
        elif scenario == "broadcast":
            results["broadcast"] = bench_broadcast.run(repeats=repeats, duration=duration, driver=driver)
        else:
            results["catalog"] = bench_catalog.run(runs=runs, duration=duration, driver=driver)
    results["targets"] = evaluate(results)
    results["meta"]["wall_s"] = round(time.monotonic() - started, 1)

    (directory / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    plots = plot(results, directory)
    print()
    print(markdown(results))
    print(f"Results: {directory / 'latest.json'}; plots: {', '.join(str(p) for p in plots)}")
    print(f"Suite took {results['meta']['wall_s']} s.")


if __name__ == "__main__":
    main()
