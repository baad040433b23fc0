from __future__ import annotations

from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.asgi import create_app
from app.errors import ConfigError
from app.settings import Settings
from tests.conftest import admin_execute


async def test_index_names_the_gateway_and_links_its_endpoints(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "mcp-gateway"
    assert body["links"]["health"] == "/health"
    assert (await client.get(body["links"]["openapi"])).status_code == 200


async def test_health_reports_database_ok(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert (await client.get("/health/live")).json() == {"status": "ok"}


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_health_is_503_while_the_database_is_gone(
    make_settings: Callable[..., Settings], fresh_postgres_url: str
) -> None:
    # A real database that disappears under a running gateway (dropped with its connections): no mock.
    url = fresh_postgres_url
    app = create_app(make_settings(database_url=url, mcp_servers_file=""))
    async with AsyncTestClient(app=app) as client:
        assert (await client.get("/health")).status_code == 200
        name = url.rsplit("/", 1)[1]
        await admin_execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        response = await client.get("/health")
        assert response.status_code == 503
        assert response.json()["status"] == "unavailable"
        assert response.json()["database"].startswith("error")
        assert (await client.get("/health/live")).status_code == 200


async def test_config_shows_secrets_only_as_set(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(mcp_oauth_client_secret="s3cr3t-value")
    async with AsyncTestClient(app=create_app(settings)) as client:
        response = await client.get("/config")
    assert response.status_code == 200
    assert "s3cr3t-value" not in response.text
    shown = response.json()["settings"]
    assert shown["MCP_OAUTH_CLIENT_SECRET"] == "set"
    assert shown["DATABASE_URL"] == settings.database_url  # no password in the test URLs
    assert shown["MCP_SERVERS_FILE"] == settings.mcp_servers_file


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_auth_enabled_is_refused_until_inbound_auth_exists(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(ConfigError, match="AUTH_ENABLED"):
        create_app(make_settings(auth_enabled=True))


async def test_unknown_route_is_a_problem_document(client: AsyncTestClient[Litestar]) -> None:
    response = await client.get("/no/such/route")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 404
