"""Fixtures for the authentication and authorization tests: a realm-shaped token authority and a secured gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.asgi import create_app
from app.settings import Settings
from tests.identity_provider import INTROSPECTION_CLIENT, IdentityProvider, run_identity_provider


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """Authentication does not touch storage: SQLite only, to keep these many cases quick."""
    return f"sqlite:///{tmp_path / 'gateway.db'}"


@pytest.fixture(scope="module")
def idp() -> Iterator[IdentityProvider]:
    with run_identity_provider() as provider:
        yield provider


SecuredGateway = Callable[..., Any]


@pytest.fixture
def secured(
    idp: IdentityProvider,
    make_settings: Callable[..., Settings],
    write_servers_file: Callable[[dict[str, Any]], Path],
) -> SecuredGateway:
    """``async with secured({name: {url, access…}}, **settings) as client`` — a gateway with JWT auth on."""

    @asynccontextmanager
    async def run(servers: dict[str, dict[str, Any]], **overrides: Any) -> AsyncIterator[AsyncTestClient[Litestar]]:
        path = write_servers_file({"servers": servers})
        options: dict[str, Any] = {
            "auth_enabled": True,
            "keycloak_url": idp.base_url,
            "jwt_algorithm": "RS256,ES256",
            "mcp_oauth_client_id": INTROSPECTION_CLIENT[0],
            "mcp_oauth_client_secret": INTROSPECTION_CLIENT[1],
            **overrides,
        }
        app = create_app(make_settings(mcp_servers_file=str(path), **options))
        async with AsyncTestClient(app=app, timeout=30) as client:
            yield client

    return run
