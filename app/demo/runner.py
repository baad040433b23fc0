"""Start the demo clusters on 127.0.0.1:9101 and :9102 (the addresses the shipped mcp_servers.yaml names)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import MutableMapping

import uvicorn

from app.demo.backend import create_demo_backend

__all__ = ("DemoBackends", "start_demo_backends")

TOKEN_VARIABLE = "DEMO_LOGS_EU_TOKEN"  # noqa: S105 - the variable name, not a secret
_CLUSTERS = (("demo-logs-us", "us", 9101, False), ("demo-logs-eu", "eu", 9102, True))


class DemoBackends:
    """The running demo servers; ``stop()`` ends them."""

    def __init__(self) -> None:
        self._servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def add(self, server: uvicorn.Server, thread: threading.Thread) -> None:
        self._servers.append((server, thread))

    @property
    def started(self) -> bool:
        return all(server.started for server, _ in self._servers)

    def stop(self) -> None:
        for server, _ in self._servers:
            server.should_exit = True
        for _, thread in self._servers:
            thread.join(timeout=10)


def start_demo_backends(environ: MutableMapping[str, str]) -> DemoBackends:
    """Start both clusters in background threads; the EU one requires ``environ[DEMO_LOGS_EU_TOKEN]``.

    Raises:
        RuntimeError: a port is taken.
    """
    token = environ.setdefault(TOKEN_VARIABLE, "demo-eu-token")
    running = DemoBackends()
    for cluster, region, port, needs_token in _CLUSTERS:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            sock.close()
            running.stop()
            msg = f"demo backend {cluster} cannot listen on 127.0.0.1:{port}: address in use"
            raise RuntimeError(msg) from None
        app = create_demo_backend(cluster, region=region, required_token=token if needs_token else None)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=cluster)
        thread.start()
        running.add(server, thread)
    deadline = time.monotonic() + 10
    while not running.started:
        if time.monotonic() > deadline:
            running.stop()
            msg = "demo backends did not start within 10 s"
            raise RuntimeError(msg)
        time.sleep(0.02)
    return running
