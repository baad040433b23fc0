from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.demo import create_demo_backend


@pytest.fixture
async def cluster() -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app=create_demo_backend("demo-logs-us", region="us")) as client:
        yield client


async def rpc(
    client: AsyncTestClient[Litestar], method: str, params: dict[str, Any] | None = None, **headers: str
) -> Any:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": 7, "method": method}
    if params is not None:
        body["params"] = params
    return await client.post("/mcp", json=body, headers=headers)


async def test_initialize_negotiates_a_handshake_version(cluster: AsyncTestClient[Litestar]) -> None:
    old = (await rpc(cluster, "initialize", {"protocolVersion": "2025-03-26", "capabilities": {}})).json()
    assert old["result"]["protocolVersion"] == "2025-03-26"
    future = (await rpc(cluster, "initialize", {"protocolVersion": "2099-01-01", "capabilities": {}})).json()
    assert future["result"]["protocolVersion"] == "2025-11-25"
    assert future["result"]["serverInfo"]["name"] == "demo-logs-us"


async def test_notifications_get_202_and_unknown_methods_404(cluster: AsyncTestClient[Litestar]) -> None:
    note = await cluster.post("/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"})
    assert (note.status_code, note.content) == (202, b"")
    unknown = await rpc(cluster, "server/discover")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == -32601
    assert unknown.json()["id"] == 7


async def test_malformed_requests(cluster: AsyncTestClient[Litestar]) -> None:
    parse = await cluster.post("/mcp", content=b"{nope", headers={"content-type": "application/json"})
    assert (parse.status_code, parse.json()["error"]["code"], parse.json()["id"]) == (400, -32700, None)
    invalid = await cluster.post("/mcp", json=[1, 2])
    assert (invalid.status_code, invalid.json()["error"]["code"]) == (400, -32600)
    assert (await cluster.get("/mcp")).status_code == 405


async def test_search_logs_filters_by_every_query_word_and_level(cluster: AsyncTestClient[Litestar]) -> None:
    tools = (await rpc(cluster, "tools/list")).json()["result"]["tools"]
    assert {t["name"] for t in tools} == {"search_logs", "cluster_health_us"}
    result = (
        await rpc(cluster, "tools/call", {"name": "search_logs", "arguments": {"query": "spring-sale failed"}})
    ).json()["result"]
    logs = result["structuredContent"]["logs"]
    assert [entry["level"] for entry in logs] == ["error"]
    errors_only = (
        await rpc(cluster, "tools/call", {"name": "search_logs", "arguments": {"query": "campaign", "level": "info"}})
    ).json()
    assert {entry["level"] for entry in errors_only["result"]["structuredContent"]["logs"]} == {"info"}
    nothing = (await rpc(cluster, "tools/call", {"name": "search_logs", "arguments": {"query": "zebra"}})).json()
    assert nothing["result"]["structuredContent"]["count"] == 0


async def test_bad_arguments_and_unknown_tools_are_reported(cluster: AsyncTestClient[Litestar]) -> None:
    missing = (await rpc(cluster, "tools/call", {"name": "search_logs", "arguments": {}})).json()["result"]
    assert missing["isError"] is True
    assert "query" in missing["content"][0]["text"]
    unknown = (await rpc(cluster, "tools/call", {"name": "nope", "arguments": {}})).json()
    assert unknown["error"]["code"] == -32602


async def test_the_eu_cluster_requires_its_token_and_never_echoes_a_wrong_one() -> None:
    app = create_demo_backend("demo-logs-eu", region="eu", required_token="right-token")
    async with AsyncTestClient(app=app) as client:
        denied = await rpc(client, "tools/list", authorization="Bearer wrong-VALUE")
        allowed = await rpc(client, "tools/list", authorization="Bearer right-token")
    assert denied.status_code == 401
    assert "DEMO_LOGS_EU_TOKEN" in denied.text
    assert "wrong-VALUE" not in denied.text
    assert allowed.status_code == 200
