"""A client that trickles its request body is answered 408 and disconnected; others are served meanwhile."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from app.asgi import create_app
from app.settings import Settings
from tests.servers import serve_asgi


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'gateway.db'}"


@pytest.fixture
def served(make_settings: Callable[..., Settings]) -> Iterator[str]:
    with serve_asgi(create_app(make_settings(request_body_timeout_seconds=0.5))) as url:
        yield url


def test_stalled_request_body_gets_408_and_the_connection_closes(served: str) -> None:
    host, port = served.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(
            b"POST /mcp/invoke?mcp_server=x HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n" + b'{"tool_name": '
        )
        started = time.monotonic()
        # Meanwhile another client is served normally.
        assert httpx.get(f"{served}/health/live", timeout=5).status_code == 200
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
        waited = time.monotonic() - started
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 408 Request Timeout"
    assert b"request body not received within 0.5s" in rest
    assert waited < 3  # cut off, not left hanging (the socket closed: recv returned b"")
