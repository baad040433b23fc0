"""The long-lived objects of a running gateway, built at start-up and torn down at shutdown."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import certifi
import httpx
import msgspec
from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from app.adapters.credentials import CredentialStore
from app.adapters.outbound_auth import OutboundAuth
from app.domain.access import AccessPolicy
from app.domain.backends import BackendPool
from app.domain.catalog import ToolCatalog
from app.domain.invocation import Broadcaster, Invoker, ToolRouter
from app.domain.mcp import GatewayMcpServer, SessionCodec
from app.domain.mcp.ended_sessions import EndedSessions
from app.domain.registry import ServerConfig
from app.domain.registry.directory import ServerDirectory
from app.errors import ConfigError
from app.server.authentication import Authenticator, insufficient_scope_challenge
from app.server.database import prepare_database
from app.settings import Settings

__all__ = ("GatewayServices", "gateway_services", "service_dependencies")


class GatewayServices(msgspec.Struct, kw_only=True):
    """Everything request handlers need beyond the per-request database session."""

    directory: ServerDirectory
    ended_sessions: EndedSessions
    access: AccessPolicy
    authenticator: Authenticator
    pool: BackendPool
    catalog: ToolCatalog
    invoker: Invoker
    broadcaster: Broadcaster
    router: ToolRouter
    mcp_handler: GatewayMcpServer


def create_ssl_context(extra_ca_bundle: str = "") -> ssl.SSLContext:
    """One TLS context for every backend client (loading CA certificates per client costs milliseconds):
    the public CAs, plus those of ``BACKEND_CA_BUNDLE``.

    Raises:
        ConfigError: the bundle cannot be read or holds no certificate.
    """
    context = ssl.create_default_context(cafile=certifi.where())
    if extra_ca_bundle:
        try:
            context.load_verify_locations(cafile=extra_ca_bundle)
        except OSError as exc:  # ssl.SSLError included
            reason = "no PEM certificate in it" if isinstance(exc, ssl.SSLError) else exc.strerror or str(exc)
            msg = f"BACKEND_CA_BUNDLE {extra_ca_bundle}: {reason}"
            raise ConfigError(msg) from None
    return context


@asynccontextmanager
async def gateway_services(
    app: Litestar,
    engine: AsyncEngine,
    settings: Settings,
    file_servers: Mapping[str, ServerConfig],
    sessions: SessionCodec,
) -> AsyncIterator[GatewayServices]:
    """Prepare the database, then build and start the registry snapshot, backend pool and tool catalog."""
    await prepare_database(engine, settings, file_servers)
    ssl_context = create_ssl_context(settings.backend_ca_bundle)
    directory = ServerDirectory(async_sessionmaker(engine, expire_on_commit=False), settings.registry_refresh_seconds)
    await directory.reload()
    ended_sessions = EndedSessions(
        async_sessionmaker(engine, expire_on_commit=False), settings.registry_refresh_seconds
    )
    await ended_sessions.reload()
    sessions.ended = ended_sessions.is_ended
    async with httpx.AsyncClient(verify=ssl_context, timeout=10.0) as credential_http:
        credentials = CredentialStore(
            credential_http,
            vault_addr=settings.vault_addr,
            vault_token=settings.vault_token,
            vault_namespace=settings.vault_namespace,
            cache_seconds=settings.credential_cache_seconds,
        )
        pool = BackendPool(
            directory,
            OutboundAuth(credential_http, credentials),
            ssl_context=ssl_context,
            max_response_bytes=settings.backend_max_response_bytes,
            breaker_failures=settings.backend_breaker_failures,
            breaker_open_seconds=settings.backend_breaker_open_seconds,
            max_in_flight=settings.backend_max_in_flight,
            max_queued=settings.backend_max_queued,
            keepalive_seconds=settings.backend_keepalive_seconds,
            http2=settings.backend_http2,
            observer=app.state.metrics.observe_backend if "metrics" in app.state else None,
        )
        access = AccessPolicy(settings.admin_role)
        catalog = ToolCatalog(
            directory,
            pool,
            access,
            ttl_seconds=settings.catalog_ttl_seconds,
            server_names=settings.expose_server_tool_names,
        )
        invoker = Invoker(directory, pool, catalog, access)
        broadcaster = Broadcaster(invoker)
        router = ToolRouter(directory, catalog, invoker, broadcaster, access)
        services = GatewayServices(
            directory=directory,
            ended_sessions=ended_sessions,
            access=access,
            authenticator=Authenticator(settings, credential_http),
            pool=pool,
            catalog=catalog,
            invoker=invoker,
            broadcaster=broadcaster,
            router=router,
            mcp_handler=GatewayMcpServer(
                catalog,
                router,
                directory,
                pool,
                ttl_ms=int(settings.catalog_ttl_seconds * 1000),
                per_caller=settings.auth_required,
                challenge=lambda scopes: insufficient_scope_challenge(settings, "/mcp", scopes),
                sessions=sessions,
            ),
        )
        app.state.services = services
        directory.start()
        ended_sessions.start()
        catalog.start()
        try:
            yield services
        finally:
            await catalog.stop()
            await ended_sessions.stop()
            await directory.stop()
            await pool.aclose()
            # The engine is ours (created from settings), so close its pooled connections here.
            await engine.dispose()


def _from_state(field: str) -> Provide:
    def provide(state: State) -> Any:
        return getattr(state.services, field)

    return Provide(provide, sync_to_thread=False)


service_dependencies: dict[str, Provide] = {
    name: _from_state(name)
    for name in ("directory", "catalog", "invoker", "broadcaster", "router", "mcp_handler", "ended_sessions")
}
# Not "access": Litestar would mistake a body key of that name (a server's `access` block) for the dependency.
service_dependencies["access_policy"] = _from_state("access")
"""The long-lived services controllers receive by name."""
