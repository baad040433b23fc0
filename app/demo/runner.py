"""Run the two demo clusters on 127.0.0.1:9101 and :9102, the addresses the shipped ``mcp_servers.yaml`` names.

Each cluster is its own ``uvicorn.Server`` in a daemon thread with its own event loop, so the gateway's
process (and its own uvicorn) is untouched and the clusters die with it.
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections.abc import MutableMapping
from typing import NamedTuple

import uvicorn

from app.demo.backend import TOKEN_VARIABLE, create_demo_backend

__all__ = ("DemoBackends", "start_demo_backends")

DEFAULT_TOKEN = "demo-eu-token"  # noqa: S105 - a published demo value, not a secret
"""The EU cluster's token when ``DEMO_LOGS_EU_TOKEN`` is unset."""

_HOST = "127.0.0.1"
_START_TIMEOUT = 10.0


class _Cluster(NamedTuple):
    name: str
    region: str
    port: int
    needs_token: bool


_CLUSTERS = (_Cluster("demo-logs-us", "us", 9101, False), _Cluster("demo-logs-eu", "eu", 9102, True))


class _Running(NamedTuple):
    server: uvicorn.Server
    thread: threading.Thread
    sock: socket.socket


class DemoBackends:
    """The running demo clusters."""

    __slots__ = ("_running",)

    def __init__(self, running: list[_Running]) -> None:
        self._running = running

    def stop(self) -> None:
        """Shut both clusters down and wait for their threads (idempotent)."""
        for run in self._running:
            run.server.should_exit = True
        for run in self._running:
            run.thread.join(timeout=_START_TIMEOUT)
            run.sock.close()
        self._running = []


def _bind(cluster: _Cluster) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT leftovers, never a live listener
    try:
        sock.bind((_HOST, cluster.port))
    except OSError as exc:
        sock.close()
        reason = "address in use" if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc)
        msg = f"demo backend {cluster.name} cannot listen on {_HOST}:{cluster.port}: {reason}"
        raise RuntimeError(msg) from None
    return sock


def start_demo_backends(environ: MutableMapping[str, str]) -> DemoBackends:
    """Start both clusters and return once they accept connections.

    An unset or empty ``DEMO_LOGS_EU_TOKEN`` in ``environ`` is set to ``demo-eu-token`` first, so the gateway's
    ``env://DEMO_LOGS_EU_TOKEN`` resolves to the token the EU cluster requires.

    Raises:
        RuntimeError: a port is taken (nothing is left running), or a cluster did not start in time.
    """
    if not environ.get(TOKEN_VARIABLE):
        environ[TOKEN_VARIABLE] = DEFAULT_TOKEN
    token = environ[TOKEN_VARIABLE]
    sockets: list[socket.socket] = []
    try:
        for cluster in _CLUSTERS:  # bind both before starting either: a taken port leaves nothing behind
            sockets.append(_bind(cluster))
    except RuntimeError:
        for sock in sockets:
            sock.close()
        raise
    running: list[_Running] = []
    for cluster, sock in zip(_CLUSTERS, sockets, strict=True):
        app = create_demo_backend(
            cluster.name, region=cluster.region, required_token=token if cluster.needs_token else None
        )
        # log_config=None: leave the process's logging (and the gateway's uvicorn loggers) as they are.
        config = uvicorn.Config(
            app,
            log_level="warning",
            log_config=None,
            access_log=False,
            lifespan="off",
            loop="asyncio",
            timeout_graceful_shutdown=2,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=cluster.name)
        thread.start()
        running.append(_Running(server, thread, sock))
    backends = DemoBackends(running)
    deadline = time.monotonic() + _START_TIMEOUT
    while not all(run.server.started for run in running):
        if time.monotonic() > deadline or not all(run.thread.is_alive() for run in running):
            backends.stop()
            msg = f"demo backends did not start within {_START_TIMEOUT:g} s"
            raise RuntimeError(msg)
        time.sleep(0.01)
    return backends
