"""OAuth discovery documents, field by field (RFC 9728 protected resource, RFC 8414 / OIDC issuer metadata)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.identity_provider import IdentityProvider
from tests.integration.conftest import Gateway, entry
from tests.mcp_backends import Backend


async def test_protected_resource_metadata_of_the_mcp_endpoint(
    idp: IdentityProvider, secured: Any, backends: Callable[..., Backend]
) -> None:
    backend = backends("vault-logs", kind="stateless")
    servers = {"vault-logs": entry(backend, access={"scopes": ["secret:read", "logs:read"]})}
    async with secured(servers) as client:
        response = await client.get("/.well-known/oauth-protected-resource/mcp")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "resource": "http://localhost:8000/mcp",
        "authorization_servers": [idp.issuer],
        "bearer_methods_supported": ["header"],
        "resource_name": "MCP Gateway",
        "scopes_supported": ["logs:read", "secret:read"],
    }


async def test_root_protected_resource_metadata_describes_the_origin(idp: IdentityProvider, secured: Any) -> None:
    async with secured({}, mcp_resource_server_url="https://gw.example.com/mcp") as client:
        root = (await client.get("/.well-known/oauth-protected-resource")).json()
        other = await client.get("/.well-known/oauth-protected-resource/elsewhere")
    assert root["resource"] == "https://gw.example.com"
    assert root["authorization_servers"] == [idp.issuer]
    assert "scopes_supported" not in root
    assert other.status_code == 404


async def test_authorization_server_metadata_is_the_issuers_own(idp: IdentityProvider, secured: Any) -> None:
    async with secured({}) as client:
        oauth = await client.get("/.well-known/oauth-authorization-server")
        suffixed = await client.get("/.well-known/oauth-authorization-server/mcp")
        oidc = await client.get("/.well-known/openid-configuration")
    document = oauth.json()
    assert document["issuer"] == idp.issuer
    assert document["token_endpoint"] == f"{idp.issuer}/protocol/openid-connect/token"
    assert document["authorization_endpoint"] == f"{idp.issuer}/protocol/openid-connect/auth"
    assert document["jwks_uri"] == f"{idp.issuer}/protocol/openid-connect/certs"
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert suffixed.json() == document
    assert oidc.json() == document


async def test_no_discovery_when_authentication_is_off(gateway: Gateway) -> None:
    async with gateway({}) as client:
        for path in (
            "/.well-known/oauth-protected-resource",
            "/.well-known/oauth-protected-resource/mcp",
            "/.well-known/oauth-authorization-server",
            "/.well-known/openid-configuration",
        ):
            response = await client.get(path)
            assert response.status_code == 404, path
            assert "authentication is disabled" in response.json()["detail"]
