"""``/mcp`` with the official MCP SDK client (both eras) and raw HTTP for every validation rule."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from mcp import Client
from pydantic import Field

from app.asgi import create_app
from app.settings import Settings
from tests.mcp_backends import Backend
from tests.servers import serve_asgi

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

ACCEPT = "application/json, text/event-stream"
MODERN = "2026-07-28"
META = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}


@pytest.fixture
def running_gateway(
    make_settings: Callable[..., Settings],
    write_servers_file: Callable[[dict[str, Any]], Path],
    backends: Callable[..., Backend],
) -> Callable[..., Any]:
    """``async with running_gateway(**settings) as url`` — a real HTTP gateway over two backends (a, b)."""

    @asynccontextmanager
    async def run(**settings: Any) -> AsyncIterator[str]:
        def triple(x: int) -> int:
            return 3 * x

        servers = {
            "a": {"url": backends("a", extra_tools={"triple": triple}).url},
            "b": {"url": backends("b", kind="legacy").url},
        }
        app = create_app(make_settings(mcp_servers_file=str(write_servers_file({"servers": servers})), **settings))
        with serve_asgi(app) as base:
            yield f"{base}/mcp"

    return run


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_the_official_sdk_client_lists_and_calls_tools(running_gateway: Callable[..., Any], mode: str) -> None:
    async with running_gateway() as url, Client(url, mode=mode) as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert {"echo", "search_logs", "triple", "broadcast__search_logs"} <= tools.keys()
        assert tools["search_logs"].annotations is not None
        assert tools["search_logs"].annotations.read_only_hint is True
        single = await client.call_tool("triple", {"x": 14})
        assert single.content[0].text == "42"
        assert not single.is_error
        shared = await client.call_tool("search_logs", {"query": "boom"})
        assert shared.content[0].text == "Successfully executed 'search_logs' on 2/2 servers"
        assert set(shared.structured_content["results"]) == {"a", "b"}
        failed = await client.call_tool("fail", {"message": "broken"})
        assert failed.is_error


async def post(url: str, body: Any, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
    sent = {"content-type": "application/json", "accept": ACCEPT, **(headers or {})}
    async with httpx.AsyncClient(timeout=30) as http:
        if isinstance(body, bytes):
            return await http.post(url, content=body, headers=sent, **kwargs)
        return await http.post(url, json=body, headers=sent, **kwargs)


def rpc(method: str, params: dict[str, Any] | None = None, request_id: int | None = 1) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if request_id is not None:
        message["id"] = request_id
    if params is not None:
        message["params"] = params
    return message


async def initialize(url: str, version: str = "2025-11-25") -> str:
    response = await post(
        url,
        rpc(
            "initialize", {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
        ),
    )
    assert response.status_code == 200
    return response.headers["mcp-session-id"]


# --- handshake era -----------------------------------------------------------------------------


async def test_initialize_negotiates_and_issues_a_session(running_gateway: Callable[..., Any]) -> None:
    async with running_gateway() as url:
        old = await post(url, rpc("initialize", {"protocolVersion": "2025-03-26", "capabilities": {}}))
        future = await post(url, rpc("initialize", {"protocolVersion": "2030-01-01", "capabilities": {}}))
    assert old.json()["result"]["protocolVersion"] == "2025-03-26"
    assert future.json()["result"]["protocolVersion"] == "2025-11-25"
    session = old.headers["mcp-session-id"]
    assert all(0x21 <= ord(ch) <= 0x7E for ch in session)
    assert old.json()["result"]["serverInfo"]["name"] == "mcp-gateway"


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 400, -32600),  # no session id
        ({"mcp-session-id": "forged.value"}, 404, -32600),
        ({"mcp-protocol-version": "2025-06-18"}, 400, -32600),  # differs from the session's version
    ],
)
async def test_session_rules(
    running_gateway: Callable[..., Any], headers: dict[str, str], status: int, code: int
) -> None:
    async with running_gateway() as url:
        session = await initialize(url)
        sent = {"mcp-session-id": session, **headers} if "mcp-session-id" not in headers and headers else headers
        response = await post(url, rpc("tools/list"), sent)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


async def test_a_session_works_on_another_replica_with_the_same_secret(
    running_gateway: Callable[..., Any],
) -> None:
    async with (
        running_gateway(mcp_session_secret="shared-secret") as first,
        running_gateway(mcp_session_secret="shared-secret") as second,
    ):
        session = await initialize(first)
        headers = {"mcp-session-id": session, "mcp-protocol-version": "2025-11-25"}
        elsewhere = await post(second, rpc("tools/list"), headers)
    async with running_gateway(mcp_session_secret="other-secret") as third:
        foreign = await post(third, rpc("tools/list"), headers)
    assert elsewhere.status_code == 200
    assert "echo" in {t["name"] for t in elsewhere.json()["result"]["tools"]}
    assert foreign.status_code == 404


async def test_handshake_notifications_and_responses_get_202(running_gateway: Callable[..., Any]) -> None:
    async with running_gateway() as url:
        session = await initialize(url)
        note = await post(url, rpc("notifications/initialized", request_id=None), {"mcp-session-id": session})
        answer = await post(url, {"jsonrpc": "2.0", "id": 9, "result": {}}, {"mcp-session-id": session})
    assert (note.status_code, note.content) == (202, b"")
    assert answer.status_code == 202


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (rpc("ping"), {"content-type": "text/plain"}, 415),
        (rpc("ping"), {"accept": "text/html"}, 406),
        (rpc("ping"), {"origin": "https://evil.example"}, 403),
    ],
)
async def test_http_level_rejections(
    running_gateway: Callable[..., Any], body: dict[str, Any], headers: dict[str, str], status: int
) -> None:
    async with running_gateway() as url:
        response = await post(url, body, headers)
    assert response.status_code == status


async def test_allowed_origins_and_loopback_origins_pass(running_gateway: Callable[..., Any]) -> None:
    async with running_gateway(mcp_allowed_origins="https://app.example") as url:
        listed = await post(
            url,
            rpc("initialize", {"protocolVersion": "2025-11-25", "capabilities": {}}),
            {"origin": "https://app.example"},
        )
        loopback = await post(
            url,
            rpc("initialize", {"protocolVersion": "2025-11-25", "capabilities": {}}),
            {"origin": "http://localhost:6274"},
        )
    assert (listed.status_code, loopback.status_code) == (200, 200)


@pytest.mark.parametrize(
    ("body", "code"), [(b"{not json", -32700), (b"[1, 2]", -32600), (b'{"jsonrpc": "1.0"}', -32600)]
)
async def test_malformed_bodies(running_gateway: Callable[..., Any], body: bytes, code: int) -> None:
    async with running_gateway() as url:
        response = await post(url, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert response.json()["id"] is None


async def test_get_needs_a_session_and_modern_get_or_delete_is_405(running_gateway: Callable[..., Any]) -> None:
    async with running_gateway() as url, httpx.AsyncClient() as http:
        missing = await http.get(url, headers={"accept": "text/event-stream"})
        forged = await http.get(url, headers={"accept": "text/event-stream", "mcp-session-id": "x.y"})
        modern_get = await http.get(url, headers={"accept": "text/event-stream", "mcp-protocol-version": MODERN})
        modern_delete = await http.delete(url, headers={"mcp-protocol-version": MODERN})
        put = await http.put(url, content=b"{}")
    assert (missing.status_code, forged.status_code) == (400, 404)
    assert (modern_get.status_code, modern_get.headers["allow"]) == (405, "POST")
    assert (modern_delete.status_code, modern_delete.headers["allow"]) == (405, "POST")
    assert (put.status_code, put.headers["allow"]) == (405, "GET, POST, DELETE")


async def test_delete_ends_the_session_everywhere(
    make_settings: Callable[..., Settings], write_servers_file: Callable[[dict[str, Any]], Path]
) -> None:
    settings = make_settings(
        mcp_servers_file=str(write_servers_file({"servers": {}})),
        mcp_session_secret="shared",
        registry_refresh_seconds=0.2,
    )
    with serve_asgi(create_app(settings)) as a, serve_asgi(create_app(settings)) as b:
        first, second = f"{a}/mcp", f"{b}/mcp"
        session = await initialize(first)
        assert (await post(second, rpc("ping"), {"mcp-session-id": session})).status_code == 200
        async with httpx.AsyncClient() as http:
            no_id = await http.delete(first)
            ended = await http.delete(first, headers={"mcp-session-id": session})
            again = await http.delete(first, headers={"mcp-session-id": session})
        assert (no_id.status_code, ended.status_code, again.status_code) == (400, 204, 404)
        assert (await post(first, rpc("ping"), {"mcp-session-id": session})).status_code == 404
        await asyncio.sleep(0.6)  # the other replica re-reads ended sessions every REGISTRY_REFRESH_SECONDS
        assert (await post(second, rpc("ping"), {"mcp-session-id": session})).status_code == 404
        fresh = await initialize(second)
        assert (await post(first, rpc("ping"), {"mcp-session-id": fresh})).status_code == 200


@pytest.mark.parametrize("era", ["handshake", "modern"])
async def test_callers_hear_tools_list_changed(running_gateway: Callable[..., Any], era: str) -> None:
    async with running_gateway() as url, httpx.AsyncClient(timeout=10) as http:
        if era == "handshake":
            session = await initialize(url)
            stream = http.stream("GET", url, headers={"accept": "text/event-stream", "mcp-session-id": session})
        else:
            body = modern_body("subscriptions/listen", {"notifications": {"toolsListChanged": True}}, request_id=77)
            headers = {"content-type": "application/json", "accept": ACCEPT, **modern("subscriptions/listen")}
            stream = http.stream("POST", url, json=body, headers=headers)
        async with stream as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            events = response.aiter_lines()
            if era == "modern":
                first = json.loads(await anext(_data_lines(events)))
                assert first["method"] == "notifications/subscriptions/acknowledged"
                assert first["params"]["notifications"] == {"toolsListChanged": True}
                assert first["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == 77
            session_headers = {"mcp-session-id": await initialize(url)}
            added = await post(
                url, rpc("tools/call", {"name": "add_tool_now", "arguments": {"name": "late_tool"}}), session_headers
            )
            assert added.status_code == 200
            note = json.loads(await asyncio.wait_for(anext(_data_lines(events)), 10))
    assert note["method"] == "notifications/tools/list_changed"
    if era == "modern":
        assert note["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == 77


async def _data_lines(lines: Any) -> Any:
    async for line in lines:
        if line.startswith("data: "):
            yield line.removeprefix("data: ")


async def test_body_over_the_limit_is_413(running_gateway: Callable[..., Any]) -> None:
    async with running_gateway(max_request_body_bytes=1000) as url:
        response = await post(url, rpc("tools/call", {"name": "echo", "arguments": {"text": "x" * 5000}}))
    assert response.status_code == 413


async def test_a_chunked_body_is_cut_off_once_over_the_limit(running_gateway: Callable[..., Any]) -> None:
    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit applies to what arrives
        yield b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"pad": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'"}}'

    async with running_gateway(max_request_body_bytes=1000) as url, httpx.AsyncClient() as http:
        headers = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
        response = await http.post(url, content=chunks(), headers=headers)
        assert "content-length" not in response.request.headers
        assert response.status_code == 413
        assert await initialize(url)  # the gateway goes on serving


async def test_unknown_method_and_tool_in_the_handshake_era(running_gateway: Callable[..., Any]) -> None:
    async with running_gateway() as url:
        session = {"mcp-session-id": await initialize(url)}
        unknown = await post(url, rpc("resources/unknown"), session)
        tool = await post(url, rpc("tools/call", {"name": "nope", "arguments": {}}), session)
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (200, -32601)
    assert (tool.status_code, tool.json()["error"]["code"]) == (200, -32602)


# --- 2026-07-28 ---------------------------------------------------------------------------------


def modern(method: str, params: dict[str, Any] | None = None, name: str | None = None, **extra: str) -> dict[str, str]:
    headers = {"mcp-protocol-version": MODERN, "mcp-method": method}
    if name is not None:
        headers["mcp-name"] = name
    headers.update(extra)
    return headers


def modern_body(method: str, params: dict[str, Any] | None = None, request_id: int | None = 1) -> dict[str, Any]:
    return rpc(method, {**(params or {}), "_meta": META}, request_id)


async def test_server_discover(running_gateway: Callable[..., Any]) -> None:
    async with running_gateway() as url:
        response = await post(url, modern_body("server/discover"), modern("server/discover"))
    result = response.json()["result"]
    assert response.status_code == 200
    assert result["supportedVersions"] == [MODERN]
    assert result["resultType"] == "complete"
    assert {"ttlMs", "cacheScope", "capabilities"} <= result.keys()
    assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "mcp-gateway"


async def test_modern_tools_list_is_paginated_deterministically_with_cache_hints(
    running_gateway: Callable[..., Any],
) -> None:
    async with running_gateway() as url:
        pages, cursor = [], None
        for _ in range(20):
            params = {"cursor": cursor} if cursor else {}
            result = (await post(url, modern_body("tools/list", params), modern("tools/list"))).json()["result"]
            pages.append([t["name"] for t in result["tools"]])
            assert {"ttlMs", "cacheScope", "resultType"} <= result.keys()
            cursor = result.get("nextCursor")
            if not cursor:
                break
    names = [name for page in pages for name in page]
    assert names == sorted(names)
    assert len(names) == len(set(names))
    assert "search_logs" in names


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (modern_body("tools/list", {"cursor": "bm90LWEtY3Vyc29y"}), modern("tools/list"), 400, -32602),
        (rpc("tools/list", {}), modern("tools/list"), 400, -32602),  # no _meta
        (
            rpc("tools/list", {"_meta": {"io.modelcontextprotocol/protocolVersion": MODERN}}),
            modern("tools/list"),
            400,
            -32602,
        ),
        (modern_body("tools/list"), {"mcp-protocol-version": MODERN, "mcp-method": "tools/call"}, 400, -32020),
        (modern_body("tools/list"), {"mcp-method": "tools/list"}, 400, -32020),  # version only in the body
        (
            modern_body("tools/call", {"name": "echo", "arguments": {"text": "x"}}),
            modern("tools/call", name="search_logs"),
            400,
            -32020,
        ),
        (
            modern_body("tools/call", {"name": "echo", "arguments": {"text": "x"}}),
            modern("tools/call"),
            400,
            -32020,
        ),  # no Mcp-Name
        (modern_body("tools/call", {"name": "nope", "arguments": {}}), modern("tools/call", name="nope"), 400, -32602),
        (modern_body("prompts/unknown"), modern("prompts/unknown"), 404, -32601),
    ],
)
async def test_modern_validation_ladder(
    running_gateway: Callable[..., Any], body: dict[str, Any], headers: dict[str, str], status: int, code: int
) -> None:
    async with running_gateway() as url:
        response = await post(url, body, headers)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code


async def test_unsupported_modern_version_names_the_supported_ones(running_gateway: Callable[..., Any]) -> None:
    body = rpc("tools/list", {"_meta": {**META, "io.modelcontextprotocol/protocolVersion": "2099-01-01"}})
    async with running_gateway() as url:
        response = await post(url, body, {"mcp-protocol-version": "2099-01-01", "mcp-method": "tools/list"})
    error = response.json()["error"]
    assert response.status_code == 400
    assert error["code"] == -32022
    assert error["data"] == {"supported": [MODERN], "requested": "2099-01-01"}


async def test_modern_duplicate_routing_header_is_refused(running_gateway: Callable[..., Any]) -> None:
    async with running_gateway() as url, httpx.AsyncClient() as http:
        headers = [
            ("content-type", "application/json"),
            ("accept", ACCEPT),
            ("mcp-protocol-version", MODERN),
            ("mcp-protocol-version", MODERN),
            ("mcp-method", "tools/list"),
        ]
        response = await http.post(url, content=json.dumps(modern_body("tools/list")), headers=headers)
    assert (response.status_code, response.json()["error"]["code"]) == (400, -32020)


async def test_modern_notification_is_202_and_call_works_with_an_encoded_name(
    running_gateway: Callable[..., Any],
) -> None:
    encoded = "=?base64?" + base64.b64encode(b"echo").decode() + "?="
    async with running_gateway() as url:
        note = await post(
            url, modern_body("notifications/initialized", request_id=None), modern("notifications/initialized")
        )
        call = await post(
            url,
            modern_body("tools/call", {"name": "echo", "arguments": {"text": "hi"}}),
            modern("tools/call", name=encoded),
        )
    assert note.status_code == 202
    assert call.status_code == 200, call.text
    result = call.json()["result"]
    assert result["resultType"] == "complete"
    assert result["content"][0]["text"] == "Successfully executed 'echo' on 2/2 servers"


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_resources_and_prompts_of_every_backend_are_reachable(
    running_gateway: Callable[..., Any], mode: str
) -> None:
    async with running_gateway() as url, Client(url, mode=mode) as client:
        resources = {str(r.uri): r for r in (await client.list_resources()).resources}
        assert {"logs://a/recent", "logs://b/recent", "config://shared"} <= resources.keys()
        templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
        assert {"logs://a/item/{item_id}", "logs://b/item/{item_id}"} <= templates
        recent = await client.read_resource("logs://b/recent")
        assert recent.contents[0].text == "recent lines of b"
        item = await client.read_resource("logs://b/item/42")
        assert item.contents[0].text == "line 42 of b"
        shared = await client.read_resource("config://shared")
        assert shared.contents[0].text == "config of a"  # the first server by name owns a clashing URI
        prompts = {p.name for p in (await client.list_prompts()).prompts}
        assert {"summarize", "b__summarize"} <= prompts
        first = await client.get_prompt("summarize", {"topic": "outages"})
        second = await client.get_prompt("b__summarize", {"topic": "outages"})
        assert "a's logs" in first.messages[0].content.text
        assert "b's logs" in second.messages[0].content.text


async def test_unknown_resource_and_prompt_are_invalid_params(running_gateway: Callable[..., Any]) -> None:
    async with running_gateway() as url:
        session = {"mcp-session-id": await initialize(url)}
        resource = await post(url, rpc("resources/read", {"uri": "nothing://here"}), session)
        prompt = await post(url, rpc("prompts/get", {"name": "nope"}), session)
        modern_read = await post(
            url,
            modern_body("resources/read", {"uri": "nothing://here"}),
            modern("resources/read", name="nothing://here"),
        )
    assert resource.json()["error"]["code"] == -32602
    assert prompt.json()["error"]["code"] == -32602
    assert (modern_read.status_code, modern_read.json()["error"]["code"]) == (400, -32602)


@pytest.mark.parametrize("mode", ["legacy", "auto"])
@pytest.mark.parametrize("backend_kind", ["dual", "legacy", "sse"])
async def test_backend_progress_reaches_the_caller(
    make_settings: Callable[..., Settings],
    write_servers_file: Callable[[dict[str, Any]], Path],
    backends: Callable[..., Backend],
    mode: str,
    backend_kind: str,
) -> None:
    backend = backends("solo", kind=backend_kind)
    path = write_servers_file(
        {"servers": {"solo": {"url": backend.url, "type": "sse" if backend_kind == "sse" else "http"}}}
    )
    updates: list[tuple[float, float | None, str | None]] = []

    async def progress(value: float, total: float | None, message: str | None) -> None:
        updates.append((value, total, message))

    with serve_asgi(create_app(make_settings(mcp_servers_file=str(path)))) as base:
        async with Client(f"{base}/mcp", mode=mode) as client:
            result = await client.call_tool("count_with_progress", {"steps": 3}, progress_callback=progress)
    assert result.content[0].text == "counted to 3"
    assert updates == [(1, 3, "step 1"), (2, 3, "step 2"), (3, 3, "step 3")]


@pytest.mark.parametrize("client_era", ["handshake", "modern"])
async def test_a_caller_that_disconnects_cancels_the_backend_call(
    make_settings: Callable[..., Settings],
    write_servers_file: Callable[[dict[str, Any]], Path],
    backends: Callable[..., Backend],
    client_era: str,
) -> None:
    backend = backends("solo", kind="legacy")  # handshake era: the cancellation is visible as a notification
    path = write_servers_file({"servers": {"solo": {"url": backend.url}}})
    with serve_asgi(create_app(make_settings(mcp_servers_file=str(path)))) as base:
        url = f"{base}/mcp"
        if client_era == "handshake":
            headers = {"mcp-session-id": await initialize(url)}
            body = rpc("tools/call", {"name": "sleep", "arguments": {"seconds": 5}})
        else:
            headers = modern("tools/call", name="sleep")
            body = modern_body("tools/call", {"name": "sleep", "arguments": {"seconds": 5}})
        async with httpx.AsyncClient(timeout=10) as http:
            sent = {"content-type": "application/json", "accept": ACCEPT, **headers}
            async with http.stream("POST", url, json=body, headers=sent) as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                await asyncio.sleep(0.5)  # the backend is now sleeping; hang up
        for _ in range(60):
            if backend.calls("notifications/cancelled"):
                break
            await asyncio.sleep(0.05)
    cancelled = backend.calls("notifications/cancelled")
    assert cancelled, "the backend was not told that the call was abandoned"
    assert cancelled[0].json()["params"]["requestId"] == backend.calls("tools/call")[-1].json()["id"]


async def test_a_handshake_callers_notifications_cancelled_stops_the_call(
    make_settings: Callable[..., Settings],
    write_servers_file: Callable[[dict[str, Any]], Path],
    backends: Callable[..., Backend],
) -> None:
    backend = backends("solo", kind="legacy")
    path = write_servers_file({"servers": {"solo": {"url": backend.url}}})
    with serve_asgi(create_app(make_settings(mcp_servers_file=str(path)))) as base:
        url = f"{base}/mcp"
        session = {"mcp-session-id": await initialize(url)}
        body = rpc("tools/call", {"name": "sleep", "arguments": {"seconds": 5}}, request_id="slow-1")
        async with httpx.AsyncClient(timeout=10) as http:
            sent = {"content-type": "application/json", "accept": ACCEPT, **session}
            started = asyncio.get_running_loop().time()
            async with http.stream("POST", url, json=body, headers=sent) as response:
                await asyncio.sleep(0.5)
                cancel = rpc("notifications/cancelled", {"requestId": "slow-1", "reason": "user"}, request_id=None)
                assert (await post(url, cancel, session)).status_code == 202
                remainder = b"".join([chunk async for chunk in response.aiter_bytes()])
            ended_after = asyncio.get_running_loop().time() - started
    assert ended_after < 3  # the stream closed without waiting for the 5 s tool
    assert b'"result"' not in remainder  # a cancelled request gets no response
    forwarded = backend.calls("notifications/cancelled")
    assert forwarded
    assert forwarded[0].json()["params"]["requestId"] == backend.calls("tools/call")[-1].json()["id"]


def regional_backend(backends: Callable[..., Backend]) -> Backend:
    def regional(
        query: str, region: Annotated[str, Field(json_schema_extra={"x-mcp-header": "Region"})] = "anywhere"
    ) -> str:
        return f"{query} in {region}"

    return backends("geo", extra_tools={"regional": regional})


@pytest.mark.parametrize(
    ("arguments", "header", "status"),
    [
        ({"query": "q", "region": "eu-west"}, "eu-west", 200),
        ({"query": "q", "region": "eu-west"}, None, 400),  # argument without its header
        ({"query": "q"}, "eu-west", 400),  # header without its argument
        ({"query": "q", "region": "eu-west"}, "us-east", 400),  # different value
        ({"query": "q"}, None, 200),
    ],
)
async def test_mcp_param_headers_are_checked_against_the_advertised_schema(
    make_settings: Callable[..., Settings],
    write_servers_file: Callable[[dict[str, Any]], Path],
    backends: Callable[..., Backend],
    arguments: dict[str, Any],
    header: str | None,
    status: int,
) -> None:
    backend = regional_backend(backends)
    path = write_servers_file({"servers": {"geo": {"url": backend.url}}})
    headers = modern("tools/call", name="regional")
    if header is not None:
        headers["mcp-param-region"] = header
    with serve_asgi(create_app(make_settings(mcp_servers_file=str(path)))) as base:
        response = await post(
            f"{base}/mcp", modern_body("tools/call", {"name": "regional", "arguments": arguments}), headers
        )
    assert response.status_code == status, response.text
    if status == 400:
        assert response.json()["error"]["code"] == -32020
    elif "region" in arguments:
        # The gateway re-derived the header for the backend from the backend's own schema.
        sent = backend.calls("tools/call")[-1]
        assert sent.headers["mcp-param-region"] == arguments["region"]


async def test_batches_are_answered_in_2025_03_26_sessions_only(running_gateway: Callable[..., Any]) -> None:
    async with running_gateway() as url:
        old = await initialize(url, "2025-03-26")
        batch = [
            rpc("ping", request_id=1),
            rpc("notifications/initialized", request_id=None),
            rpc("tools/call", {"name": "triple", "arguments": {"x": 5}}, request_id="t"),
            rpc("tools/call", {"name": "no_such_tool", "arguments": {}}, request_id=3),
            rpc("initialize", {"protocolVersion": "2025-03-26", "capabilities": {}}, request_id=4),
        ]
        answered = await post(url, batch, {"mcp-session-id": old})
        only_notes = await post(url, [rpc("notifications/initialized", request_id=None)], {"mcp-session-id": old})
        empty = await post(url, [], {"mcp-session-id": old})
        newer = await initialize(url, "2025-06-18")
        refused = await post(url, [rpc("ping")], {"mcp-session-id": newer})
    assert answered.status_code == 200
    responses = answered.json()
    assert [r["id"] for r in responses] == [1, "t", 3, 4]
    assert responses[0]["result"] == {}
    assert responses[1]["result"]["content"][0]["text"] == "15"
    assert responses[2]["error"]["code"] == -32602
    assert responses[3]["error"]["code"] == -32600
    assert only_notes.status_code == 202
    assert empty.status_code == 400
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == -32600
    assert "2025-03-26" in refused.json()["error"]["message"]
