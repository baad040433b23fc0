"""Integration fixtures: a running gateway over given servers, and real local HTTP peers for credentials
(a Vault KV v2 look-alike and an OAuth2 token endpoint).

HashiCorp Vault cannot be installed here, so ``vault_server`` stands in for it: a real HTTP server that
answers ``GET /v1/<mount>/data/<path>`` exactly in Vault's documented KV v2 format and checks
``X-Vault-Token`` the way Vault does (403 when wrong).
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar, Request, Response, get, post
from litestar.params import FromPath
from litestar.testing import AsyncTestClient

from app.asgi import create_app
from app.settings import Settings
from tests.mcp_backends import Backend
from tests.servers import serve_asgi

VAULT_TOKEN = "hvs.test-root-token"
SECRETS: dict[str, dict[str, str]] = {
    "secret/mcp/figma": {"token": "figd_FIGMA_SECRET"},
    "secret/mcp/single": {"api_key": "ONLY-ONE-FIELD"},
    "secret/mcp/multi": {"user": "svc", "password": "pw-MULTI"},
}


class TokenEndpoint:
    """An OAuth2 token endpoint (client-credentials grant) that counts requests and can be told to fail."""

    def __init__(self) -> None:
        self.client_id = "gateway"
        self.client_secret = "client-SECRET-1"
        self.expires_in: int | None = 3600
        self.fail_with: str | None = None
        self.requests: list[dict[str, Any]] = []
        self._serial = itertools.count(1)

    def app(self) -> Litestar:
        @post("/token", status_code=200)
        async def token(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
            form = dict(await request.form())
            self.requests.append(form)
            expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
            if self.fail_with or request.headers.get("authorization") != f"Basic {expected}":
                return Response({"error": self.fail_with or "invalid_client"}, status_code=401)
            if form.get("grant_type") != "client_credentials":
                return Response({"error": "unsupported_grant_type"}, status_code=400)
            body: dict[str, Any] = {"access_token": f"access-{next(self._serial)}", "token_type": "Bearer"}
            if self.expires_in is not None:
                body["expires_in"] = self.expires_in
            return Response(body)

        return Litestar([token])


def vault_app() -> Litestar:
    @get("/v1/{mount:str}/data/{path:path}")
    async def read(
        request: Request[Any, Any, Any], mount: FromPath[str], path: FromPath[str]
    ) -> Response[dict[str, Any]]:
        if request.headers.get("x-vault-token") != VAULT_TOKEN:
            return Response({"errors": ["permission denied"]}, status_code=403)
        data = SECRETS.get(f"{mount}{path}".rstrip("/")) or SECRETS.get(f"{mount}/{path.strip('/')}")
        if data is None:
            return Response({"errors": []}, status_code=404)
        return Response({"data": {"data": data, "metadata": {"version": 3}}, "lease_duration": 0})

    return Litestar([read])


@pytest.fixture(scope="module")
def vault_url() -> Iterator[str]:
    with serve_asgi(vault_app()) as url:
        yield url


@pytest.fixture(scope="module")
def token_endpoint() -> Iterator[tuple[TokenEndpoint, str]]:
    endpoint = TokenEndpoint()
    with serve_asgi(endpoint.app()) as url:
        yield endpoint, f"{url}/token"


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


Gateway = Callable[..., Any]


@pytest.fixture
def gateway(
    make_settings: Callable[..., Settings], write_servers_file: Callable[[dict[str, Any]], Path]
) -> Callable[..., Any]:
    """``async with gateway({name: {url, …}}) as client`` — a running gateway over those servers."""

    @asynccontextmanager
    async def run(servers: dict[str, dict[str, Any]], **settings: Any) -> AsyncIterator[AsyncTestClient[Litestar]]:
        path = write_servers_file({"servers": servers})
        app = create_app(make_settings(mcp_servers_file=str(path), **settings))
        async with AsyncTestClient(app=app, timeout=30) as client:
            yield client

    return run


def entry(backend: Backend, **extra: Any) -> dict[str, Any]:
    return {"url": backend.url, "type": "sse" if backend.kind == "sse" else "http", **extra}
