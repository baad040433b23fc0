"""OAuth discovery: RFC 9728 protected-resource metadata and the token authority's metadata (RFC 8414 / OIDC).

Served only when authentication is on (404 otherwise, so clients do not start an OAuth flow for nothing).
``/.well-known/oauth-protected-resource/mcp`` describes the MCP endpoint (its ``resource`` is
``MCP_RESOURCE_SERVER_URL``, the audience tokens must carry); the root form describes the gateway's
origin. The authorization-server documents are the issuer's own, fetched and cached.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from app.domain.registry.directory import ServerDirectory
from app.errors import NotFound
from app.settings import Settings

__all__ = ("DiscoveryController",)


class DiscoveryController(Controller):
    path = "/.well-known"
    tags = ["discovery"]

    @get("/oauth-protected-resource", summary="Protected resource metadata of the gateway (RFC 9728)")
    async def protected_resource(
        self, settings: NamedDependency[Settings], directory: NamedDependency[ServerDirectory]
    ) -> dict[str, Any]:
        parts = urlsplit(settings.mcp_resource_server_url)
        return _resource_metadata(settings, directory, f"{parts.scheme}://{parts.netloc}")

    @get("/oauth-protected-resource/{resource:path}", summary="Protected resource metadata of the MCP endpoint")
    async def protected_resource_at(
        self, settings: NamedDependency[Settings], directory: NamedDependency[ServerDirectory], resource: FromPath[str]
    ) -> dict[str, Any]:
        parts = urlsplit(settings.mcp_resource_server_url)
        if resource.strip("/") != parts.path.strip("/"):
            msg = f"no protected resource at /{resource.strip('/')}; the MCP endpoint is {parts.path or '/'}"
            raise NotFound(msg)
        return _resource_metadata(settings, directory, settings.mcp_resource_server_url)

    @get(
        ["/oauth-authorization-server", "/oauth-authorization-server/{suffix:path}"],
        summary="Authorization server metadata (RFC 8414) of the trusted token issuer",
    )
    async def authorization_server(self, request: Request[Any, Any, Any], settings: NamedDependency[Settings]) -> Any:
        return await _issuer_document(request, settings)

    @get("/openid-configuration", summary="OpenID Connect discovery document of the trusted token issuer")
    async def openid_configuration(self, request: Request[Any, Any, Any], settings: NamedDependency[Settings]) -> Any:
        return await _issuer_document(request, settings)


def _require_auth(settings: Settings) -> None:
    if not settings.auth_required:
        msg = "authentication is disabled (AUTH_ENABLED and MCP_AUTH_ENABLED are false): no OAuth metadata"
        raise NotFound(msg)


def _resource_metadata(settings: Settings, directory: ServerDirectory, resource: str) -> dict[str, Any]:
    _require_auth(settings)
    scopes = sorted({scope for s in directory.enabled() if s.config.access for scope in s.config.access.scopes})
    document: dict[str, Any] = {
        "resource": resource,
        "authorization_servers": [settings.issuer],
        "bearer_methods_supported": ["header"],
        "resource_name": "MCP Gateway",
    }
    if scopes:
        document["scopes_supported"] = scopes
    return document


async def _issuer_document(request: Request[Any, Any, Any], settings: Settings) -> dict[str, Any]:
    _require_auth(settings)
    metadata = request.app.state.services.authenticator.metadata
    document: dict[str, Any] = await metadata.document()
    return document
