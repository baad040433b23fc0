from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from app.asgi import create_app
from app.settings import Settings

SEED_SERVERS = {
    "servers": {
        "prod-server": {"url": "https://mcp.production.example.com", "type": "http", "timeout": 60, "auth": None},
        "internal-api": {
            "url": "https://api.internal.example.com",
            "tags": ["internal"],
            "auth": {
                "method": "bearer",
                "location": "header",
                "name": "Authorization",
                "format": "prefix",
                "prefix": "Bearer ",
                "credential_ref": "env://INTERNAL_API_TOKEN",
            },
        },
    }
}
NEW_SERVER: dict[str, Any] = {
    "name": "github",
    "url": "https://api.github.com/mcp",
    "timeout": 30,
    "tags": ["version-control"],
    "auth": {"method": "bearer", "format": "prefix", "prefix": "Bearer ", "credential_ref": "env://GITHUB_TOKEN"},
}


@pytest.fixture
async def api(
    make_settings: Callable[..., Settings], write_servers_file: Callable[[dict[str, Any]], Path]
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    settings = make_settings(mcp_servers_file=str(write_servers_file(SEED_SERVERS)))
    async with AsyncTestClient(app=create_app(settings)) as client:
        yield client


async def test_lists_the_servers_from_the_file(api: AsyncTestClient[Litestar]) -> None:
    response = await api.get("/mcp/servers")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    by_name = {s["name"]: s for s in body["servers"]}
    assert by_name["prod-server"]["source"] == "file"
    assert by_name["prod-server"]["timeout"] == 60
    assert by_name["internal-api"]["auth"]["credential_ref"] == "env://INTERNAL_API_TOKEN"


async def test_server_info_and_unknown_server(api: AsyncTestClient[Litestar]) -> None:
    info = await api.get("/mcp/server/internal-api/info")
    assert info.status_code == 200
    assert info.json()["tags"] == ["internal"]
    missing = await api.get("/mcp/server/nope/info")
    assert missing.status_code == 404
    assert missing.json()["code"] == "server_not_found"
    assert "'nope'" in missing.json()["detail"]


async def test_register_change_and_remove_an_api_server(api: AsyncTestClient[Litestar]) -> None:
    created = await api.post("/mcp/servers", json=NEW_SERVER)
    assert created.status_code == 201, created.text
    assert created.json()["source"] == "api"

    changed = await api.patch("/mcp/server/github", json={"enabled": False, "description": "GitHub tools"})
    assert changed.status_code == 200
    assert (changed.json()["enabled"], changed.json()["description"]) == (False, "GitHub tools")
    assert (await api.get("/mcp/server/github/info")).json()["enabled"] is False

    assert (await api.delete("/mcp/server/github")).status_code == 204
    assert (await api.get("/mcp/server/github/info")).status_code == 404
    assert (await api.delete("/mcp/server/github")).status_code == 404


async def test_duplicate_registration_is_a_conflict(api: AsyncTestClient[Litestar]) -> None:
    assert (await api.post("/mcp/servers", json=NEW_SERVER)).status_code == 201
    again = await api.post("/mcp/servers", json=NEW_SERVER)
    assert again.status_code == 409
    assert again.json()["code"] == "server_exists"
    clash = await api.post("/mcp/servers", json={**NEW_SERVER, "name": "prod-server"})
    assert clash.status_code == 409
    assert "servers file" in clash.json()["detail"]


async def test_file_servers_are_read_only_through_the_api(api: AsyncTestClient[Litestar]) -> None:
    for response in (
        await api.patch("/mcp/server/prod-server", json={"enabled": False}),
        await api.delete("/mcp/server/prod-server"),
    ):
        assert response.status_code == 409
        assert response.json()["code"] == "server_managed_by_file"
    assert (await api.get("/mcp/server/prod-server/info")).json()["enabled"] is True


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({**NEW_SERVER, "timout": 3}, "unknown key 'timout'"),
        ({**NEW_SERVER, "auth": {"methd": "bearer"}}, "unknown key 'auth.methd'"),
        ({k: v for k, v in NEW_SERVER.items() if k != "url"}, "missing required key 'url'"),
        ({**NEW_SERVER, "name": "has space"}, "invalid server name"),
        ({**NEW_SERVER, "timeout": "x"}, "key 'timeout'"),
        ({**NEW_SERVER, "auth": {"method": "bearer", "credential_ref": "sk-live-abc"}}, "credential_ref must be"),
    ],
)
async def test_invalid_registration_is_400_naming_the_key(
    api: AsyncTestClient[Litestar], body: dict[str, Any], fragment: str
) -> None:
    response = await api.post("/mcp/servers", json=body)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert fragment in response.json()["detail"]
    assert "sk-live-abc" not in response.text
    assert (await api.get("/mcp/servers")).json()["count"] == 2


async def test_invalid_change_is_400_and_keeps_the_server(api: AsyncTestClient[Litestar]) -> None:
    assert (await api.post("/mcp/servers", json=NEW_SERVER)).status_code == 201
    bad = await api.patch("/mcp/server/github", json={"url": "not a url"})
    assert bad.status_code == 400
    assert "url must be an absolute http(s) URL" in bad.json()["detail"]
    not_object = await api.patch("/mcp/server/github", json=["enabled"])
    assert not_object.status_code == 400
    assert (await api.get("/mcp/server/github/info")).json()["url"] == NEW_SERVER["url"]


async def test_malformed_json_is_400(api: AsyncTestClient[Litestar]) -> None:
    response = await api.post("/mcp/servers", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400


async def test_api_servers_survive_a_restart_and_file_removals(
    make_settings: Callable[..., Settings], write_servers_file: Callable[[dict[str, Any]], Path]
) -> None:
    settings = make_settings(mcp_servers_file=str(write_servers_file(SEED_SERVERS)))
    async with AsyncTestClient(app=create_app(settings)) as client:
        assert (await client.post("/mcp/servers", json=NEW_SERVER)).status_code == 201
    smaller = {"servers": {"prod-server": SEED_SERVERS["servers"]["prod-server"]}}
    settings = make_settings(mcp_servers_file=str(write_servers_file(smaller)))
    async with AsyncTestClient(app=create_app(settings)) as client:
        names = {s["name"]: s["source"] for s in (await client.get("/mcp/servers")).json()["servers"]}
    assert names == {"prod-server": "file", "github": "api"}
