"""Where the gateway spends its time during the c=10 ``POST /mcp/invoke`` run: the top functions by own time.

The gateway runs under ``profiled_gateway.py`` (pyinstrument, sampling every 0.5 ms, only while the load
runs). Prints the top functions by own time (time in the function itself, not its callees) as a share
of the profiled wall time, then own time summed per library; writes that (``.summary.txt``) and the
full call tree (``.txt``) next to ``--out``. Sampling attributes time spent waiting in C (the event
loop's poll) to the next Python frame, so a share of idle time lands on socket ``send``/``recv`` frames.

Run: ``python -m tests.benchmarks.profile_gateway [--target invoke|mcp] [--duration 10] [--top 10]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.benchmarks.bench_overheads import AUDIT_ON, auth_settings
from tests.benchmarks.load import choose_driver, run_load
from tests.benchmarks.processes import echo_backend, gateway
from tests.benchmarks.runs import echo_call, invoke_request
from tests.identity_provider import run_identity_provider

ROOT = Path(__file__).resolve().parents[2]


def _wait_for(path: Path) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"the profiler wrote no {path}")
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=("invoke", "mcp"), default="invoke")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--driver", default="auto", choices=("auto", "wrk", "python"))
    parser.add_argument("--auth", action="store_true", help="authentication on (RS256 JWTs, cached JWKS)")
    parser.add_argument("--audit", action="store_true", help="audit file and database sinks on")
    parser.add_argument("--out", type=Path, default=Path(tempfile.mkdtemp(prefix="mcp-gateway-profile-")) / "profile")
    args = parser.parse_args()
    driver = choose_driver(args.driver)
    settings = {"PYTHONPATH": str(ROOT), "PROFILE_OUTPUT": str(args.out), **(AUDIT_ON if args.audit else {})}
    launcher = (sys.executable, "-m", "tests.benchmarks.profiled_gateway")
    with contextlib.ExitStack() as stack:
        headers: dict[str, str] = {}
        if args.auth:
            auth, headers = auth_settings(stack.enter_context(run_identity_provider()))
            settings.update(auth)
        backend = stack.enter_context(echo_backend())
        gw = stack.enter_context(gateway({"echo": backend.url}, settings, launcher=launcher))
        if args.target == "invoke":
            request = invoke_request(gw.url, "echo", headers)
        else:
            request = echo_call(f"{gw.url}/mcp")
            request.headers.update(headers)
        load = {"concurrency": args.concurrency, "driver": driver}
        run_load(request.url, request.body, request.headers, duration=1, **load)  # warm-up, not profiled
        os.kill(gw.pid, signal.SIGUSR1)
        result = run_load(request.url, request.body, request.headers, duration=args.duration, **load)
        os.kill(gw.pid, signal.SIGUSR2)
        _wait_for(args.out.with_suffix(".txt"))
    profile = json.loads(args.out.with_suffix(".json").read_text())
    summary = _summary(profile, args.top)
    variant = f"auth {'on' if args.auth else 'off'}, audit {'on' if args.audit else 'off'}"
    header = f"{args.target} at c={args.concurrency} ({variant}): {result.requests} calls in {result.duration_s:.1f} s"
    text = f"{header}\n{summary}"
    args.out.with_suffix(".summary.txt").write_text(text)
    print(text)
    print(f"Call tree: {args.out.with_suffix('.txt')}")


def _summary(profile: dict[str, Any], top: int) -> str:
    """Top functions by own time, then own time summed per library (first path component)."""
    wall = profile["duration_s"]
    lines = [f"{'own time':>9} {'share':>6}  function"]
    lines += [f"{s:8.2f}s {s / wall:6.1%}  {name}" for name, s in list(profile["own_s"].items())[:top]]
    libraries: Counter[str] = Counter()
    for name, seconds in profile["own_s"].items():
        libraries[name.rsplit("(", 1)[1].split("/", 1)[0].split(":", 1)[0]] += seconds
    lines += ["", f"{'own time':>9} {'share':>6}  library"]
    lines += [f"{s:8.2f}s {s / wall:6.1%}  {name}" for name, s in libraries.most_common(12)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
