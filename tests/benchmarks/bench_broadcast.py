"""``POST /mcp/invoke-broadcast`` to N servers against the slowest leg, and a slow leg's effect on other calls.

One backend process serves 101 MCP endpoints (``s0`` … ``s99`` answer at once, ``s100``'s ``work``
sleeps 2 s); the gateway registers each as its own server. For N = 1, 10, 50, 100 the same ``echo`` call
goes (a) through the gateway as one broadcast to ``s0`` … ``s{N-1}`` and (b) from this process straight
to the N endpoints at once, one kept-alive connection each, written and read with bare asyncio streams
so the client adds next to nothing: the wall time of (b) is the slowest leg when N legs run together,
the baseline the target is stated against (slowest leg + 2 ms + 0.2 ms·N).

Then plain ``/mcp/invoke`` calls at c=1 are timed with and without a broadcast of ``work`` to ``s100``
and ``s0`` … ``s9`` in flight the whole time: the 2 s leg must not slow them down.

Run: ``python -m tests.benchmarks.bench_broadcast [--repeats 30] [--duration 5] [--driver ...]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.benchmarks.load import Driver, choose_driver
from tests.benchmarks.processes import fleet_backend, gateway
from tests.benchmarks.runs import Request, echo_call, invoke_request, measure

__all__ = ("FAN_OUT", "run")

FAN_OUT = (1, 10, 50, 100)
SLOW = 100
"""Index of the endpoint whose ``work`` tool sleeps 2 s."""


def allowed_ms(slowest_leg_ms: float, servers: int) -> float:
    """The target: a broadcast costs at most the slowest leg + 2 ms + 0.2 ms per server."""
    return slowest_leg_ms + 2 + 0.2 * servers


class _Leg:
    """One kept-alive HTTP/1.1 connection to a backend endpoint that sends the same request each time."""

    def __init__(self, request: Request) -> None:
        url = urlsplit(request.url)
        self._address = (url.hostname or "127.0.0.1", url.port or 80)
        head = [f"POST {url.path} HTTP/1.1", f"host: {url.netloc}", f"content-length: {len(request.body)}"]
        head += [f"{name}: {value}" for name, value in request.headers.items()]
        self._raw = ("\r\n".join(head) + "\r\n\r\n").encode() + request.body
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def call(self) -> None:
        if self._streams is None:
            self._streams = await asyncio.open_connection(*self._address)
        reader, writer = self._streams
        writer.write(self._raw)
        head = await reader.readuntil(b"\r\n\r\n")
        status = head.split(b" ", 2)[1]
        length = next(
            int(line.split(b":", 1)[1]) for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:")
        )
        await reader.readexactly(length)
        if status != b"200":
            raise RuntimeError(f"a direct leg answered {status.decode()}")

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()


async def _fan_out(gateway_url: str, urls: list[str], repeats: int) -> dict[str, Any]:
    legs = [_Leg(echo_call(url)) for url in urls]
    body = {"tool_name": "echo", "parameters": {"text": "hi"}, "mcp_servers": [f"s{i}" for i in range(len(urls))]}
    walls: list[float] = []
    reported: list[float] = []
    slowest: list[float] = []
    async with httpx.AsyncClient(timeout=60) as client:

        async def broadcast() -> None:
            started = time.perf_counter()
            response = await client.post(f"{gateway_url}/mcp/invoke-broadcast", json=body)
            walls.append((time.perf_counter() - started) * 1000)
            document = response.json()
            if response.status_code != 200 or document["successful"] != len(urls):
                raise RuntimeError(f"broadcast failed: {response.status_code} {response.text[:300]}")
            reported.append(document["execution_time_ms"])

        async def all_legs() -> None:
            started = time.perf_counter()
            await asyncio.gather(*(leg.call() for leg in legs))
            slowest.append((time.perf_counter() - started) * 1000)

        for _ in range(3):  # warm-up: connections on both sides
            await broadcast()
            await all_legs()
        walls.clear(), reported.clear(), slowest.clear()
        for _ in range(repeats):  # interleaved, so both see the same machine
            await broadcast()
            await all_legs()
    for leg in legs:
        leg.close()
    row = {
        "servers": len(urls),
        "repeats": repeats,
        "broadcast_ms": statistics.median(walls),
        "gateway_reported_ms": statistics.median(reported),
        "slowest_leg_ms": statistics.median(slowest),
    }
    row["allowed_ms"] = allowed_ms(row["slowest_leg_ms"], len(urls))
    row["met"] = row["broadcast_ms"] <= row["allowed_ms"]
    return row


def _slow_broadcasts(gateway_url: str, stop: threading.Event, walls: list[float]) -> None:
    """Keep one broadcast with a 2 s leg in flight until ``stop``."""
    body = {
        "tool_name": "work",
        "parameters": {"text": "hi"},
        "mcp_servers": [f"s{SLOW}", *(f"s{i}" for i in range(10))],
    }
    with httpx.Client(timeout=60) as client:
        while not stop.is_set():
            started = time.perf_counter()
            response = client.post(f"{gateway_url}/mcp/invoke-broadcast", json=body)
            walls.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200 or response.json()["successful"] != 11:
                raise RuntimeError(f"slow broadcast failed: {response.text[:300]}")


def _slow_leg(gateway_url: str, *, duration: float, driver: Driver) -> dict[str, Any]:
    plain = invoke_request(gateway_url, "s1")
    quiet = measure(plain, concurrency=1, duration=duration, driver=driver)
    stop, walls = threading.Event(), []
    background = threading.Thread(target=_slow_broadcasts, args=(gateway_url, stop, walls), daemon=True)
    background.start()
    time.sleep(0.2)  # the slow broadcast is in flight before the timed calls start
    busy = measure(plain, concurrency=1, duration=duration, driver=driver)
    stop.set()
    background.join()
    return {
        "plain_p50_ms": quiet["p50_ms"],
        "plain_p50_during_slow_broadcast_ms": busy["p50_ms"],
        "plain_p99_ms": quiet["p99_ms"],
        "plain_p99_during_slow_broadcast_ms": busy["p99_ms"],
        "slow_broadcast_ms": statistics.median(walls),
        "slow_broadcasts": len(walls),
        "ratio": busy["p50_ms"] / quiet["p50_ms"],
    }


def run(*, repeats: int, duration: float, driver: Driver) -> dict[str, Any]:
    """``{"fan_out": [row per N], "slow_leg": {...}}``."""
    with (
        fleet_backend(SLOW + 1, slow_server=SLOW) as urls,
        gateway({f"s{i}": url for i, url in enumerate(urls)}, {"CATALOG_TTL_SECONDS": "3600"}) as gw,
    ):
        rows = [asyncio.run(_fan_out(gw.url, urls[:n], repeats)) for n in FAN_OUT]
        return {"fan_out": rows, "slow_leg": _slow_leg(gw.url, duration=duration, driver=driver)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--driver", default="auto", choices=("auto", "wrk", "python"))
    args = parser.parse_args()
    print(json.dumps(run(repeats=args.repeats, duration=args.duration, driver=choose_driver(args.driver)), indent=2))


if __name__ == "__main__":
    main()
