"""The seed's proxy endpoints and the standard endpoints, end to end through the app, over real SDK backends."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.conftest import Gateway, entry
from tests.mcp_backends import BASE_TOOLS, Backend

# Not storage tests: one database kind is enough.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def test_list_tools_of_one_server_in_the_seed_shape(backends: Callable[..., Backend], gateway: Gateway) -> None:
    alpha = backends("alpha")
    async with gateway({"alpha": entry(alpha)}) as client:
        response = await client.get("/mcp/list-tools", params={"mcp_server": "alpha"})
    assert response.status_code == 200
    body = response.json()
    assert body["mcp_server"] == "alpha"
    assert body["count"] == len(body["tools"]) == len(BASE_TOOLS)
    search = next(t for t in body["tools"] if t["name"] == "search_logs")
    assert search["description"] == "Search this cluster's logs."
    assert search["inputSchema"]["properties"]["query"]["type"] == "string"


async def test_invoke_returns_the_seed_shape(backends: Callable[..., Backend], gateway: Gateway) -> None:
    alpha = backends("alpha", kind="legacy")
    async with gateway({"alpha": entry(alpha)}) as client:
        response = await client.post(
            "/mcp/invoke",
            params={"mcp_server": "alpha"},
            json={"tool_name": "search_logs", "parameters": {"query": "campaign"}},
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    assert (body["tool_name"], body["mcp_server"]) == ("search_logs", "alpha")
    assert body["result"] == {"server": "alpha", "logs": [{"message": "campaign on alpha", "timeframe": "1h"}]}
    assert body["execution_time_ms"] > 0


async def test_a_tool_error_is_success_false_with_the_reason(
    backends: Callable[..., Backend], gateway: Gateway
) -> None:
    alpha = backends("alpha")
    async with gateway({"alpha": entry(alpha)}) as client:
        response = await client.post(
            "/mcp/invoke",
            params={"mcp_server": "alpha"},
            json={"tool_name": "fail", "parameters": {"message": "index missing"}},
        )
    assert response.status_code == 200
    assert response.json()["success"] is False
    assert "index missing" in response.json()["error"]


@pytest.mark.parametrize(
    ("query", "body", "status", "code"),
    [
        ({"mcp_server": "nope"}, {"tool_name": "echo"}, 404, "server_not_found"),
        ({"mcp_server": "off"}, {"tool_name": "echo"}, 409, "server_disabled"),
        ({"mcp_server": "alpha"}, {"tool_name": "no_such_tool"}, 404, "tool_not_found"),
        ({"mcp_server": "alpha"}, {"tool": "echo"}, 400, "invalid_request"),
        ({}, {"tool_name": "echo"}, 400, "invalid_request"),
        ({"mcp_server": "dead"}, {"tool_name": "echo"}, 502, "backend_unreachable"),
    ],
)
async def test_invoke_errors_say_what_happened(
    backends: Callable[..., Backend],
    gateway: Gateway,
    query: dict[str, str],
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    alpha = backends("alpha")
    servers = {"alpha": entry(alpha), "off": entry(alpha, enabled=False), "dead": {"url": "http://127.0.0.1:1/mcp"}}
    async with gateway(servers) as client:
        await client.get("/mcp/list-tools", params={"mcp_server": "alpha"})  # the catalog now knows alpha's tools
        response = await client.post("/mcp/invoke", params=query, json=body)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


async def test_backend_timeout_is_504(backends: Callable[..., Backend], gateway: Gateway) -> None:
    alpha = backends("alpha")
    async with gateway({"alpha": entry(alpha, timeout=0.5)}) as client:
        started = time.perf_counter()
        response = await client.post(
            "/mcp/invoke", params={"mcp_server": "alpha"}, json={"tool_name": "sleep", "parameters": {"seconds": 3}}
        )
        elapsed = time.perf_counter() - started
    assert response.status_code == 504
    assert response.json()["code"] == "backend_timeout"
    assert elapsed < 2.0


async def test_broadcast_is_concurrent_and_keyed_by_server(backends: Callable[..., Backend], gateway: Gateway) -> None:
    servers = {
        name: entry(backends(name, kind=kind))
        for name, kind in (("elk-1", "dual"), ("elk-2", "legacy"), ("elk-3", "sse"))
    }
    async with gateway(servers) as client:
        await client.get("/tools")  # warm the catalog and sessions
        started = time.perf_counter()
        response = await client.post(
            "/mcp/invoke-broadcast", json={"tool_name": "sleep", "parameters": {"seconds": 0.3}}
        )
        elapsed = time.perf_counter() - started
    body = response.json()
    assert response.status_code == 200, response.text
    assert (body["total_servers"], body["successful"], body["failed"]) == (3, 3, 0)
    assert set(body["results"]) == {"elk-1", "elk-2", "elk-3"}
    assert body["errors"] == {}
    assert elapsed < 0.8, f"3 legs of 300 ms took {elapsed:.2f} s: not concurrent"


async def test_broadcast_keeps_results_when_one_server_times_out_or_fails(
    backends: Callable[..., Backend], gateway: Gateway
) -> None:
    fast, slow = backends("fast"), backends("slow")
    servers = {
        "fast": entry(fast),
        "slow": entry(slow, timeout=0.5),
        "dead": {"url": "http://127.0.0.1:1/mcp", "tags": ["logging"]},
    }
    async with gateway(servers) as client:
        response = await client.post(
            "/mcp/invoke-broadcast",
            json={"tool_name": "sleep", "parameters": {"seconds": 1.5}, "mcp_servers": ["fast", "slow", "dead"]},
        )
        assert response.status_code == 200
        body = response.json()
        assert set(body["results"]) == {"fast"}  # 1.5 s is within fast's 30 s timeout
        assert set(body["errors"]) == {"slow", "dead"}
        assert "no answer within 0.5s" in body["errors"]["slow"]
        assert body["execution_time_ms"] < 2500  # about the slowest leg, not the sum
        mixed = await client.post(
            "/mcp/invoke-broadcast",
            json={"tool_name": "search_logs", "parameters": {"query": "q"}, "mcp_servers": ["fast", "slow", "dead"]},
        )
    body = mixed.json()
    assert (body["total_servers"], body["successful"], body["failed"]) == (3, 2, 1)
    assert body["results"]["fast"]["server"] == "fast"
    assert "cannot connect" in body["errors"]["dead"]


async def test_broadcast_where_every_leg_fails(backends: Callable[..., Backend], gateway: Gateway) -> None:
    alpha, beta = backends("alpha"), backends("beta")
    async with gateway({"alpha": entry(alpha), "beta": entry(beta)}) as client:
        response = await client.post(
            "/mcp/invoke-broadcast", json={"tool_name": "fail", "parameters": {"message": "down"}}
        )
    body = response.json()
    assert (body["successful"], body["failed"]) == (0, 2)
    assert all("down" in reason for reason in body["errors"].values())


async def test_broadcast_filters_by_tag(backends: Callable[..., Backend], gateway: Gateway) -> None:
    servers = {
        "prod": entry(backends("prod"), tags=["logging", "production"]),
        "staging": entry(backends("staging"), tags=["logging", "staging"]),
    }
    async with gateway(servers) as client:
        response = await client.post(
            "/mcp/invoke-broadcast",
            json={"tool_name": "search_logs", "parameters": {"query": "x"}, "tags": ["production"]},
        )
        unknown = await client.post("/mcp/invoke-broadcast", json={"tool_name": "nope", "parameters": {}})
    assert set(response.json()["results"]) == {"prod"}
    assert unknown.status_code == 404


async def test_standard_tools_list_aggregates_and_adds_broadcast_tools(
    backends: Callable[..., Backend], gateway: Gateway
) -> None:
    servers = {
        "elk-1": entry(backends("elk-1"), tags=["elk-cluster"]),
        "elk-2": entry(backends("elk-2", kind="sse"), tags=["elk-cluster"]),
    }
    async with gateway(servers) as client:
        tools = {t["name"]: t for t in (await client.get("/tools")).json()["tools"]}
    assert {"search_logs", "broadcast__search_logs", "broadcast__by_tag__elk_cluster"} <= tools.keys()
    assert tools["search_logs"]["annotations"]["readOnlyHint"] is True
    assert tools["broadcast__by_tag__elk_cluster"]["inputSchema"]["required"] == ["tool_name"]


async def test_standard_invoke_broadcasts_a_shared_tool_with_a_results_resource(
    backends: Callable[..., Backend], gateway: Gateway
) -> None:
    servers = {"a": entry(backends("a")), "b": entry(backends("b"))}
    async with gateway(servers) as client:
        shared = (await client.post("/tools/search_logs/invoke", json={"query": "error"})).json()
        twin = (await client.post("/tools/broadcast__search_logs/invoke", json={"query": "error"})).json()
    for result in (shared, twin):
        assert result["isError"] is False
        assert result["content"][0]["text"] == "Successfully executed 'search_logs' on 2/2 servers"
        resource = result["content"][1]["resource"]
        assert resource["uri"] == "gateway://results/search_logs"
        document = json.loads(resource["text"])
        assert set(document["results"]) == {"a", "b"}
        assert document["metadata"]["successful"] == 2


async def test_standard_invoke_of_a_single_server_tool_returns_its_own_result(
    backends: Callable[..., Backend], gateway: Gateway
) -> None:
    def only_here(x: int) -> int:
        return x * 2

    servers = {"a": entry(backends("a", extra_tools={"double": only_here})), "b": entry(backends("b"))}
    async with gateway(servers) as client:
        result = (await client.post("/tools/double/invoke", json={"x": 21})).json()
        missing = await client.post("/tools/nothing/invoke", json={})
    assert result["content"][0]["text"] == "42"
    assert result["isError"] is False
    assert missing.status_code == 404


async def test_tag_broadcast_runs_the_named_tool_on_tagged_servers(
    backends: Callable[..., Backend], gateway: Gateway
) -> None:
    servers = {
        "a": entry(backends("a"), tags=["logs"]),
        "b": entry(backends("b"), tags=["logs"]),
        "c": entry(backends("c")),
    }
    async with gateway(servers) as client:
        result = (
            await client.post(
                "/tools/broadcast__by_tag__logs/invoke", json={"tool_name": "echo", "arguments": {"text": "hi"}}
            )
        ).json()
        bad = await client.post("/tools/broadcast__by_tag__logs/invoke", json={"arguments": {}})
    document = json.loads(result["content"][1]["resource"]["text"])
    assert set(document["results"]) == {"a", "b"}
    assert bad.status_code == 400
    assert "tool_name" in bad.json()["detail"]


async def test_a_dead_server_never_blocks_listing_the_others(
    backends: Callable[..., Backend], gateway: Gateway
) -> None:
    alpha = backends("alpha")
    servers = {"alpha": entry(alpha), "dead": {"url": "http://127.0.0.1:1/mcp"}}
    async with gateway(servers) as client:
        tools = (await client.get("/tools")).json()["tools"]
        info = (await client.get("/mcp/server/dead/info")).json()
        live = (await client.get("/mcp/server/alpha/info")).json()
    assert "echo" in {t["name"] for t in tools}
    assert info["status"]["reachable"] is False
    assert "cannot connect" in info["status"]["last_error"]
    assert live["status"]["reachable"] is True
    assert live["status"]["protocol_version"] == "2026-07-28"
    assert live["status"]["tool_count"] == len(BASE_TOOLS)


async def test_missing_credential_makes_that_server_unavailable_naming_the_ref(
    backends: Callable[..., Backend], gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOT_SET_TOKEN", raising=False)
    alpha = backends("alpha")
    auth = {"method": "bearer", "credential_ref": "env://NOT_SET_TOKEN"}
    async with gateway({"alpha": entry(alpha, auth=auth)}) as client:
        response = await client.post(
            "/mcp/invoke", params={"mcp_server": "alpha"}, json={"tool_name": "echo", "parameters": {"text": "x"}}
        )
    assert response.status_code == 503
    assert response.json()["code"] == "credential_unavailable"
    assert "env://NOT_SET_TOKEN" in response.json()["detail"]


async def test_backend_gets_its_own_credential_never_the_agents_token(
    backends: Callable[..., Backend], gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALPHA_TOKEN", "backend-secret")
    alpha = backends("alpha")
    auth = {"method": "bearer", "credential_ref": "env://ALPHA_TOKEN"}
    async with gateway({"alpha": entry(alpha, auth=auth)}) as client:
        response = await client.post(
            "/mcp/invoke",
            params={"mcp_server": "alpha"},
            json={"tool_name": "echo", "parameters": {"text": "x"}},
            headers={"Authorization": "Bearer agent-token"},
        )
    assert response.status_code == 200
    sent = {r.headers.get("authorization") for r in alpha.requests}
    assert sent == {"Bearer backend-secret"}


@pytest.mark.parametrize("kind", ["dual", "legacy", "sse"])
async def test_tools_list_changed_refreshes_the_catalog_before_the_ttl(
    backends: Callable[..., Backend], gateway: Gateway, kind: str
) -> None:
    alpha = backends("alpha", kind=kind)
    async with gateway({"alpha": entry(alpha)}, catalog_ttl_seconds=3600) as client:
        before = {t["name"] for t in (await client.get("/tools")).json()["tools"]}
        assert "fresh_tool" not in before
        added = await client.post(
            "/mcp/invoke",
            params={"mcp_server": "alpha"},
            json={"tool_name": "add_tool_now", "parameters": {"name": "fresh_tool"}},
        )
        assert added.json()["success"] is True
        for _ in range(60):
            names = {t["name"] for t in (await client.get("/tools")).json()["tools"]}
            if "fresh_tool" in names:
                break
            await asyncio.sleep(0.05)
        assert "fresh_tool" in names, f"catalog not refreshed on list_changed ({kind})"


async def test_a_hanging_server_delays_only_the_first_listing_and_never_the_next(
    backends: Callable[..., Backend], gateway: Gateway
) -> None:
    alpha = backends("alpha")
    with socket.socket() as silent:  # accepts TCP connections (backlog) but never answers a byte
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        hang_url = f"http://127.0.0.1:{silent.getsockname()[1]}/mcp"
        async with gateway({"alpha": entry(alpha), "hang": {"url": hang_url, "timeout": 60}}) as client:
            started = time.perf_counter()
            first = {t["name"] for t in (await client.get("/tools")).json()["tools"]}
            first_elapsed = time.perf_counter() - started
            started = time.perf_counter()
            second = {t["name"] for t in (await client.get("/tools")).json()["tools"]}
            second_elapsed = time.perf_counter() - started
            status = (await client.get("/mcp/server/hang/info")).json()["status"]
    assert "echo" in first
    assert first == second
    assert first_elapsed < 5  # bounded wait for a never-seen server, not its 60 s timeout
    assert second_elapsed < 1  # its listing is pending in the background now
    assert status["status"] == "pending"


async def test_every_backend_request_carries_a_trace_context(
    backends: Callable[..., Backend], gateway: Gateway
) -> None:
    alpha = backends("alpha", kind="legacy")
    async with gateway({"alpha": entry(alpha)}) as client:
        await client.post(
            "/mcp/invoke", params={"mcp_server": "alpha"}, json={"tool_name": "echo", "parameters": {"text": "x"}}
        )
    posts = [r for r in alpha.requests if r.method == "POST" and r.body]  # complete requests only
    assert posts
    assert all(r.headers.get("traceparent", "").startswith("00-") for r in posts)


async def test_per_server_names_target_one_server(backends: Callable[..., Backend], gateway: Gateway) -> None:
    servers = {"a": entry(backends("a")), "b": entry(backends("b"))}
    async with gateway(servers, expose_server_tool_names=True) as client:
        names = {t["name"] for t in (await client.get("/tools")).json()["tools"]}
        result = (await client.post("/tools/b__search_logs/invoke", json={"query": "q"})).json()
    assert {"a__search_logs", "b__search_logs", "search_logs"} <= names
    assert result["structuredContent"]["server"] == "b"


async def test_registry_changes_show_in_the_next_listing_and_call(
    backends: Callable[..., Backend], gateway: Gateway
) -> None:
    """Views of the catalog are kept between requests; every registry change must still show at once."""
    alpha = backends("alpha", kind="stateless")
    beta = backends("beta", kind="stateless", extra_tools={"beta_only": lambda text="": f"beta:{text}"})

    async def names() -> set[str]:
        return {t["name"] for t in (await client.get("/tools")).json()["tools"]}

    async def call_beta_only() -> Any:
        return await client.post("/tools/beta_only/invoke", json={"text": "x"})

    async with gateway({"alpha": entry(alpha)}) as client:
        assert "beta_only" not in await names()
        assert (await call_beta_only()).status_code == 404
        registered = await client.post("/mcp/servers", json={"name": "beta", "url": beta.url})
        assert registered.status_code == 201, registered.text
        assert "beta_only" in await names()
        assert (await call_beta_only()).json()["content"][0]["text"] == "beta:x"
        disabled = await client.patch("/mcp/server/beta", json={"enabled": False})
        assert disabled.status_code == 200, disabled.text
        assert "beta_only" not in await names()
        assert (await call_beta_only()).status_code == 404
        assert (await client.patch("/mcp/server/beta", json={"enabled": True})).status_code == 200
        assert "beta_only" in await names()
        assert (await client.delete("/mcp/server/beta")).status_code == 204
        assert "beta_only" not in await names()
        assert (await call_beta_only()).status_code == 404
