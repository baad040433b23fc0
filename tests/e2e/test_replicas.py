"""Several gateway replicas over one PostgreSQL, behind a round-robin proxy, driven by the official SDK client.

A session opened through one replica keeps working when its next request lands on another (signed,
self-contained session ids and a shared ``MCP_SESSION_SECRET``); a registry change made through one
replica shows up on the others within the refresh interval; killing a replica mid-run does not break
the client.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from mcp import Client

from tests.e2e.conftest import GATEWAY, free_port, wait_for_health
from tests.e2e.round_robin import RoundRobinProxy
from tests.mcp_backends import Backend, start_backend
from tests.servers import serve_asgi

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

REFRESH_SECONDS = 0.5


class Replicas:
    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.tmp_path, self.env = tmp_path, env
        self.processes: list[subprocess.Popen[bytes]] = []
        self.urls: list[str] = []

    def start(self) -> str:
        port = free_port()
        log = self.tmp_path / f"replica-{port}.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                [GATEWAY, "serve", "--port", str(port), "--no-access-log"],
                cwd=self.tmp_path,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"
        wait_for_health(base, process, log)
        self.processes.append(process)
        self.urls.append(base)
        return base

    def kill(self, index: int) -> None:
        self.processes[index].kill()
        self.processes[index].wait(timeout=10)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)


@pytest.fixture
def backend() -> Iterator[Backend]:
    with start_backend("logs", kind="dual") as started:
        yield started


@pytest.fixture
def replicas(
    fresh_postgres_url: str, gateway_env: dict[str, str], tmp_path: Path, backend: Backend
) -> Iterator[Replicas]:
    (tmp_path / "mcp_servers.yaml").write_text(f"servers:\n  logs:\n    url: {backend.url}\n")
    env = {
        **gateway_env,
        "DATABASE_URL": fresh_postgres_url,
        "DATABASE_AUTO_MIGRATE": "true",
        "MCP_SESSION_SECRET": "shared-by-every-replica",
        "REGISTRY_REFRESH_SECONDS": str(REFRESH_SECONDS),
        "AUDIT_LOG_FILE": "",
    }
    group = Replicas(tmp_path, env)
    try:
        group.start()  # the first one migrates the database
        group.start()
        yield group
    finally:
        group.stop()


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_client_session_spans_replicas_and_survives_losing_one(
    replicas: Replicas, backend: Backend, mode: str
) -> None:
    proxy = RoundRobinProxy(replicas.urls)
    with serve_asgi(proxy, lifespan="on") as front:
        async with Client(f"{front}/mcp", mode=mode) as client:
            for i in range(6):
                result = await client.call_tool("echo", {"text": f"call {i}"})
                assert result.content[0].text == f"call {i}"
            posts = {index for method, index in proxy.served if method == "POST"}
            assert posts == {0, 1}, proxy.served
            replicas.kill(0)
            for i in range(4):
                result = await client.call_tool("echo", {"text": f"after {i}"})
                assert result.content[0].text == f"after {i}"
            assert (await client.list_tools()).tools


def test_registry_change_on_one_replica_reaches_the_other(replicas: Replicas, backends: Callable[..., Backend]) -> None:
    extra = backends("extra", kind="stateless")
    a, b = replicas.urls
    created = httpx.post(f"{a}/mcp/servers", json={"name": "extra", "url": extra.url}, timeout=10)
    assert created.status_code == 201, created.text
    started = time.monotonic()

    def call_on_b() -> httpx.Response:
        return httpx.post(
            f"{b}/mcp/invoke", params={"mcp_server": "extra"}, json={"tool_name": "echo", "parameters": {"text": "b"}}
        )

    # /mcp/servers reads the table; routing uses each replica's snapshot, refreshed every REGISTRY_REFRESH_SECONDS.
    while (invoked := call_on_b()).status_code == 404:
        assert time.monotonic() - started < 10 * REFRESH_SECONDS, "replica B never routed to the new server"
        time.sleep(0.05)
    assert invoked.status_code == 200, invoked.text
    assert time.monotonic() - started < 4 * REFRESH_SECONDS  # bounded by the refresh interval plus noise
    assert "extra" in {s["name"] for s in httpx.get(f"{b}/mcp/servers", timeout=5).json()["servers"]}


def test_audit_events_of_every_replica_land_in_one_table(
    replicas: Replicas, fresh_postgres_url: str, backend: Backend
) -> None:
    for base in replicas.urls:
        for i in range(3):
            answer = httpx.post(
                f"{base}/mcp/invoke",
                params={"mcp_server": "logs"},
                json={"tool_name": "echo", "parameters": {"text": str(i)}},
            )
            assert answer.status_code == 200, answer.text
    replicas.stop()  # graceful: each replica flushes its audit queue before exiting

    async def count() -> list[tuple[str, int]]:
        connection = await asyncpg.connect(fresh_postgres_url)
        try:
            rows = await connection.fetch(
                "SELECT status, count(*) FROM audit_logs WHERE action = 'invoke_tool' GROUP BY status"
            )
        finally:
            await connection.close()
        return [(row[0], row[1]) for row in rows]

    assert asyncio.run(count()) == [("success", 6)]
