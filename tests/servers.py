"""Run real ASGI apps (MCP backends, fake IdPs, Vault look-alikes) on 127.0.0.1 ephemeral ports.

Each app runs in uvicorn in a background thread with its own event loop, so it is a real HTTP peer for
the code under test (separate loop, real sockets), and stops when the context manager exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn

__all__ = ("answer_lifespan", "read_body", "serve_asgi", "serve_asgi_tls")


@contextlib.contextmanager
def serve_asgi(app: Any, *, lifespan: str = "on", path: str = "", port: int = 0) -> Iterator[str]:
    """Serve ``app`` on ``127.0.0.1:<port>`` (default: a free one); yields ``http://127.0.0.1:PORT`` + ``path``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, lifespan=lifespan, log_level="warning", access_log=False, loop="asyncio", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name=f"asgi:{port}")
    thread.start()
    _wait_until_started(thread, port, lambda: server.started)
    try:
        yield f"http://127.0.0.1:{port}{path}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@contextlib.contextmanager
def serve_asgi_tls(app: Any, *, certfile: str, path: str = "") -> Iterator[str]:
    """Serve ``app`` over TLS with hypercorn (HTTP/2 by ALPN, HTTP/1.1 otherwise) on a free port of 127.0.0.1;
    ``certfile`` holds the key and certificate chain. Yields ``https://127.0.0.1:PORT`` + ``path``."""
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.certfile = config.keyfile = certfile
    config.loglevel = "WARNING"
    config.graceful_timeout = 1
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(serve(app, config, shutdown_trigger=stop.wait))  # type: ignore[arg-type]

    thread = threading.Thread(target=run, daemon=True, name=f"asgi-tls:{port}")
    thread.start()
    _wait_until_started(thread, port, lambda: _accepts(port))
    try:
        yield f"https://127.0.0.1:{port}{path}"
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=15)
        loop.close()


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _wait_until_started(thread: threading.Thread, port: int, started: Callable[[], bool]) -> None:
    """Return once ``started()``; fail if the server's thread ended or 15 s passed first."""
    deadline = time.monotonic() + 15
    while not started():
        if not thread.is_alive() or time.monotonic() > deadline:
            msg = f"test server on port {port} did not start"
            raise RuntimeError(msg)
        time.sleep(0.01)


async def read_body(receive: Any) -> bytes:
    """The whole request body of a raw ASGI request (for test apps that inspect or replay it)."""
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return body


async def answer_lifespan(receive: Any, send: Any) -> None:
    """The lifespan protocol of a raw ASGI test app with nothing to start or stop."""
    while (await receive())["type"] != "lifespan.shutdown":
        await send({"type": "lifespan.startup.complete"})
    await send({"type": "lifespan.shutdown.complete"})
