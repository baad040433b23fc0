from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app import __version__
from app.demo import create_demo_backend

Client = AsyncTestClient[Litestar]
EU_AUTH = {"authorization": "Bearer right-token"}


@pytest.fixture
async def us() -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_demo_backend("demo-logs-us", region="us", required_token=None)) as client:
        yield client


@pytest.fixture
async def eu() -> AsyncIterator[Client]:
    app = create_demo_backend("demo-logs-eu", region="eu", required_token="right-token")
    async with AsyncTestClient(app=app) as client:
        yield client


async def rpc(
    client: Client, method: str, params: dict[str, Any] | None = None, *, headers: dict[str, str] | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": 7, "method": method}
    if params is not None:
        body["params"] = params
    return await client.post("/mcp", json=body, headers=headers)


async def call(client: Client, tool: str, arguments: Any, *, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = await rpc(client, "tools/call", {"name": tool, "arguments": arguments}, headers=headers)
    assert response.status_code == 200
    result: dict[str, Any] = response.json()["result"]
    return result


def initialize_params(version: str) -> dict[str, Any]:
    return {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}


@pytest.mark.parametrize("version", ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"])
async def test_initialize_accepts_every_handshake_version_the_client_asks_for(us: Client, version: str) -> None:
    response = await rpc(us, "initialize", initialize_params(version))
    assert response.status_code == 200
    assert response.json()["result"]["protocolVersion"] == version
    assert "mcp-session-id" not in response.headers  # stateless: no session is ever minted


@pytest.mark.parametrize("version", ["2026-07-28", "1999-01-01"])
async def test_initialize_offers_2025_11_25_for_versions_it_does_not_speak(us: Client, version: str) -> None:
    answer = (await rpc(us, "initialize", initialize_params(version))).json()
    assert answer["id"] == 7
    assert answer["result"] == {
        "protocolVersion": "2025-11-25",
        "capabilities": {"tools": {"listChanged": False}},
        "serverInfo": {"name": "demo-logs-us", "version": __version__},
        "instructions": answer["result"]["instructions"],
    }
    assert "search_logs" in answer["result"]["instructions"]


async def test_initialize_without_a_protocol_version_is_invalid_params(us: Client) -> None:
    answer = (await rpc(us, "initialize", {"capabilities": {}})).json()
    assert answer["error"]["code"] == -32602
    assert "protocolVersion" in answer["error"]["message"]


async def test_ping_answers_an_empty_result(us: Client) -> None:
    assert (await rpc(us, "ping")).json() == {"jsonrpc": "2.0", "id": 7, "result": {}}


@pytest.mark.parametrize(
    "message",
    [
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 3}},
        {"jsonrpc": "2.0", "method": "notifications/whatever"},
        {"jsonrpc": "2.0", "id": 9, "result": {}},  # a response to a server request: accepted, ignored
    ],
)
async def test_notifications_and_responses_get_202_with_an_empty_body(us: Client, message: dict[str, Any]) -> None:
    response = await us.post("/mcp", json=message)
    assert (response.status_code, response.content) == (202, b"")


async def test_tools_list_describes_search_logs_with_real_schemas(us: Client) -> None:
    tools = {tool["name"]: tool for tool in (await rpc(us, "tools/list")).json()["result"]["tools"]}
    search = tools["search_logs"]
    assert search["title"] == "Search logs"
    assert search["annotations"]["readOnlyHint"] is True
    assert search["inputSchema"]["required"] == ["query"]
    properties = search["inputSchema"]["properties"]
    assert properties["query"]["type"] == "string"
    assert (properties["timeframe"]["type"], properties["timeframe"]["default"]) == ("string", "1h")
    assert properties["level"]["enum"] == ["error", "warning", "info"]
    assert set(search["outputSchema"]["required"]) == {"cluster", "region", "logs", "count"}


async def test_each_cluster_has_one_tool_of_its_own(us: Client, eu: Client) -> None:
    us_tools = {tool["name"] for tool in (await rpc(us, "tools/list")).json()["result"]["tools"]}
    eu_tools = {tool["name"] for tool in (await rpc(eu, "tools/list", headers=EU_AUTH)).json()["result"]["tools"]}
    assert us_tools & eu_tools == {"search_logs"}
    assert us_tools ^ eu_tools == {"cluster_health_us", "cluster_health_eu"}


async def test_cluster_health_reports_status_nodes_and_region(us: Client) -> None:
    result = await call(us, "cluster_health_us", {})
    health = result["structuredContent"]
    assert health["region"] == "us"
    assert health["status"] in {"green", "yellow", "red"}
    assert health["nodes"] > 0


async def test_search_logs_keeps_lines_containing_every_query_word_in_any_case(us: Client) -> None:
    result = await call(us, "search_logs", {"query": "SPRING-sale Failed"})
    assert result["isError"] is False
    logs = result["structuredContent"]["logs"]
    assert [(entry["level"], entry["service"]) for entry in logs] == [("error", "campaign-service")]
    assert set(logs[0]) == {"timestamp", "level", "service", "message"}
    assert logs[0]["timestamp"].endswith("Z")


async def test_search_logs_returns_structured_content_and_the_same_json_as_text(us: Client) -> None:
    result = await call(us, "search_logs", {"query": "campaign"})
    document = result["structuredContent"]
    assert (document["cluster"], document["region"], document["count"]) == ("demo-logs-us", "us", 3)
    assert len(document["logs"]) == 3
    assert result["content"] == [{"type": "text", "text": json.dumps(document, separators=(",", ":"))}]


async def test_search_logs_filters_by_level_and_timeframe(us: Client) -> None:
    infos = (await call(us, "search_logs", {"query": "campaign", "level": "info"}))["structuredContent"]["logs"]
    assert [entry["level"] for entry in infos] == ["info"]
    recent = (await call(us, "search_logs", {"query": "campaign", "timeframe": "5m"}))["structuredContent"]
    assert recent["count"] == 1


async def test_search_logs_without_a_match_returns_an_empty_list(us: Client) -> None:
    result = await call(us, "search_logs", {"query": "zebra"})
    assert result["isError"] is False
    assert (result["structuredContent"]["logs"], result["structuredContent"]["count"]) == ([], 0)


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({}, "query"),
        (None, "object"),
        ({"query": 5}, "query"),
        ({"query": "x", "level": "fatal"}, "level"),
        ({"query": "x", "timeframe": "yesterday"}, "timeframe"),
        ({"query": "x", "limit": 3}, "limit"),
    ],
)
async def test_search_logs_bad_arguments_give_an_error_result_naming_them(
    us: Client, arguments: Any, named: str
) -> None:
    result = await call(us, "search_logs", arguments)
    assert result["isError"] is True
    assert named in result["content"][0]["text"]


