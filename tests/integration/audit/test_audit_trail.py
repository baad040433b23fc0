"""Every operation leaves one audit event (and a broadcast one per leg), on every surface, with the request's
identity, trace and redacted parameters; ``GET /audit`` reads them back."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.integration.conftest import Gateway, entry
from tests.mcp_backends import Backend

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

ACCEPT = "application/json, text/event-stream"


def audit_lines(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "audit.json"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def flushed(client: AsyncTestClient[Litestar]) -> None:
    """Wait until the app's audit writers have nothing queued (they run on the app's own event loop)."""
    for _ in range(500):
        if all(stats.queued == 0 for stats in client.app.state.audit.stats()):
            return
        await asyncio.sleep(0.02)
    pytest.fail("audit events still queued after 10 s")


def dead_url() -> str:
    return "http://127.0.0.1:9/mcp"  # discard port: connection refused


async def test_an_invocation_is_recorded_with_the_seed_fields_and_request_identity(
    backends: Callable[..., Backend], gateway: Gateway, tmp_path: Path
) -> None:
    alpha = backends("alpha")
    async with gateway({"alpha": entry(alpha)}) as client:
        response = await client.post(
            "/mcp/invoke",
            params={"mcp_server": "alpha"},
            json={"tool_name": "echo", "parameters": {"text": "Bearer abcdefghijklmnop", "api_key": "k-123"}},
            headers={"X-Request-ID": "req-42"},
        )
    assert response.status_code == 200
    (event,) = [e for e in audit_lines(tmp_path) if e["action"] == "invoke_tool"]
    assert event["logger"] == "audit"
    assert event["level"] == "INFO"
    assert event["event_type"] == "mcp_request"
    assert event["timestamp"].endswith("Z")
    assert (event["user"], event["mcp_server"], event["tool_name"]) == ("anonymous", "alpha", "echo")
    assert (event["status"], event["response_status"], event["error"]) == ("success", 200, None)
    assert event["parameters"] == {"text": "Bearer [REDACTED]", "api_key": "[REDACTED]"}
    assert event["duration_ms"] > 0
    assert event["request_id"] == "req-42" == response.headers["x-request-id"]
    assert event["trace_id"] == response.headers["x-trace-id"]
    assert len(event["trace_id"]) == 32
    assert event["client"]
    assert "abcdefghijklmnop" not in (tmp_path / "audit.json").read_text()
    assert "k-123" not in (tmp_path / "audit.json").read_text()


async def test_failures_are_recorded_with_their_status_and_reason(
    backends: Callable[..., Backend], gateway: Gateway, tmp_path: Path
) -> None:
    alpha = backends("alpha")
    async with gateway({"alpha": entry(alpha), "dead": {"url": dead_url()}}) as client:
        tool_error = await client.post(
            "/mcp/invoke", params={"mcp_server": "alpha"}, json={"tool_name": "fail", "parameters": {"message": "m1"}}
        )
        unknown = await client.post("/mcp/invoke", params={"mcp_server": "nope"}, json={"tool_name": "echo"})
        unreachable = await client.post("/mcp/invoke", params={"mcp_server": "dead"}, json={"tool_name": "echo"})
    assert (tool_error.status_code, unknown.status_code, unreachable.status_code) == (200, 404, 502)
    events = {e["mcp_server"]: e for e in audit_lines(tmp_path) if e["action"] == "invoke_tool"}
    assert (events["alpha"]["status"], events["alpha"]["response_status"]) == ("error", 200)
    assert "m1" in events["alpha"]["error"]
    assert (events["nope"]["status"], events["nope"]["response_status"]) == ("error", 404)
    assert (events["dead"]["status"], events["dead"]["response_status"]) == ("error", 502)
    assert events["dead"]["level"] == "ERROR"


async def test_a_broadcast_records_each_leg_and_the_whole(
    backends: Callable[..., Backend], gateway: Gateway, tmp_path: Path
) -> None:
    servers = {"a": entry(backends("a")), "b": entry(backends("b")), "dead": {"url": dead_url()}}
    async with gateway(servers) as client:
        response = await client.post(
            "/mcp/invoke-broadcast",
            json={"tool_name": "search_logs", "parameters": {"query": "q"}, "mcp_servers": ["a", "b", "dead"]},
        )
    assert response.json()["successful"] == 2
    events = audit_lines(tmp_path)
    legs = {e["mcp_server"]: e for e in events if e["action"] == "broadcast_leg"}
    (whole,) = [e for e in events if e["action"] == "broadcast"]
    assert set(legs) == {"a", "b", "dead"}
    assert [legs[s]["status"] for s in ("a", "b", "dead")] == ["success", "success", "error"]
    assert legs["dead"]["response_status"] == 502
    assert (whole["status"], whole["mcp_server"], whole["tool_name"]) == ("success", None, "search_logs")
    assert {e["request_id"] for e in (*legs.values(), whole)} == {response.headers["x-request-id"]}
    assert {e["trace_id"] for e in (*legs.values(), whole)} == {response.headers["x-trace-id"]}
    assert all(e["parameters"] == {"query": "q"} for e in (*legs.values(), whole))


async def test_listings_and_calls_are_recorded_on_every_surface(
    backends: Callable[..., Backend], gateway: Gateway, tmp_path: Path
) -> None:
    def only_a(text: str) -> str:
        return text

    servers = {"a": entry(backends("a", extra_tools={"only_a": only_a})), "b": entry(backends("b"))}
    async with gateway(servers) as client:
        await client.get("/mcp/list-tools", params={"mcp_server": "a"})
        await client.get("/tools")
        await client.post("/tools/only_a/invoke", json={"text": "hi"})
        await client.post("/tools/search_logs/invoke", json={"query": "q"})
        initialize = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"},
            },
        }
        headers = {"accept": ACCEPT}
        session = (await client.post("/mcp", json=initialize, headers=headers)).headers["mcp-session-id"]
        headers["mcp-session-id"] = session
        await client.post("/mcp", json={"jsonrpc": "2.0", "id": 2, "method": "tools/list"}, headers=headers)
        call = {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "only_a", "arguments": {"text": "x"}},
        }
        await client.post("/mcp", json=call, headers={**headers, "accept": "application/json"})
        await client.post("/mcp", json={"jsonrpc": "2.0", "id": 4, "method": "ping"}, headers=headers)
    events = [(e["action"], e["mcp_server"], e["tool_name"], e["status"]) for e in audit_lines(tmp_path)]
    assert events.count(("list_tools", "a", None, "success")) == 1
    assert events.count(("list_tools", None, None, "success")) == 2  # GET /tools and MCP tools/list
    assert events.count(("invoke_tool", "a", "only_a", "success")) == 2  # /tools/only_a/invoke and MCP tools/call
    assert ("broadcast", None, "search_logs", "success") in events  # a shared tool fans out
    assert sum(1 for e in events if e[0] == "broadcast_leg") == 2
    assert not any(e[0] in {"ping", "initialize"} for e in events)


async def test_registry_changes_are_recorded(
    backends: Callable[..., Backend], gateway: Gateway, tmp_path: Path
) -> None:
    backend = backends("new")
    async with gateway({}) as client:
        created = await client.post("/mcp/servers", json={"name": "new", "url": backend.url})
        await client.patch("/mcp/server/new", json={"enabled": False})
        await client.patch("/mcp/server/new", json={"enabled": True})
        await client.patch("/mcp/server/new", json={"description": "d", "timeout": 5})
        await client.delete("/mcp/server/new")
        missing = await client.delete("/mcp/server/new")
    assert created.status_code == 201
    assert missing.status_code == 404
    events = [(e["action"], e["status"], e["response_status"]) for e in audit_lines(tmp_path)]
    assert events == [
        ("register_server", "success", 201),
        ("disable_server", "success", 200),
        ("enable_server", "success", 200),
        ("update_server", "success", 200),
        ("delete_server", "success", 204),
        ("delete_server", "error", 404),
    ]
    assert all(e["event_type"] == "registry_change" and e["mcp_server"] == "new" for e in audit_lines(tmp_path))


async def test_audit_endpoint_filters_and_pages(backends: Callable[..., Backend], gateway: Gateway) -> None:
    servers = {"a": entry(backends("a")), "b": entry(backends("b"))}
    async with gateway(servers) as client:
        for n in range(7):
            await client.post(
                "/mcp/invoke",
                params={"mcp_server": "a" if n < 5 else "b"},
                json={"tool_name": "echo", "parameters": {"text": str(n)}},
            )
        await client.post(
            "/mcp/invoke", params={"mcp_server": "a"}, json={"tool_name": "fail", "parameters": {"message": "x"}}
        )
        await flushed(client)
        first = (await client.get("/audit", params={"action": "invoke_tool", "server": "a", "limit": 3})).json()
        second = (
            await client.get("/audit", params={"action": "invoke_tool", "server": "a", "limit": 3, "offset": 3})
        ).json()
        errors = (await client.get("/audit", params={"status": "error"})).json()
        by_tool = (await client.get("/audit", params={"tool": "echo", "user": "anonymous"})).json()
        newest = first["items"][0]["timestamp"]
        until = (
            await client.get(
                "/audit", params={"action": "invoke_tool", "until": newest, "since": "2000-01-01T00:00:00"}
            )
        ).json()
        future = (await client.get("/audit", params={"since": "2999-01-01T00:00:00Z"})).json()
        bad = await client.get("/audit", params={"limit": 0})
        schema = (await client.get("/schema/openapi.json")).json()
        await flushed(client)
        reads = (await client.get("/audit", params={"action": "read_audit", "limit": 500})).json()
    assert first["total"] == second["total"] == 6
    assert [len(first["items"]), len(second["items"])] == [3, 3]
    assert first["next_offset"] == 3
    assert second["next_offset"] is None
    ids = [item["id"] for item in first["items"] + second["items"]]
    assert ids == sorted(ids, reverse=True)
    assert first["items"][0]["tool_name"] == "fail"  # newest first
    assert errors["total"] == 1
    assert errors["items"][0]["error"]
    assert by_tool["total"] == 7
    assert until["total"] == 8
    assert future["total"] == 0
    assert future["items"] == []
    assert bad.status_code == 400
    assert "/audit" in schema["paths"]
    assert reads["total"] == 6  # reading the trail is itself recorded (the refused limit=0 never ran)
    assert reads["items"][-1]["event_type"] == "admin"
    assert reads["items"][-1]["parameters"] == {"action": "invoke_tool", "mcp_server": "a", "limit": 3, "offset": 0}
    parameters = {p["name"] for p in schema["paths"]["/audit"]["get"]["parameters"]}
    assert {"user", "server", "tool", "status", "since", "until", "limit", "offset"} <= parameters


async def test_client_address_is_the_callers(gateway: Gateway, tmp_path: Path) -> None:
    async with gateway({}) as client:
        transport = httpx.ASGITransport(app=client.app, client=("203.0.113.9", 4711))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as http:
            await http.get("/tools")
    (event,) = audit_lines(tmp_path)
    assert event["client"] == "203.0.113.9:4711"
