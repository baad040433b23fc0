"""Backends over TLS: HTTP/2 offered by ALPN and used when the backend accepts it, HTTP/1.1 when it is off,
and a private CA trusted through ``BACKEND_CA_BUNDLE``."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from mcp.server.transport_security import TransportSecuritySettings

from app.adapters.mcp_client import BackendClient, BackendTarget
from app.errors import BackendUnreachable, ConfigError
from app.server.lifespan import create_ssl_context
from tests.integration.conftest import Gateway
from tests.mcp_backends import build_server
from tests.servers import serve_asgi_tls


class TlsBackend:
    """An SDK MCP server behind hypercorn over TLS, recording the HTTP version of every request."""

    def __init__(self, url: str, versions: list[str], peers: list[tuple[str, int]]) -> None:
        self.url = url
        self.versions = versions
        self.peers = peers
        """The client address (host, port) of every request: one port per connection."""


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path]:
    authority = trustme.CA()
    bundle = tmp_path_factory.mktemp("ca") / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    return authority, bundle


@pytest.fixture(scope="module", params=["json", "sse"])
def tls_backend(
    request: pytest.FixtureRequest, ca: tuple[trustme.CA, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TlsBackend]:
    """Answers ``tools/call`` as JSON or as an event stream (both must work over HTTP/2)."""
    certfile = tmp_path_factory.mktemp("server") / "server.pem"
    ca[0].issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(certfile))
    app = build_server("tls").streamable_http_app(
        stateless_http=True,
        json_response=request.param == "json",
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    versions: list[str] = []
    peers: list[tuple[str, int]] = []
    lock = threading.Lock()

    async def recording(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            with lock:
                versions.append(scope["http_version"])
                peers.append(tuple(scope["client"]))
        await app(scope, receive, send)

    with serve_asgi_tls(recording, certfile=str(certfile), path="/mcp") as url:
        yield TlsBackend(url, versions, peers)


def _client(backend: TlsBackend, bundle: Path, *, http2: bool) -> BackendClient:
    target = BackendTarget(name="tls", url=backend.url, transport="streamable-http", timeout=10)
    return BackendClient(target, ssl_context=create_ssl_context(str(bundle)), max_response_bytes=1 << 20, http2=http2)


@pytest.mark.parametrize(("http2", "expected"), [(True, "2"), (False, "1.1")])
async def test_calls_go_over_http2_when_offered_and_accepted(
    tls_backend: TlsBackend, ca: tuple[trustme.CA, Path], http2: bool, expected: str
) -> None:
    tls_backend.versions.clear()
    client = _client(tls_backend, ca[1], http2=http2)
    try:
        assert "echo" in {tool["name"] for tool in await client.list_tools()}
        results = [await client.call_tool("echo", {"text": f"over {n}"}) for n in range(3)]
    finally:
        await client.aclose()
    assert [result.content[0]["text"] for result, _ in results] == ["over 0", "over 1", "over 2"]
    assert tls_backend.versions
    assert set(tls_backend.versions) == {expected}


async def test_concurrent_calls_share_one_http2_connection(
    tls_backend: TlsBackend, ca: tuple[trustme.CA, Path]
) -> None:
    client = _client(tls_backend, ca[1], http2=True)
    try:
        await client.list_tools()
        tls_backend.peers.clear()
        results = await asyncio.gather(*(client.call_tool("echo", {"text": str(n)}) for n in range(10)))
    finally:
        await client.aclose()
    assert sorted(result.content[0]["text"] for result, _ in results) == sorted(str(n) for n in range(10))
    assert len(tls_backend.peers) == 10
    assert len(set(tls_backend.peers)) == 1


async def test_an_untrusted_certificate_is_refused_with_the_reason(tls_backend: TlsBackend) -> None:
    target = BackendTarget(name="tls", url=tls_backend.url, transport="streamable-http", timeout=10)
    client = BackendClient(target, ssl_context=create_ssl_context(), max_response_bytes=1 << 20, http2=True)
    try:
        with pytest.raises(BackendUnreachable, match="CERTIFICATE_VERIFY_FAILED"):
            await client.list_tools()
    finally:
        await client.aclose()


async def test_the_gateway_trusts_its_ca_bundle_and_speaks_http2(
    tls_backend: TlsBackend, ca: tuple[trustme.CA, Path], gateway: Gateway
) -> None:
    tls_backend.versions.clear()
    async with gateway({"tls": {"url": tls_backend.url}}, backend_ca_bundle=str(ca[1])) as client:
        call = {"tool_name": "echo", "parameters": {"text": "hi"}}
        response = await client.post("/mcp/invoke", params={"mcp_server": "tls"}, json=call)
    assert response.status_code == 200, response.text
    assert response.json()["result"] == {"result": "hi"}
    assert set(tls_backend.versions) == {"2"}


@pytest.mark.parametrize(
    ("content", "reason"), [(None, "No such file or directory"), ("not a certificate\n", "no PEM certificate")]
)
def test_a_bad_ca_bundle_is_a_config_error_naming_it(tmp_path: Path, content: str | None, reason: str) -> None:
    bundle = tmp_path / "bundle.pem"
    if content is not None:
        bundle.write_text(content)
    with pytest.raises(ConfigError, match=reason) as raised:
        create_ssl_context(str(bundle))
    assert str(bundle) in str(raised.value)