async def test_an_unknown_tool_is_invalid_params(us: Client) -> None:
    answer = (await rpc(us, "tools/call", {"name": "drop_tables", "arguments": {}})).json()
    assert answer["id"] == 7
    assert answer["error"]["code"] == -32602
    assert "drop_tables" in answer["error"]["message"]


async def test_an_unknown_method_is_method_not_found_with_http_404(us: Client) -> None:
    response = await rpc(us, "server/discover")
    assert response.status_code == 404
    assert response.json() == {
        "jsonrpc": "2.0",
        "id": 7,
        "error": {"code": -32601, "message": "Method not found: server/discover"},
    }


async def test_unparseable_json_is_a_parse_error_with_http_400(us: Client) -> None:
    response = await us.post("/mcp", content=b'{"jsonrpc": "2.0", ', headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert (response.json()["id"], response.json()["error"]["code"]) == (None, -32700)


@pytest.mark.parametrize(
    "message",
    [
        [{"jsonrpc": "2.0", "id": 1, "method": "ping"}],  # a batch
        "ping",
        {"id": 1, "method": "ping"},  # no "jsonrpc": "2.0"
        {"jsonrpc": "2.0", "id": None, "method": "ping"},
        {"jsonrpc": "2.0", "id": 1, "method": 5},
        {"jsonrpc": "2.0", "id": 1},
        {"jsonrpc": "2.0", "id": 1, "method": "ping", "result": {}},
    ],
)
async def test_a_body_that_is_no_json_rpc_message_is_invalid_request_with_http_400(us: Client, message: Any) -> None:
    response = await us.post("/mcp", json=message)
    assert response.status_code == 400
    assert (response.json()["id"], response.json()["error"]["code"]) == (None, -32600)


async def test_an_unsupported_protocol_version_header_is_refused_with_http_400(us: Client) -> None:
    response = await rpc(us, "tools/list", headers={"MCP-Protocol-Version": "2026-07-28"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32600
    assert (await rpc(us, "tools/list", headers={"MCP-Protocol-Version": "2025-06-18"})).status_code == 200


@pytest.mark.parametrize("method", ["GET", "DELETE"])
async def test_get_and_delete_are_405_because_there_are_no_streams_or_sessions(us: Client, method: str) -> None:
    response = await us.request(method, "/mcp")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def test_a_foreign_origin_is_forbidden_but_a_local_one_is_served(us: Client) -> None:
    assert (await rpc(us, "ping", headers={"origin": "https://evil.example"})).status_code == 403
    assert (await rpc(us, "ping", headers={"origin": "http://[::1"})).status_code == 403
    assert (await rpc(us, "ping", headers={"origin": "http://localhost:6274"})).status_code == 200


async def test_the_eu_cluster_answers_401_without_a_token(eu: Client) -> None:
    response = await rpc(eu, "tools/list")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="demo-logs-eu"'
    error = response.json()["error"]
    assert "DEMO_LOGS_EU_TOKEN" in error["message"]


@pytest.mark.parametrize("authorization", ["Bearer wrong-VALUE", "Basic wrong-VALUE", "right-token"])
async def test_the_eu_cluster_refuses_a_wrong_token_without_echoing_it(eu: Client, authorization: str) -> None:
    response = await rpc(eu, "tools/list", headers={"authorization": authorization})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert "wrong-VALUE" not in response.text
    assert authorization not in response.text


async def test_the_eu_cluster_serves_requests_with_the_right_token(eu: Client) -> None:
    result = await call(eu, "search_logs", {"query": "timeout"}, headers=EU_AUTH)
    assert result["structuredContent"]["cluster"] == "demo-logs-eu"
    assert result["structuredContent"]["count"] == 1


async def test_the_eu_cluster_checks_the_token_before_anything_else(eu: Client) -> None:
    assert (await eu.get("/mcp")).status_code == 401
    assert (await eu.post("/mcp", content=b"{nope")).status_code == 401
