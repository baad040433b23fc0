"""The demo cluster against the official MCP SDK client: a real uvicorn server, a real Streamable HTTP client."""

from __future__ import annotations

import json
import threading
from typing import Any

from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from app.demo import create_demo_backend
from tests.servers import read_body, serve_asgi

TOKEN = "sdk-test-token"


class _Exchanges:
    """ASGI wrapper noting (HTTP method, JSON-RPC method, status) of every exchange with the demo app."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str | None, int]] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        try:
            method = json.loads(body).get("method") if body else None
        except ValueError:
            method = None
        delivered = False

        async def replay() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return dict(await receive())

        async def note_status(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                with self._lock:
                    self.seen.append((scope["method"], method, message["status"]))
            await send(message)

        await self.app(scope, replay, note_status)


async def test_the_sdk_client_falls_back_to_initialize_lists_and_calls_search_logs() -> None:
    exchanges = _Exchanges(create_demo_backend("demo-logs-eu", region="eu", required_token=TOKEN))
    with serve_asgi(exchanges, path="/mcp") as url:
        http_client = create_mcp_http_client(headers={"Authorization": f"Bearer {TOKEN}"})
        async with http_client, Client(streamable_http_client(url, http_client=http_client)) as client:
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
            result = await client.call_tool("search_logs", {"query": "timeout", "level": "error"})
            negotiated = client.session.protocol_version
            discovered = client.session.discover_result
            server_name = client.session.server_info.name if client.session.server_info else None

    # The modern probe was refused with -32601/404 and the client fell back to the handshake.
    assert exchanges.seen[:3] == [
        ("POST", "server/discover", 404),
        ("POST", "initialize", 200),
        ("POST", "notifications/initialized", 202),
    ]
    assert (negotiated, discovered, server_name) == ("2025-11-25", None, "demo-logs-eu")
    assert not [seen for seen in exchanges.seen if seen[0] != "POST"]  # no session, so no GET stream or DELETE

    assert set(tools) == {"search_logs", "cluster_health_eu"}
    assert tools["search_logs"].input_schema["required"] == ["query"]
    assert tools["search_logs"].annotations is not None
    assert tools["search_logs"].annotations.read_only_hint is True

    # The SDK checked structuredContent against the advertised outputSchema before handing it over.
    assert result.is_error is False
    assert result.structured_content is not None
    assert result.structured_content["cluster"] == "demo-logs-eu"
    assert result.structured_content["count"] == 1
    assert result.structured_content["logs"][0]["service"] == "event-service"
    assert json.loads(result.content[0].text) == result.structured_content  # type: ignore[union-attr]
