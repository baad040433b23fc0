"""Backends that hang, reset, answer 500, invalid JSON, a wrong id, endless SSE or 50 MB: each call fails
precisely and quickly enough, while calls to a healthy backend keep succeeding throughout."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.conftest import Gateway
from tests.integration.faults.fault_backend import FAULTS, FaultBackend
from tests.servers import serve_asgi

EXPECTED = {
    "hang": (504, "backend_timeout", "no answer within"),
    "reset": (502, "backend_unreachable", ""),
    "http500": (502, "backend_protocol_error", "500"),
    "badjson": (502, "backend_protocol_error", "JSON"),
    "wrongid": (502, "backend_protocol_error", "id"),
    "endless": (504, "backend_timeout", "no answer within"),
    "huge": (502, "backend_protocol_error", "larger than"),
}


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'gateway.db'}"


@pytest.fixture(scope="module")
def faulty() -> Iterator[tuple[FaultBackend, str]]:
    backend = FaultBackend()
    with serve_asgi(backend) as url:
        yield backend, url


async def test_each_fault_is_reported_precisely_while_healthy_calls_continue(
    gateway: Gateway, faulty: tuple[FaultBackend, str]
) -> None:
    backend, base = faulty
    servers = {name: {"url": f"{base}/{name}/mcp", "timeout": 1.5} for name in FAULTS}
    async with gateway(servers) as client:

        async def call(server: str) -> httpx.Response:
            return await client.post("/mcp/invoke", params={"mcp_server": server}, json={"tool_name": "work"})

        async def healthy_calls() -> list[float]:
            latencies = []
            deadline = time.monotonic() + 2.5
            while time.monotonic() < deadline:
                started = time.monotonic()
                response = await call("ok")
                assert response.status_code == 200, response.text
                latencies.append(time.monotonic() - started)
            return latencies

        healthy, *faults = await asyncio.gather(healthy_calls(), *(call(name) for name in EXPECTED))
        answers = dict(zip(EXPECTED, faults, strict=True))
        after = await call("ok")
    for name, (status, code, words) in EXPECTED.items():
        response = answers[name]
        assert response.status_code == status, (name, response.text)
        assert response.json()["code"] == code, (name, response.text)
        assert words in response.json()["detail"], (name, response.json()["detail"])
        assert f"'{name}'" in response.json()["detail"]
        assert backend.calls[name] >= 1
    assert len(healthy) >= 10
    assert max(healthy) < 1.0  # never stuck behind a sick backend
    assert after.status_code == 200


async def test_a_compressed_answer_is_decoded(gateway: Gateway, faulty: tuple[FaultBackend, str]) -> None:
    _, base = faulty
    async with gateway({"zipped": {"url": f"{base}/gzip/mcp"}}) as client:
        response = await client.post("/mcp/invoke", params={"mcp_server": "zipped"}, json={"tool_name": "work"})
    assert response.status_code == 200, response.text
    assert response.json()["result"] == "done"


async def test_backend_that_dies_and_comes_back(gateway: Gateway) -> None:
    backend = FaultBackend()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    servers = {"flaky": {"url": f"http://127.0.0.1:{port}/ok/mcp", "timeout": 2}}
    async with gateway(servers) as client:
        with serve_asgi(backend, port=port):
            assert (await _work(client, "flaky")).status_code == 200
        # The backend went away (its server stopped, the port closed) ...
        down = await _work(client, "flaky")
        assert down.status_code == 502
        assert down.json()["code"] == "backend_unreachable"
        # ... and comes back on the same address: the next call works without restarting the gateway.
        with serve_asgi(backend, port=port):
            back = await _work(client, "flaky")
        assert back.status_code == 200, back.text


async def _work(client: Any, server: str) -> httpx.Response:
    response: httpx.Response = await client.post(
        "/mcp/invoke", params={"mcp_server": server}, json={"tool_name": "work"}
    )
    return response
