"""Turn the suite's results into target verdicts, markdown tables and two PNG plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ("evaluate", "markdown", "plot")

SLOW_LEG_RATIO = 1.25
"""A plain call's p50 while a 2 s broadcast leg is in flight may be at most this much above its quiet p50."""
_NAMES = {
    "direct": "backend directly",
    "hop": "bare hop (yardstick)",
    "mcp": "gateway `/mcp`",
    "invoke": "`POST /mcp/invoke`",
}


def _target(name: str, goal: str, measured: str, met: bool) -> dict[str, Any]:
    return {"target": name, "goal": goal, "measured": measured, "met": met}


def _levels(latency: dict[str, Any]) -> dict[str, Any]:
    """The per-concurrency part of the latency results (``c1``, ``c10``, …)."""
    return {key: value for key, value in latency.items() if key.startswith("c")}


def evaluate(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One verdict per performance target, from whichever scenarios ran."""
    targets: list[dict[str, Any]] = []
    latency = _levels(results.get("latency") or {})
    if latency:
        for kind in ("mcp", "invoke"):
            ratio = latency["c1"][kind]["p50_ms"] / latency["c1"]["direct"]["p50_ms"]
            targets.append(_target(f"{_NAMES[kind]} p50 at c=1", "≤ 2x direct", f"{ratio:.2f}x", ratio <= 2))
        for c in (10, 50):
            for kind in ("mcp", "invoke"):
                share = latency[f"c{c}"][kind]["rps"] / latency[f"c{c}"]["direct"]["rps"]
                targets.append(
                    _target(f"{_NAMES[kind]} throughput at c={c}", "≥ 50 % of direct", f"{share:.0%}", share >= 0.5)
                )
        for kind in ("mcp", "invoke"):
            targets.append(_cpu_target(latency, kind))
        tails = [(latency[c][k]["p99_ms"] / latency[c][k]["p50_ms"], c, k) for c in latency for k in ("mcp", "invoke")]
        worst, c, kind = max(tails)
        # The backend's own tail passes through the gateway: its direct p99 / p50 at the same level says how much.
        direct = latency[c]["direct"]["p99_ms"] / latency[c]["direct"]["p50_ms"]
        measured = f"{worst:.1f} (worst: {_NAMES[kind]} {c}; the backend called directly: {direct:.1f})"
        targets.append(_target("p99 / p50 through the gateway", "≤ 5", measured, worst <= 5))
        rss = max(latency[c][k]["peak_rss_mb"] for c in latency for k in ("mcp", "invoke"))
        idle = results["latency"]["gateway_idle_rss_mb"]
        measured = f"{rss:.0f} MB ({idle:.0f} MB idle before the first request)"
        targets.append(_target("gateway peak RSS under load", "≤ 120 MB", measured, rss <= 120))
    broadcast = results.get("broadcast")
    if broadcast:
        for row in broadcast["fan_out"]:
            targets.append(
                _target(
                    f"broadcast to N={row['servers']}",
                    f"≤ slowest leg + 2 ms + 0.2 ms·N = {row['allowed_ms']:.1f} ms",
                    f"{row['broadcast_ms']:.1f} ms (slowest leg {row['slowest_leg_ms']:.1f} ms)",
                    row["met"],
                )
            )
        slow = broadcast["slow_leg"]
        during, quiet = slow["plain_p50_during_slow_broadcast_ms"], slow["plain_p50_ms"]
        targets.append(
            _target(
                "plain call p50 while a 2 s leg is in flight",
                f"≤ {SLOW_LEG_RATIO}x quiet p50",
                f"{slow['ratio']:.2f}x ({during:.2f} vs {quiet:.2f} ms)",
                slow["ratio"] <= SLOW_LEG_RATIO,
            )
        )
    catalog = results.get("catalog")
    if catalog:
        p50 = catalog["first_page_c1"]["p50_ms"]
        targets.append(_target("`tools/list` (100 x 50 catalog, cached) p50", "≤ 5 ms", f"{p50:.2f} ms", p50 <= 5))
        if "call_c10_gateway" in catalog:
            share = catalog["call_c10_gateway"]["rps"] / catalog["call_c10_direct"]["rps"]
            targets.append(
                _target("`tools/call` on the 100 x 50 catalog, c=10", "≥ 50 % of direct", f"{share:.0%}", share >= 0.5)
            )
    overheads = results.get("overheads")
    if overheads:
        base = overheads["auth off, audit off"]
        for variant in ("auth on, audit off", "auth off, audit on", "auth on, audit on"):
            row = overheads[variant]
            slower = base["rps"] / row["rps"] - 1
            later = row["p50_ms"] / base["p50_ms"] - 1
            cpu = row["cpu_us_per_call"] - base["cpu_us_per_call"]
            targets.append(
                _target(
                    f"{variant} at c=10",
                    "≤ +15 % (throughput and p50)",
                    f"time per call {slower:+.0%} (from req/s), p50 {later:+.0%}; CPU {cpu:+.0f} µs/call",
                    slower <= 0.15 and later <= 0.15,
                )
            )
    failed = sum(_errors(results.get(name)) for name in ("latency", "overheads", "catalog"))
    targets.append(_target("failed requests under load", "0", str(failed), failed == 0))
    return targets


def _cpu_target(latency: dict[str, Any], kind: str) -> dict[str, Any]:
    """Gateway CPU per call at the worst concurrency, against the backend's own CPU per call at the same one.

    The goal's 450 µs is what the direct call costs the backend on the reference machine; on a slower or
    faster machine the same goal is "no more CPU than the backend spends answering the call itself"."""
    worst = max((10, 50, 1), key=lambda c: latency[f"c{c}"][kind]["cpu_us_per_call"])
    cpu = latency[f"c{worst}"][kind]["cpu_us_per_call"]
    backend = latency[f"c{worst}"]["direct"].get("cpu_us_per_call")
    if not backend:  # results of a run that did not measure the backend
        return _target(f"gateway CPU per call, {_NAMES[kind]}", "≤ 450 µs", f"{cpu:.0f} µs (c={worst})", cpu <= 450)
    ratio = cpu / backend
    measured = f"{cpu:.0f} µs at c={worst} = {ratio:.2f}x the backend's {backend:.0f} µs"
    goal = "≤ 450 µs = 1x the backend's own CPU per call"
    return _target(f"gateway CPU per call, {_NAMES[kind]}", goal, measured, cpu <= 450 or ratio <= 1)


def _errors(node: Any) -> int:
    """Failed requests counted anywhere in one scenario's results."""
    if isinstance(node, dict):
        return int(node.get("errors", 0)) + sum(_errors(v) for v in node.values() if isinstance(v, dict))
    return 0


def _latency_table(latency: dict[str, Any]) -> list[str]:
    lines = [
        "| target | c | p50 ms | p95 ms | p99 ms | req/s | p50 vs direct | req/s vs direct "
        "| CPU µs/call | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c, by_target in latency.items():
        direct = by_target["direct"]
        for kind, row in by_target.items():
            versus = (
                ("", "")
                if kind == "direct"
                else (f"{row['p50_ms'] / direct['p50_ms']:.2f}x", f"{row['rps'] / direct['rps']:.0%}")
            ) + (
                f"{row['cpu_us_per_call']:.0f}" if "cpu_us_per_call" in row else "-",
                f"{row['peak_rss_mb']:.0f}" if "peak_rss_mb" in row else "-",
            )
            lines.append(
                f"| {_NAMES[kind]} | {c.removeprefix('c')} | {row['p50_ms']:.2f} | {row['p95_ms']:.2f} | "
                f"{row['p99_ms']:.2f} | {row['rps']:.0f} | {' | '.join(versus)} |"
            )
    return lines


def markdown(results: dict[str, Any]) -> str:
    """Every table of the run (the README shows the same text)."""
    out: list[str] = []
    meta = results["meta"]
    dirty = " (+ uncommitted changes)" if meta["git_dirty"] else ""
    out.append(
        f"Load generator: {meta['driver']}; {meta['cpus']} CPUs; {meta['runs']} run(s) of {meta['duration_s']} s "
        f"per figure (median); gateway at {meta['git_commit']}{dirty}"
        f"{', installed from ' + meta['gateway_install'] if 'gateway_install' in meta else ''}."
    )
    if latency := results.get("latency"):
        out += ["", "**One `echo` call** (no audit sinks, no auth):", "", *_latency_table(_levels(latency))]
    if broadcast := results.get("broadcast"):
        out += [
            "",
            "**Broadcast** (`POST /mcp/invoke-broadcast`, `echo` on N servers of one backend process):",
            "",
            "| N | broadcast ms | slowest leg ms | allowed ms | met |",
            "|---|---|---|---|---|",
        ]
        out += [
            f"| {r['servers']} | {r['broadcast_ms']:.1f} | {r['slowest_leg_ms']:.1f} | {r['allowed_ms']:.1f} | "
            f"{'yes' if r['met'] else 'no'} |"
            for r in broadcast["fan_out"]
        ]
        slow = broadcast["slow_leg"]
        out += [
            "",
            f"Plain `/mcp/invoke` at c=1: p50 {slow['plain_p50_ms']:.2f} ms quiet, "
            f"{slow['plain_p50_during_slow_broadcast_ms']:.2f} ms while a broadcast with a 2 s leg is in flight "
            f"(that broadcast took {slow['slow_broadcast_ms']:.0f} ms).",
        ]
    if catalog := results.get("catalog"):
        out += [
            "",
            f"**`tools/list` through `/mcp`**, {catalog['servers']} servers x {catalog['tools_per_server']} tools "
            f"({catalog['distinct_tools']} names), from cache:",
            "",
            "| request | c | p50 ms | p99 ms | req/s | gateway CPU µs/call |",
            "|---|---|---|---|---|---|",
        ]
        for c in (1, 10):
            row = catalog[f"first_page_c{c}"]
            out.append(
                f"| first page (100 tools) | {c} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} | {row['rps']:.0f} | "
                f"{row['cpu_us_per_call']:.0f} |"
            )
        out.append(f"| all {catalog['pages']} pages, one after another | 1 | {catalog['all_pages_ms']:.1f} | | | |")
        calls = (("direct", "`tools/call` on one server directly"), ("gateway", "`tools/call` through `/mcp`"))
        for target, label in calls:
            if row := catalog.get(f"call_c10_{target}"):
                cpu = f"{row['cpu_us_per_call']:.0f}" if "cpu_us_per_call" in row else "-"
                out.append(f"| {label} | 10 | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} | {row['rps']:.0f} | {cpu} |")
    if overheads := results.get("overheads"):
        base = overheads["auth off, audit off"]
        out += [
            "",
            "**Authentication and audit** (`POST /mcp/invoke`, c=10; audit on = "
            + ", ".join(f"`{k}={v}`" for k, v in overheads["audit_settings"].items())
            + "):",
            "",
            "| variant | p50 ms | p99 ms | req/s | gateway CPU µs/call "
            "| req/s vs auth off, audit off | p50 vs auth off, audit off |",
            "|---|---|---|---|---|---|---|",
        ]
        for variant, row in overheads.items():
            if variant == "audit_settings":
                continue
            if variant == "direct":
                versus = "- | - | -"
            else:
                rps, p50 = row["rps"] / base["rps"] - 1, row["p50_ms"] / base["p50_ms"] - 1
                versus = f"{row['cpu_us_per_call']:.0f} | {rps:+.0%} | {p50:+.0%}"
            out.append(
                f"| {_NAMES.get(variant, variant)} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} | {row['rps']:.0f} "
                f"| {versus} |"
            )
    if targets := results.get("targets"):
        out += ["", "**Targets**:", "", "| target | goal | measured | met |", "|---|---|---|---|"]
        out += [
            f"| {t['target']} | {t['goal']} | {t['measured']} | {'yes' if t['met'] else '**no**'} |" for t in targets
        ]
    return "\n".join(out) + "\n"


def plot(results: dict[str, Any], directory: Path) -> list[Path]:
    """``latency_vs_concurrency.png`` and ``broadcast_vs_n.png`` (for the scenarios that ran)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written: list[Path] = []
    if latency := _levels(results.get("latency") or {}):
        levels = [int(c.removeprefix("c")) for c in latency]
        figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
        for kind in ("direct", "hop", "mcp", "invoke"):
            if kind not in latency[f"c{levels[0]}"]:  # results from before the bare hop was measured
                continue
            label = _NAMES[kind].replace("`", "")
            left.plot(levels, [latency[f"c{c}"][kind]["p50_ms"] for c in levels], marker="o", label=label)
            right.plot(levels, [latency[f"c{c}"][kind]["rps"] for c in levels], marker="o", label=label)
        left.set(xscale="log", yscale="log", xlabel="concurrent clients", ylabel="p50 latency (ms)", title="Latency")
        right.set(xscale="log", xlabel="concurrent clients", ylabel="requests / s", title="Throughput", ylim=(0, None))
        for axis in (left, right):
            axis.set_xticks(levels, [str(c) for c in levels])
            axis.grid(alpha=0.3)
            axis.legend()
        figure.suptitle("One echo call: backend directly vs through the gateway")
        figure.tight_layout()
        written.append(directory / "latency_vs_concurrency.png")
        figure.savefig(written[-1], dpi=110)
        plt.close(figure)
    if broadcast := results.get("broadcast"):
        rows = broadcast["fan_out"]
        n = [r["servers"] for r in rows]
        figure, axis = plt.subplots(figsize=(6, 4))
        axis.plot(n, [r["broadcast_ms"] for r in rows], marker="o", label="broadcast through the gateway")
        axis.plot(n, [r["slowest_leg_ms"] for r in rows], marker="o", label="slowest leg (N direct calls at once)")
        axis.plot(n, [r["allowed_ms"] for r in rows], linestyle="--", label="target: slowest leg + 2 ms + 0.2 ms·N")
        axis.set(xlabel="servers (N)", ylabel="wall time (ms)", title="Broadcast to N servers", ylim=(0, None))
        axis.grid(alpha=0.3)
        axis.legend()
        figure.tight_layout()
        written.append(directory / "broadcast_vs_n.png")
        figure.savefig(written[-1], dpi=110)
        plt.close(figure)
    return written
