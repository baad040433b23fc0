"""The per-backend guard in a running gateway: a dead backend's circuit opens and fails fast, recovers through
a probe, shows in /health and the server's info; too many concurrent calls to one backend get 503."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.asgi import create_app
from app.settings import Settings
from tests.integration.conftest import Gateway
from tests.integration.faults.fault_backend import FaultBackend
from tests.mcp_backends import start_backend
from tests.servers import serve_asgi


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'gateway.db'}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _work(client: Any, server: str, tool: str = "work", **arguments: Any) -> httpx.Response:
    response: httpx.Response = await client.post(
        "/mcp/invoke", params={"mcp_server": server}, json={"tool_name": tool, "parameters": arguments}
    )
    return response


async def test_dead_backend_opens_the_circuit_then_a_probe_closes_it(gateway: Gateway) -> None:
    port = _free_port()
    servers = {"dead": {"url": f"http://127.0.0.1:{port}/ok/mcp", "timeout": 2}}
    settings = {"backend_breaker_failures": 3, "backend_breaker_open_seconds": 1.0, "catalog_ttl_seconds": 3600}
    async with gateway(servers, **settings) as client:
        codes = [(await _work(client, "dead")).json()["code"] for _ in range(6)]
        assert "backend_unreachable" in codes
        assert codes[-1] == "backend_circuit_open"
        started = time.monotonic()
        fast = await _work(client, "dead")
        assert fast.status_code == 503
        assert time.monotonic() - started < 0.2
        health = (await client.get("/health")).json()
        assert health["backend_circuits"]["open"] == 1
        info = (await client.get("/mcp/server/dead/info")).json()
        assert info["status"]["circuit"] == "open"
        assert 'mcp_gateway_backend_circuit_open{server="dead"} 1.0' in (await client.get("/metrics")).text
        # The backend comes up; after the open period one probe goes through and closes the circuit.
        with serve_asgi(FaultBackend(), port=port):
            await asyncio.sleep(1.1)
            recovered = await _work(client, "dead")
            assert recovered.status_code == 200, recovered.text
            info = (await client.get("/mcp/server/dead/info")).json()
        assert info["status"]["circuit"] == "closed"
        assert 'mcp_gateway_backend_circuit_open{server="dead"} 0.0' in (await client.get("/metrics")).text


async def test_calls_beyond_in_flight_and_queue_get_503(
    make_settings: Callable[..., Settings], write_servers_file: Callable[[dict[str, Any]], Path]
) -> None:
    # A real server: the in-process test client would run these requests one after another.
    with start_backend("slow", kind="stateless") as backend:
        path = write_servers_file({"servers": {"slow": {"url": backend.url}}})
        app = create_app(make_settings(mcp_servers_file=str(path), backend_max_in_flight=2, backend_max_queued=2))
        with serve_asgi(app) as url:
            async with httpx.AsyncClient(base_url=url, timeout=30) as client:
                assert (await _work(client, "slow", "echo", text="warm-up")).status_code == 200
                answers = await asyncio.gather(*(_work(client, "slow", "sleep", seconds=0.6) for _ in range(6)))
                after = await _work(client, "slow", "echo", text="after")
    served = [answer for answer in answers if answer.status_code == 200]
    refused = [answer for answer in answers if answer.status_code != 200]
    # 2 run and 2 wait; the rest is refused at once (a catalog refresh may hold one of the slots meanwhile).
    assert 2 <= len(served) <= 4, [a.text for a in answers]
    assert len(refused) >= 2
    for answer in refused:
        assert answer.status_code == 503
        assert answer.json()["code"] == "backend_saturated"
        assert "limit 2 in flight" in answer.json()["detail"]
    assert after.status_code == 200
