"""``mcp-gateway`` under a sampling profiler that records only between two signals.

SIGUSR1 starts pyinstrument in the gateway's main thread (where the event loop runs); SIGUSR2 stops it
and writes the own time of every function (JSON) and pyinstrument's call tree (text) next to
``PROFILE_OUTPUT``. Start-up and shutdown are left out. Used by ``profile_gateway.py``.

Run: ``PROFILE_OUTPUT=/tmp/gw python -m tests.benchmarks.profiled_gateway serve --port 8000``.
"""

from __future__ import annotations

import json
import os
import signal
from collections import defaultdict
from pathlib import Path
from typing import Any

from pyinstrument import Profiler

from app.__main__ import main

__all__ = ("own_times",)


def own_times(frame: Any, totals: dict[str, float] | None = None) -> dict[str, float]:
    """Seconds spent in each function itself (not in its callees), keyed ``function (file:line)``."""
    totals = defaultdict(float) if totals is None else totals
    if not frame.is_synthetic:
        key = f"{frame.function} ({frame.file_path_short}:{frame.line_no})"
        totals[key] += frame.time - sum(child.time for child in frame.children if not child.is_synthetic)
    for child in frame.children:
        own_times(child, totals)
    return totals


def _install(output: Path) -> None:
    profiler = Profiler(interval=0.0005, async_mode="disabled")

    def start(*_: object) -> None:
        profiler.start()

    def stop(*_: object) -> None:
        session = profiler.stop()
        root = session.root_frame(trim_stem=False)
        totals = own_times(root) if root is not None else {}
        output.with_suffix(".json").write_text(
            json.dumps({"duration_s": session.duration, "own_s": dict(sorted(totals.items(), key=lambda i: -i[1]))})
        )
        output.with_suffix(".txt").write_text(profiler.output_text(unicode=True, color=False, show_all=False))

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)


if __name__ == "__main__":
    _install(Path(os.environ["PROFILE_OUTPUT"]))
    main()
