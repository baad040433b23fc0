"""Helpers to run the real ``mcp-gateway`` console command in a clean working directory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

GATEWAY = str(Path(sys.executable).with_name("mcp-gateway"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def gateway_env(tmp_path: Path) -> dict[str, str]:
    """A minimal environment: PATH and HOME only, plus the gateway's settings the test adds."""
    return {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'gw.db'}"}


@pytest.fixture
def cli(tmp_path: Path, gateway_env: dict[str, str]) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``mcp-gateway ARGS`` in ``tmp_path`` (its own ``mcp_servers.yaml``, no ``.env``)."""

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [GATEWAY, *args], cwd=tmp_path, env=gateway_env, capture_output=True, text=True, timeout=60, check=False
        )
        if check and result.returncode != 0:
            pytest.fail(f"mcp-gateway {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
        return result

    return run


def wait_for_health(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until ``base``/health answers 200; fail with the process log if it dies or takes too long."""
    import time

    import httpx

    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"gateway did not start:\n{log.read_text()}")
        time.sleep(0.1)


@pytest.fixture
def serve_gateway(tmp_path: Path, gateway_env: dict[str, str]) -> Iterator[Callable[..., str]]:
    """Start ``mcp-gateway serve`` (extra arguments allowed) in ``tmp_path``; returns its base URL."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(*args: str) -> str:
        port = free_port()
        log_path = tmp_path / f"serve-{port}.log"
        with log_path.open("w") as log:
            process = subprocess.Popen(
                [GATEWAY, "serve", "--port", str(port), *args],
                cwd=tmp_path,
                env=gateway_env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        processes.append(process)
        base = f"http://127.0.0.1:{port}"
        wait_for_health(base, process, log_path)
        return base

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=30)
