"""Per-server access and the admin role, on every surface: what a caller may not use is hidden or refused with 403."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.identity_provider import IdentityProvider, bearer
from tests.integration.conftest import entry
from tests.mcp_backends import Backend

MODERN = {
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2026-07-28",
}
META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
    "io.modelcontextprotocol/clientCapabilities": {},
}


def _only(tool: str) -> Callable[..., str]:
    def run(text: str = "") -> str:
        return f"{tool}:{text}"

    return run


@pytest.fixture
def fleet(backends: Callable[..., Backend]) -> dict[str, dict[str, Any]]:
    """open-logs (no access block), eu-logs (role logs-reader), vault-logs (scope secret:read or group security)."""
    open_logs = backends("open-logs", kind="stateless", extra_tools={"open_tool": _only("open")})
    eu_logs = backends("eu-logs", kind="stateless", extra_tools={"eu_tool": _only("eu")})
    vault_logs = backends("vault-logs", kind="stateless", extra_tools={"vault_tool": _only("vault")})
    return {
        "open-logs": entry(open_logs),
        "eu-logs": entry(eu_logs, access={"roles": ["logs-reader"]}),
        "vault-logs": entry(vault_logs, access={"scopes": ["secret:read"], "groups": ["security"]}),
    }


def _user(idp: IdentityProvider) -> dict[str, str]:
    return bearer(idp.mint())  # roles mcp-user, scope "openid logs:read", group sre


def _reader(idp: IdentityProvider) -> dict[str, str]:
    return bearer(idp.mint(realm_access={"roles": ["mcp-user", "logs-reader"]}))


def _security(idp: IdentityProvider) -> dict[str, str]:
    return bearer(idp.mint(groups=["/security"], sub="user-2"))


def _admin(idp: IdentityProvider) -> dict[str, str]:
    return bearer(idp.mint(realm_access={"roles": ["mcp-admin"]}, sub="admin-1"))


async def test_tool_lists_show_only_usable_servers(idp: IdentityProvider, secured: Any, fleet: dict[str, Any]) -> None:
    async with secured(fleet) as client:
        for headers, visible in (
            (_user(idp), {"open_tool"}),
            (_reader(idp), {"open_tool", "eu_tool"}),
            (_security(idp), {"open_tool", "vault_tool"}),
        ):
            standard = {t["name"] for t in (await client.get("/tools", headers=headers)).json()["tools"]}
            body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": META}}
            mcp = await client.post("/mcp", json=body, headers={**MODERN, "Mcp-Method": "tools/list", **headers})
            listed = {t["name"] for t in mcp.json()["result"]["tools"]}
            assert mcp.json()["result"]["cacheScope"] == "private"
            for names in (standard, listed):
                assert {"open_tool", "eu_tool", "vault_tool"} & names == visible
            servers = {s["name"] for s in (await client.get("/mcp/servers", headers=headers)).json()["servers"]}
            assert servers == {"open-logs"} | {
                s for s, t in (("eu-logs", "eu_tool"), ("vault-logs", "vault_tool")) if t in visible
            }


async def test_direct_call_to_a_forbidden_server_is_403_with_the_scope_needed(
    idp: IdentityProvider, secured: Any, fleet: dict[str, Any], backends: Callable[..., Backend]
) -> None:
    async with secured(fleet) as client:
        response = await client.post(
            "/mcp/invoke",
            params={"mcp_server": "vault-logs"},
            json={"tool_name": "vault_tool", "parameters": {}},
            headers=_user(idp),
        )
        listing = await client.get("/mcp/list-tools", params={"mcp_server": "vault-logs"}, headers=_user(idp))
        info = await client.get("/mcp/server/vault-logs/info", headers=_user(idp))
        allowed = await client.post(
            "/mcp/invoke",
            params={"mcp_server": "vault-logs"},
            json={"tool_name": "vault_tool", "parameters": {"text": "ok"}},
            headers=_security(idp),
        )
    assert response.status_code == 403
    assert response.json()["code"] == "access_denied"
    assert "vault-logs" in response.json()["detail"]
    challenge = response.headers["www-authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="secret:read"' in challenge
    assert "resource_metadata=" in challenge
    assert listing.status_code == 403
    assert info.status_code == 403
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["result"] == {"result": "vault:ok"}


async def test_mcp_tools_call_on_a_hidden_tool_is_a_403_json_rpc_error(
    idp: IdentityProvider, secured: Any, fleet: dict[str, Any]
) -> None:
    body = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/call",
        "params": {"name": "eu_tool", "arguments": {"text": "x"}, "_meta": META},
    }
    headers = {**MODERN, "Mcp-Method": "tools/call", "Mcp-Name": "eu_tool"}
    async with secured(fleet) as client:
        denied = await client.post("/mcp", json=body, headers={**headers, **_user(idp)})
        granted = await client.post("/mcp", json=body, headers={**headers, **_reader(idp)})
        unknown = await client.post(
            "/mcp",
            json={**body, "params": {**body["params"], "name": "no_such_tool"}},
            headers={**headers, "Mcp-Name": "no_such_tool", **_user(idp)},
        )
    assert denied.status_code == 403
    assert denied.json()["id"] == 7
    assert denied.json()["error"]["code"] == -32003
    assert denied.json()["error"]["data"]["server"] == "eu-logs"
    assert 'error="insufficient_scope"' in denied.headers["www-authenticate"]
    assert "/.well-known/oauth-protected-resource/mcp" in denied.headers["www-authenticate"]
    assert granted.status_code == 200
    assert granted.json()["result"]["content"][0]["text"] == "eu:x"
    # A tool nobody has stays "unknown" (404-like), so existence is not confused with permission.
    assert unknown.json()["error"]["code"] == -32602


async def test_broadcast_leaves_out_forbidden_servers_and_says_how_many(
    idp: IdentityProvider, secured: Any, fleet: dict[str, Any], backends: Callable[..., Backend]
) -> None:
    async with secured(fleet) as client:
        rest = await client.post(
            "/mcp/invoke-broadcast", json={"tool_name": "echo", "parameters": {"text": "hi"}}, headers=_reader(idp)
        )
        named = await client.post(
            "/mcp/invoke-broadcast",
            json={"tool_name": "echo", "parameters": {"text": "hi"}, "mcp_servers": ["vault-logs", "open-logs"]},
            headers=_user(idp),
        )
        only_forbidden = await client.post(
            "/mcp/invoke-broadcast",
            json={"tool_name": "echo", "parameters": {"text": "hi"}, "mcp_servers": ["vault-logs"]},
            headers=_user(idp),
        )
        standard = await client.post(
            "/tools/broadcast__echo/invoke", json={"arguments": {"text": "hi"}}, headers=_user(idp)
        )
    assert rest.status_code == 200, rest.text
    assert set(rest.json()["results"]) == {"open-logs", "eu-logs"}
    assert rest.json()["excluded_servers"] == 1
    assert set(named.json()["results"]) == {"open-logs"}
    assert named.json()["excluded_servers"] == 1
    assert only_forbidden.status_code == 403
    assert standard.status_code == 200, standard.text
    metadata = standard.json()["structuredContent"]["metadata"]
    assert metadata["total_servers"] == 1
    assert metadata["excluded_servers"] == 2


async def test_registry_changes_audit_and_config_need_the_admin_role(
    idp: IdentityProvider, secured: Any, backends: Callable[..., Backend]
) -> None:
    backend = backends("new-one", kind="stateless")
    registration = {"name": "new-one", "url": backend.url}
    async with secured({}) as client:
        refused = await client.post("/mcp/servers", json=registration, headers=_user(idp))
        config_refused = await client.get("/config", headers=_user(idp))
        created = await client.post("/mcp/servers", json=registration, headers=_admin(idp))
        config = await client.get("/config", headers=_admin(idp))
        removed_by_user = await client.delete("/mcp/server/new-one", headers=_user(idp))
    assert refused.status_code == 403
    assert "mcp-admin" in refused.json()["detail"]
    assert config_refused.status_code == 403
    assert created.status_code == 201, created.text
    assert config.status_code == 200
    assert config.json()["settings"]["MCP_OAUTH_CLIENT_SECRET"] == "set"
    assert "tes-secret" not in config.text
    assert removed_by_user.status_code == 403
