"""Registry endpoints: ``/mcp/servers`` and ``/mcp/server/{name}``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody

from app.api.guards import require_admin
from app.audit import audited
from app.domain.access import AccessPolicy
from app.domain.catalog import ServerStatus, ToolCatalog
from app.domain.registry import AccessConfig, AuthConfig, RegisteredServer, RegistryService, ServerRegistration
from app.domain.registry.directory import ServerDirectory
from app.server.deps import provide_registry_service

__all__ = ("ServerList", "ServerView", "ServersController")


class ServerView(msgspec.Struct, kw_only=True):
    """A registered server as the API shows it (credential references only, never values)."""

    name: str
    source: str
    url: str
    type: str
    transport: str
    timeout: float
    enabled: bool
    description: str
    tags: tuple[str, ...]
    tools: tuple[str, ...] | None
    metadata: JSONBody[dict[str, Any]]
    auth: AuthConfig | None
    access: AccessConfig | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, server: RegisteredServer) -> ServerView:
        config = server.config
        return cls(
            name=server.name,
            source=server.source,
            url=config.url,
            type=config.type,
            transport=config.transport,
            timeout=config.timeout,
            enabled=config.enabled,
            description=config.description,
            tags=config.tags,
            tools=config.tools,
            metadata=config.metadata,
            auth=config.auth,
            access=config.access,
            created_at=server.created_at,
            updated_at=server.updated_at,
        )


class ServerInfo(ServerView, kw_only=True):
    """A server plus what this replica knows of it live (reachability, protocol, tools, last error)."""

    status: ServerStatus


class ServerList(msgspec.Struct, kw_only=True):
    servers: list[ServerView]
    count: int


class ServersController(Controller):
    path = "/mcp"
    tags = ["registry"]
    dependencies = {"registry": Provide(provide_registry_service)}

    @get("/servers", summary="List the registered MCP servers the caller may use (admins: all)")
    async def list_servers(
        self, registry: NamedDependency[RegistryService], access_policy: NamedDependency[AccessPolicy]
    ) -> ServerList:
        listed = await registry.list_servers()
        if not access_policy.is_admin():
            listed = access_policy.usable(listed)
        servers = [ServerView.of(s) for s in listed]
        return ServerList(servers=servers, count=len(servers))

    @get("/server/{name:str}/info", summary="One server's configuration and live status")
    async def server_info(
        self,
        registry: NamedDependency[RegistryService],
        catalog: NamedDependency[ToolCatalog],
        access_policy: NamedDependency[AccessPolicy],
        name: FromPath[str],
    ) -> ServerInfo:
        server = await registry.get_server(name)
        if not access_policy.is_admin():
            access_policy.check(server)
        return ServerInfo(**msgspec.structs.asdict(ServerView.of(server)), status=await catalog.status(server))

    @post("/servers", summary="Register a server (source=api)", guards=[require_admin])
    async def register_server(
        self,
        registry: NamedDependency[RegistryService],
        directory: NamedDependency[ServerDirectory],
        data: JSONBody[ServerRegistration],
    ) -> ServerView:
        async with audited(
            "register_server",
            event_type="registry_change",
            mcp_server=data.name,
            parameters=msgspec.to_builtins(data),
            response_status=201,
        ):
            server = await registry.register(data.name, data.config())
            directory.put(server)
        return ServerView.of(server)

    @patch(
        "/server/{name:str}",
        summary="Change an API-registered server",
        description="Body: any keys of the servers-file schema (url, type, timeout, enabled, description, "
        "tags, tools, metadata, auth, access); `null` clears auth/access/tools.",
        guards=[require_admin],
    )
    async def update_server(
        self,
        registry: NamedDependency[RegistryService],
        directory: NamedDependency[ServerDirectory],
        name: FromPath[str],
        data: JSONBody[dict[str, Any]],
    ) -> ServerView:
        async with audited(_change_action(data), event_type="registry_change", mcp_server=name, parameters=data):
            server = await registry.reconfigure(name, data)
            directory.put(server)
        return ServerView.of(server)

    @delete("/server/{name:str}", summary="Remove an API-registered server", guards=[require_admin])
    async def remove_server(
        self,
        registry: NamedDependency[RegistryService],
        directory: NamedDependency[ServerDirectory],
        name: FromPath[str],
    ) -> None:
        async with audited("delete_server", event_type="registry_change", mcp_server=name, response_status=204):
            await registry.remove(name)
            directory.remove(name)


def _change_action(change: dict[str, Any]) -> str:
    """``enable_server`` / ``disable_server`` for a change of ``enabled`` alone, else ``update_server``."""
    if change.keys() == {"enabled"} and isinstance(change["enabled"], bool):
        return "enable_server" if change["enabled"] else "disable_server"
    return "update_server"
