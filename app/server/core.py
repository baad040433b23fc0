"""ApplicationCore: the one plugin that wires routes, database, dependencies, errors and CLI."""

from __future__ import annotations

import gc
import logging
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from advanced_alchemy.extensions.litestar import SQLAlchemyPlugin
from litestar.config.app import AppConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.plugins import CLIPluginProtocol, InitPluginProtocol

from app import __version__
from app.api.discovery import DiscoveryController
from app.api.mcp import McpParts, mcp_endpoint
from app.api.mcp_client_requests import ClientRequests
from app.api.servers import ServersController
from app.api.standard import StandardController
from app.api.system import SystemController
from app.api.tools import ProxyController
from app.db.engine import create_sqlalchemy_config
from app.domain.mcp import SessionCodec
from app.domain.registry import ServerConfig
from app.server.authentication import AuthenticationMiddleware
from app.server.body_timeout import BodyReadTimeoutMiddleware
from app.server.cli import register_commands
from app.server.errors import exception_handlers
from app.server.lifespan import gateway_services, service_dependencies
from app.server.observability import ObservabilityPlugin
from app.server.request_context import RequestContextMiddleware
from app.settings import Settings

if TYPE_CHECKING:
    from click import Group
    from litestar import Litestar

__all__ = ("ApplicationCore",)

logger = logging.getLogger("mcp_gateway")


class ApplicationCore(InitPluginProtocol, CLIPluginProtocol):
    """Composition root: everything the app needs, built from ``settings`` and the servers file."""

    __slots__ = ("client_requests", "db_config", "file_servers", "sessions", "settings")

    def __init__(self, settings: Settings, file_servers: Mapping[str, ServerConfig]) -> None:
        self.settings = settings
        self.file_servers = dict(file_servers)
        self.db_config = create_sqlalchemy_config(settings.database_url)
        self.db_config.set_default_exception_handler = False
        secret = settings.mcp_session_secret
        if not secret:
            secret = secrets.token_urlsafe(32)
            logger.warning(
                "MCP_SESSION_SECRET is unset: /mcp sessions only survive on this process (set it for replicas)"
            )
        self.sessions = SessionCodec(secret)
        self.client_requests = ClientRequests()
        """Relayed requests (elicitation) waiting for an agent's answer, in this process."""

    def on_cli_init(self, cli: Group) -> None:
        register_commands(cli, self)

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        settings = self.settings
        app_config.route_handlers.extend(
            [
                SystemController,
                DiscoveryController,
                ServersController,
                ProxyController,
                StandardController,
                mcp_endpoint,
            ]
        )
        app_config.plugins.append(SQLAlchemyPlugin(config=self.db_config))
        app_config.plugins.append(ObservabilityPlugin(settings))
        app_config.middleware[:0] = [RequestContextMiddleware, AuthenticationMiddleware, BodyReadTimeoutMiddleware]
        app_config.dependencies.update(
            {
                "settings": Provide(lambda: settings, use_cache=True, sync_to_thread=False),
                "file_server_count": Provide(lambda: len(self.file_servers), use_cache=True, sync_to_thread=False),
                "sessions": Provide(lambda: self.sessions, use_cache=True, sync_to_thread=False),
                "client_requests": Provide(lambda: self.client_requests, use_cache=True, sync_to_thread=False),
                **service_dependencies,
            }
        )
        app_config.exception_handlers.update(exception_handlers)
        app_config.lifespan.append(self._lifespan)
        app_config.openapi_config = OpenAPIConfig(
            title="MCP Gateway",
            version=__version__,
            description=(
                "One secure front door through which AI agents reach many MCP servers. The REST API is described "
                "here; the MCP endpoint itself, `/mcp` (JSON-RPC over Streamable HTTP, GET/POST/DELETE), follows "
                "the MCP specification and is not listed as REST operations."
            ),
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
        )
        app_config.logging_config = LoggingConfig(
            root={"level": settings.log_level.upper(), "handlers": ["queue_listener"]},
            loggers={
                "mcp_gateway": {"level": settings.log_level.upper(), "propagate": True},
                "alembic": {"level": "WARNING", "propagate": True},
            },
            log_exceptions="debug",
        )
        app_config.state.update({"settings": settings})
        return app_config

    def _mcp_parts(self, state: State) -> McpParts:
        services = state.services
        return McpParts(
            server=services.mcp_handler,
            sessions=self.sessions,
            settings=self.settings,
            client_requests=self.client_requests,
            ended_sessions=services.ended_sessions,
        )

    @asynccontextmanager
    async def _lifespan(self, app: Litestar) -> AsyncIterator[None]:
        if not self.settings.auth_enabled:
            logger.warning(
                "AUTH_ENABLED=false: DEVELOPMENT MODE, every request is served without authentication. "
                "Never expose this gateway beyond localhost like this."
            )
        async with gateway_services(app, self.db_config.get_engine(), self.settings, self.file_servers, self.sessions):
            app.state.mcp_parts = self._mcp_parts(app.state)
            # What start-up built (modules, routes, models: ~200k objects) lives as long as the process. Moved
            # out of the collector's reach, a full collection no longer walks it, which shortens the pauses
            # every in-flight request waits through (p99) and the collector's share of CPU. (No collection
            # first: start-up leaves little cyclic garbage, idle RSS is the same either way, and a full
            # collection would cost every embedding test process tens of ms per app.)
            gc.freeze()
            try:
                yield
            finally:
                gc.unfreeze()  # collectable again, for an embedding process that outlives the app (tests)
