"""BackendClient against real MCP servers built with the official SDK, in every transport and era."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable

import pytest
from opentelemetry.sdk.trace import TracerProvider

from app.adapters.mcp_client import BackendClient, BackendTarget
from app.adapters.outbound_auth import Injection
from app.errors import BackendProtocolError, BackendTimeout, BackendUnreachable
from tests.mcp_backends import Backend

SSL = ssl.create_default_context()


def client_for(backend: Backend, timeout: float = 5.0, **options: object) -> BackendClient:
    transport = "sse" if backend.kind == "sse" else "streamable-http"
    target = BackendTarget(name=backend.name, url=backend.url, transport=transport, timeout=timeout)
    return BackendClient(target, ssl_context=SSL, max_response_bytes=options.pop("max_bytes", 1 << 20), **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "era", "version"),
    [
        ("dual", "modern", "2026-07-28"),
        ("stateless", "modern", "2026-07-28"),
        ("legacy", "handshake", "2025-11-25"),
        ("sse", "handshake", "2025-11-25"),
    ],
)
async def test_negotiates_the_era_and_lists_and_calls_tools(
    backends: Callable[..., Backend], kind: str, era: str, version: str
) -> None:
    backend = backends("alpha", kind=kind)
    client = client_for(backend)
    try:
        tools = {t["name"]: t for t in await client.list_tools()}
        assert client.session.era == era
        assert client.session.protocol_version == version
        assert {"echo", "search_logs", "sleep", "fail"} <= tools.keys()
        search = tools["search_logs"]
        assert search["title"] == "Search logs"
        assert search["annotations"]["readOnlyHint"] is True
        assert search["inputSchema"]["required"] == ["query"]
        result, _ = await client.call_tool("echo", {"text": "hello"})
        assert result.content[0]["text"] == "hello"
        assert not result.isError
        failed, _ = await client.call_tool("fail", {"message": "boom"})
        assert failed.isError
        assert "boom" in failed.content[0]["text"]
    finally:
        await client.aclose()


async def test_the_session_is_negotiated_once_and_reused(backends: Callable[..., Backend]) -> None:
    backend = backends("alpha", kind="legacy")
    client = client_for(backend)
    try:
        for i in range(5):
            await client.call_tool("echo", {"text": str(i)})
    finally:
        await client.aclose()
    assert len(backend.calls("initialize")) == 1
    assert len(backend.calls("server/discover")) == 1  # probed once, then the era is cached
    sessions = {r.headers.get("mcp-session-id") for r in backend.calls("tools/call")}
    assert len(sessions) == 1
    assert None not in sessions


async def test_a_dropped_session_is_reestablished_transparently(backends: Callable[..., Backend]) -> None:
    backend = backends("alpha", kind="legacy")
    client = client_for(backend)
    try:
        await client.call_tool("echo", {"text": "one"})
        session = client.session.session_id
        # End the session behind the client's back (what a restarted backend amounts to).
        import httpx

        async with httpx.AsyncClient() as raw:
            response = await raw.delete(
                backend.url, headers={"mcp-session-id": str(session), "mcp-protocol-version": "2025-11-25"}
            )
        assert response.status_code in {200, 204}
        result, _ = await client.call_tool("echo", {"text": "two"})
        assert result.content[0]["text"] == "two"
        assert client.session.session_id != session
    finally:
        await client.aclose()
    assert len(backend.calls("initialize")) == 2


@pytest.mark.parametrize("kind", ["dual", "legacy", "sse"])
async def test_a_slow_call_times_out_and_the_next_call_still_works(backends: Callable[..., Backend], kind: str) -> None:
    client = client_for(backends("slow", kind=kind), timeout=0.5)
    try:
        await client.list_tools()
        started = asyncio.get_running_loop().time()
        with pytest.raises(BackendTimeout, match=r"within 0\.5s"):
            await client.call_tool("sleep", {"seconds": 3})
        assert asyncio.get_running_loop().time() - started < 1.5
        result, _ = await client.call_tool("echo", {"text": "still alive"})
        assert result.content[0]["text"] == "still alive"
    finally:
        await client.aclose()


async def test_cancelling_a_handshake_call_tells_the_backend(backends: Callable[..., Backend]) -> None:
    backend = backends("alpha", kind="legacy")
    client = client_for(backend)
    try:
        await client.list_tools()
        task = asyncio.create_task(client.call_tool("sleep", {"seconds": 5}))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(50):
            if backend.calls("notifications/cancelled"):
                break
            await asyncio.sleep(0.05)
    finally:
        await client.aclose()
    cancelled = backend.calls("notifications/cancelled")
    assert cancelled
    sent_id = backend.calls("tools/call")[-1].json()["id"]
    assert cancelled[0].json()["params"]["requestId"] == sent_id


async def test_credentials_reach_the_backend_in_header_query_and_meta(backends: Callable[..., Backend]) -> None:
    backend = backends("alpha", kind="dual")

    async def credentials() -> Injection:
        return Injection(headers={"X-API-Key": "k-1"}, query={"sig": "s-2"}, meta={"apiKey": "m-3"})

    client = client_for(backend, credentials=credentials)
    try:
        await client.call_tool("echo", {"text": "x"})
    finally:
        await client.aclose()
    call = backend.calls("tools/call")[-1]
    assert call.headers["x-api-key"] == "k-1"
    assert call.query["sig"] == "s-2"
    assert call.json()["params"]["_meta"]["apiKey"] == "m-3"


async def test_modern_requests_carry_the_envelope_and_routing_headers(backends: Callable[..., Backend]) -> None:
    backend = backends("alpha", kind="dual")
    client = client_for(backend)
    try:
        await client.call_tool("echo", {"text": "x"})
    finally:
        await client.aclose()
    call = backend.calls("tools/call")[-1]
    assert call.headers["mcp-protocol-version"] == "2026-07-28"
    assert call.headers["mcp-method"] == "tools/call"
    assert call.headers["mcp-name"] == "echo"
    meta = call.json()["params"]["_meta"]
    assert meta["io.modelcontextprotocol/protocolVersion"] == "2026-07-28"
    assert meta["io.modelcontextprotocol/clientCapabilities"] == {}
    assert "mcp-session-id" not in call.headers


async def test_traceparent_is_sent_with_the_current_trace(backends: Callable[..., Backend]) -> None:
    backend = backends("alpha", kind="dual")
    client = client_for(backend)
    tracer = TracerProvider().get_tracer("test")
    try:
        with tracer.start_as_current_span("agent-call") as span:
            await client.call_tool("echo", {"text": "x"})
            trace_id = format(span.get_span_context().trace_id, "032x")
    finally:
        await client.aclose()
    assert backend.calls("tools/call")[-1].headers["traceparent"].split("-")[1] == trace_id


async def test_an_oversized_response_is_refused(backends: Callable[..., Backend]) -> None:
    client = client_for(backends("alpha", kind="stateless"), max_bytes=50_000)
    try:
        with pytest.raises(BackendProtocolError, match="larger than 50000 bytes"):
            await client.call_tool("echo", {"text": "x" * 100_000})
        assert (await client.call_tool("echo", {"text": "small"}))[0].content[0]["text"] == "small"
    finally:
        await client.aclose()


async def test_an_unreachable_backend_is_reported_as_such() -> None:
    target = BackendTarget(name="gone", url="http://127.0.0.1:1/mcp", timeout=2)
    client = BackendClient(target, ssl_context=SSL, max_response_bytes=1 << 20)
    try:
        with pytest.raises(BackendUnreachable, match="MCP server 'gone': cannot connect"):
            await client.list_tools()
    finally:
        await client.aclose()


async def test_tools_list_follows_every_page() -> None:
    from tests.mcp_backends import paginated_app
    from tests.servers import serve_asgi

    with serve_asgi(paginated_app(total=120, page_size=50), path="/mcp") as url:
        client = BackendClient(
            BackendTarget(name="paged", url=url, timeout=5), ssl_context=SSL, max_response_bytes=1 << 20
        )
        try:
            names = [t["name"] for t in await client.list_tools()]
        finally:
            await client.aclose()
    assert names == [f"tool_{i:03d}" for i in range(120)]
