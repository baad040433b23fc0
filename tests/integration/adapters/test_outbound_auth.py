from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx
import msgspec
import pytest

from app.adapters.credentials import CredentialStore
from app.adapters.outbound_auth import Injection, OutboundAuth
from app.domain.registry import AuthConfig
from app.errors import CredentialUnavailable
from tests.integration.conftest import TokenEndpoint

ENV = {"TOKEN": "tok-SECRET", "PAIR": "alice:pw-SECRET", "PASSWORD": "pw-SECRET", "CLIENT_SECRET": "client-SECRET-1"}


def auth(**fields: Any) -> AuthConfig:
    return msgspec.convert(fields, AuthConfig)


def outbound(http: httpx.AsyncClient, environ: dict[str, str] | None = None) -> OutboundAuth:
    return OutboundAuth(http, CredentialStore(http, environ=ENV if environ is None else environ))


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            {"method": "bearer", "credential_ref": "env://TOKEN"},
            Injection(headers={"Authorization": "Bearer tok-SECRET"}),
        ),
        ({"method": "api_key", "credential_ref": "env://TOKEN"}, Injection(headers={"X-API-Key": "tok-SECRET"})),
        (
            {"method": "api_key", "location": "query", "name": "api_key", "credential_ref": "env://TOKEN"},
            Injection(query={"api_key": "tok-SECRET"}),
        ),
        (
            {"method": "api_key", "location": "body", "name": "apiKey", "credential_ref": "env://TOKEN"},
            Injection(meta={"apiKey": "tok-SECRET"}),
        ),
        (
            {
                "method": "bearer",
                "location": "header",
                "name": "Authorization",
                "format": "prefix",
                "prefix": "Token ",
                "credential_ref": "env://TOKEN",
            },
            Injection(headers={"Authorization": "Token tok-SECRET"}),
        ),
        (
            {
                "method": "custom",
                "name": "X-Auth",
                "format": "template",
                "template": "key={credential};v=2",
                "credential_ref": "env://TOKEN",
            },
            Injection(headers={"X-Auth": "key=tok-SECRET;v=2"}),
        ),
        (
            {"method": "custom", "location": "query", "name": "sig", "format": "raw", "credential_ref": "env://TOKEN"},
            Injection(query={"sig": "tok-SECRET"}),
        ),
        (
            {"method": "basic", "credential_ref": "env://PAIR"},
            Injection(headers={"Authorization": "Basic " + base64.b64encode(b"alice:pw-SECRET").decode()}),
        ),
        (
            {"method": "basic", "username": "bob", "credential_ref": "env://PASSWORD"},
            Injection(headers={"Authorization": "Basic " + base64.b64encode(b"bob:pw-SECRET").decode()}),
        ),
        ({"method": "none"}, Injection()),
    ],
)
async def test_method_location_and_format_shape_the_injection(config: dict[str, Any], expected: Injection) -> None:
    async with httpx.AsyncClient() as http:
        assert await outbound(http).injection("srv", auth(**config)) == expected


async def test_no_auth_block_means_nothing_is_added() -> None:
    async with httpx.AsyncClient() as http:
        assert await outbound(http).injection("srv", None) == Injection()


async def test_basic_without_username_needs_a_pair_and_never_echoes_it() -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(CredentialUnavailable, match="user:password") as info:
            await outbound(http).injection("srv", auth(method="basic", credential_ref="env://TOKEN"))
    assert "tok-SECRET" not in info.value.message


def oauth2(token_url: str, **extra: Any) -> AuthConfig:
    return auth(
        method="oauth2", token_url=token_url, client_id="gateway", credential_ref="env://CLIENT_SECRET", **extra
    )


async def test_oauth2_token_is_fetched_once_and_reused(token_endpoint: tuple[TokenEndpoint, str]) -> None:
    endpoint, url = token_endpoint
    endpoint.requests.clear()
    endpoint.expires_in, endpoint.fail_with = 3600, None
    async with httpx.AsyncClient() as http:
        injector = outbound(http)
        first = await injector.injection("srv", oauth2(url, scope="logs:read"))
        second = await injector.injection("srv", oauth2(url, scope="logs:read"))
    assert first == second
    assert first.headers["Authorization"].startswith("Bearer access-")
    assert len(endpoint.requests) == 1
    assert endpoint.requests[0] == {"grant_type": "client_credentials", "scope": "logs:read"}


async def test_oauth2_token_is_refreshed_before_it_expires(token_endpoint: tuple[TokenEndpoint, str]) -> None:
    endpoint, url = token_endpoint
    endpoint.requests.clear()
    endpoint.expires_in, endpoint.fail_with = 1, None  # refreshed 0.1 s before expiry
    async with httpx.AsyncClient() as http:
        injector = outbound(http)
        first = await injector.injection("srv", oauth2(url))
        await asyncio.sleep(1.0)
        second = await injector.injection("srv", oauth2(url))
    assert first != second
    assert len(endpoint.requests) == 2


async def test_concurrent_callers_share_one_token_request(token_endpoint: tuple[TokenEndpoint, str]) -> None:
    endpoint, url = token_endpoint
    endpoint.requests.clear()
    endpoint.expires_in, endpoint.fail_with = 3600, None
    async with httpx.AsyncClient() as http:
        injector = outbound(http)
        results = await asyncio.gather(*(injector.injection("other", oauth2(url)) for _ in range(15)))
        injector.invalidate("other")
        refreshed = await injector.injection("other", oauth2(url))
    assert len({r.headers["Authorization"] for r in results}) == 1
    assert refreshed != results[0]
    assert len(endpoint.requests) == 2


async def test_oauth2_refusal_names_the_error_not_the_secret(token_endpoint: tuple[TokenEndpoint, str]) -> None:
    endpoint, url = token_endpoint
    endpoint.fail_with = "invalid_client"
    try:
        async with httpx.AsyncClient() as http:
            with pytest.raises(CredentialUnavailable, match="HTTP 401, error=invalid_client") as info:
                await outbound(http).injection("failing", oauth2(url))
    finally:
        endpoint.fail_with = None
    assert "client-SECRET-1" not in info.value.message
    assert "env://CLIENT_SECRET" in info.value.message


async def test_oauth2_unreachable_token_endpoint() -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(CredentialUnavailable, match="token endpoint unreachable"):
            await outbound(http).injection("srv", oauth2("http://127.0.0.1:1/token"))
