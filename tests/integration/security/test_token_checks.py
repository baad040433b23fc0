"""Key and token handling: JWKS caching and rotation, introspection of opaque tokens, public paths, challenges."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from joserfc.jwk import RSAKey

from tests.identity_provider import IdentityProvider, bearer
from tests.mcp_backends import Backend


async def test_signing_keys_are_fetched_once_for_many_requests(idp: IdentityProvider, secured: Any) -> None:
    before = idp.jwks_fetches
    async with secured({}) as client:
        for _ in range(25):
            assert (await client.get("/tools", headers=bearer(idp.mint()))).status_code == 200
    assert idp.jwks_fetches - before == 1


async def test_a_remembered_token_still_expires(idp: IdentityProvider, secured: Any) -> None:
    token = idp.mint(exp=int(time.time()) + 2)
    async with secured({}, jwt_leeway_seconds=0, jwt_cache_seconds=600) as client:
        for _ in range(3):  # verified once, then taken from the cache
            assert (await client.get("/tools", headers=bearer(token))).status_code == 200
        await asyncio.sleep(max(0.0, token_exp(token) - time.time()) + 1.1)
        response = await client.get("/tools", headers=bearer(token))
    assert response.status_code == 401
    assert response.json()["detail"] == "token has expired"


def token_exp(token: str) -> float:
    payload = token.split(".")[1]
    return float(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["exp"])


async def test_unknown_kid_flood_refreshes_the_keys_at_most_once(idp: IdentityProvider, secured: Any) -> None:
    async with secured({}, jwks_min_refresh_seconds=60) as client:
        assert (await client.get("/tools", headers=bearer(idp.mint()))).status_code == 200
        before = idp.jwks_fetches
        strangers = [RSAKey.generate_key(2048, parameters={"kid": f"bogus-{i}"}) for i in range(3)]
        answers = await asyncio.gather(
            *(client.get("/tools", headers=bearer(idp.mint(strangers[i % 3]))) for i in range(30))
        )
    assert {a.status_code for a in answers} == {401}
    assert idp.jwks_fetches - before == 1


async def test_rotated_key_is_picked_up_on_first_sight(idp: IdentityProvider, secured: Any) -> None:
    async with secured({}, jwks_min_refresh_seconds=0) as client:
        assert (await client.get("/tools", headers=bearer(idp.mint()))).status_code == 200
        rotated = RSAKey.generate_key(2048, parameters={"kid": "rsa-2"})
        idp.published.append(rotated)
        try:
            response = await client.get("/tools", headers=bearer(idp.mint(rotated)))
        finally:
            idp.published.remove(rotated)
    assert response.status_code == 200, response.text


async def test_opaque_tokens_are_introspected_and_cached(
    idp: IdentityProvider, secured: Any, backends: Callable[..., Backend]
) -> None:
    backend = backends("alpha", kind="stateless")
    token = idp.issue_opaque()
    async with secured({"alpha": {"url": backend.url}}, mcp_auth_enabled=True) as client:
        before = idp.introspections
        for _ in range(5):
            response = await client.post(
                "/mcp/invoke",
                params={"mcp_server": "alpha"},
                json={"tool_name": "echo", "parameters": {"text": "x"}},
                headers=bearer(token),
            )
            assert response.status_code == 200, response.text
        assert idp.introspections - before == 1
        # JWTs are still verified locally when both kinds are on.
        assert (await client.get("/tools", headers=bearer(idp.mint()))).status_code == 200
        assert idp.introspections - before == 1


async def test_inactive_or_unknown_opaque_token_is_refused(idp: IdentityProvider, secured: Any) -> None:
    expired = idp.issue_opaque(exp=int(time.time()) - 10)
    async with secured({}, auth_enabled=False, mcp_auth_enabled=True) as client:
        for token in (expired, "never-issued-token"):
            response = await client.get("/tools", headers=bearer(token))
            assert response.status_code == 401
            assert 'error="invalid_token"' in response.headers["www-authenticate"]
            assert response.json()["detail"] == "token is not active"


async def test_introspection_result_is_not_reused_past_token_expiry(idp: IdentityProvider, secured: Any) -> None:
    token = idp.issue_opaque(exp=int(time.time()) + 2)
    async with secured({}, auth_enabled=False, mcp_auth_enabled=True) as client:
        assert (await client.get("/tools", headers=bearer(token))).status_code == 200
        await asyncio.sleep(2.5)
        assert (await client.get("/tools", headers=bearer(token))).status_code == 401


async def test_probes_and_discovery_need_no_token(secured: Any) -> None:
    async with secured({}) as client:
        for path in ("/health", "/health/live", "/.well-known/oauth-protected-resource", "/schema/openapi.json"):
            assert (await client.get(path)).status_code == 200, path
        for path in ("/config", "/mcp/servers", "/tools"):
            assert (await client.get(path)).status_code == 401, path


async def test_mcp_endpoint_challenge_points_at_its_own_metadata(secured: Any) -> None:
    async with secured({}) as client:
        response = await client.post(
            "/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}},
            headers={"Accept": "application/json, text/event-stream"},
        )
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge == ('Bearer resource_metadata="http://localhost:8000/.well-known/oauth-protected-resource/mcp"')


async def test_unreachable_token_authority_is_503_not_401(idp: IdentityProvider, secured: Any) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with secured({}, keycloak_url=f"http://127.0.0.1:{port}") as client:
        response = await client.get("/tools", headers=bearer(idp.mint()))
    assert response.status_code == 503
    assert "unreachable" in response.json()["detail"]


async def test_authority_reached_under_another_name_than_its_issuer(idp: IdentityProvider, secured: Any) -> None:
    # Compose / Kubernetes: tokens say https://sso.example.com/…, the gateway reaches the server as KEYCLOAK_URL.
    public = "https://sso.example.com/realms/mcp-gateway"
    idp.public_issuer = public
    try:
        async with secured({}, oidc_issuer=public) as client:
            accepted = await client.get("/tools", headers=bearer(idp.mint()))
            metadata = await client.get("/.well-known/openid-configuration")
            resource = await client.get("/.well-known/oauth-protected-resource/mcp")
    finally:
        idp.public_issuer = ""
    assert accepted.status_code == 200, accepted.text
    assert metadata.json()["issuer"] == public
    assert resource.json()["authorization_servers"] == [public]


async def test_refused_tokens_are_audited_as_denied_without_the_token(
    idp: IdentityProvider, secured: Any, tmp_path: Path
) -> None:
    expired = idp.mint(exp=int(time.time()) - 3600, iat=int(time.time()) - 7200)
    async with secured({}) as client:
        assert (await client.get("/tools", headers=bearer(expired))).status_code == 401
        assert (await client.get("/mcp/servers")).status_code == 401
    events = [json.loads(line) for line in (tmp_path / "audit.json").read_text().splitlines()]
    refusals = [e for e in events if e["action"] == "authenticate"]
    assert [(e["status"], e["response_status"]) for e in refusals] == [("denied", 401), ("denied", 401)]
    assert refusals[0]["error"] == "token has expired"
    assert "needs an 'Authorization: Bearer <token>' header" in refusals[1]["error"]
    assert all(e["request_id"] for e in refusals)
    assert expired not in (tmp_path / "audit.json").read_text()
