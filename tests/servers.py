"""Run real ASGI apps (MCP backends, fake IdPs, Vault look-alikes) on 127.0.0.1 ephemeral ports.

Each app runs in uvicorn in a background thread with its own event loop, so it is a real HTTP peer for
the code under test (separate loop, real sockets), and stops when the context manager exits.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn

__all__ = ("answer_lifespan", "read_body", "serve_asgi")


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
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            msg = f"test server on port {port} did not start"
            raise RuntimeError(msg)
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}{path}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


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
