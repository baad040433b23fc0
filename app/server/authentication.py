"""Inbound authentication: the bearer token of every non-public request → the request's Principal.

``Authenticator`` picks the check per token: a JWT is verified locally against the issuer's keys
(``AUTH_ENABLED``); anything else — or every token when only ``MCP_AUTH_ENABLED`` is on — goes to
RFC 7662 introspection. ``AuthenticationMiddleware`` runs it before routing and answers failures
with 401 and a ``WWW-Authenticate`` challenge pointing at the protected-resource metadata.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from app.adapters.identity.algorithms import check_algorithms, looks_like_jwt
from app.adapters.identity.introspection import TokenIntrospector
from app.adapters.identity.metadata import IssuerMetadata
from app.audit import record_auth_failure
from app.domain.caller import Principal, current_call, principal_from_claims, reset_call, set_call
from app.errors import GatewayError, ServiceUnavailable, Unauthenticated
from app.settings import Settings

if TYPE_CHECKING:
    from app.adapters.identity.jwt_verifier import JwtVerifier

__all__ = (
    "AuthenticationMiddleware",
    "Authenticator",
    "bearer_challenge",
    "check_auth_settings",
    "insufficient_scope_challenge",
    "is_public_path",
    "resource_metadata_url",
)

logger = logging.getLogger("mcp_gateway.auth")

_PUBLIC_PATHS = frozenset({"/", "/health", "/health/live", "/metrics"})
_PUBLIC_PREFIXES = ("/.well-known/", "/schema")


def is_public_path(path: str) -> bool:
    """Probes, metrics, discovery documents and the API description never need a token."""
    return path in _PUBLIC_PATHS or path.startswith(_PUBLIC_PREFIXES)


def check_auth_settings(settings: Settings) -> list[str]:
    """Problems that make the authentication settings unusable (empty when fine)."""
    problems: list[str] = []
    if not settings.auth_required:
        return problems
    if not settings.issuer:
        problems.append("KEYCLOAK_URL (or OIDC_ISSUER) must be set when AUTH_ENABLED or MCP_AUTH_ENABLED is true")
    if settings.auth_enabled:
        try:
            check_algorithms(settings.algorithms)
        except ValueError as exc:
            problems.append(f"JWT_ALGORITHM: {exc}")
    if settings.mcp_auth_enabled and not (settings.mcp_oauth_client_id and settings.mcp_oauth_client_secret):
        problems.append("MCP_AUTH_ENABLED=true needs MCP_OAUTH_CLIENT_ID and MCP_OAUTH_CLIENT_SECRET for introspection")
    return problems


def resource_metadata_url(settings: Settings, path: str) -> str:
    """RFC 9728 metadata URL for the resource at ``path``: path-suffixed for ``/mcp``, the root form otherwise."""
    parts = urlsplit(settings.mcp_resource_server_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    suffix = parts.path.rstrip("/") if path.startswith("/mcp") and not path.startswith("/mcp/") else ""
    return f"{origin}/.well-known/oauth-protected-resource{suffix}"


def bearer_challenge(
    settings: Settings, path: str, error: str | None = None, description: str = "", **extra: str
) -> str:
    """A ``WWW-Authenticate: Bearer …`` value (RFC 6750 + RFC 9728 ``resource_metadata``)."""
    params = [f'resource_metadata="{resource_metadata_url(settings, path)}"']
    if error:
        params.append(f'error="{error}"')
        if description:
            params.append(f'error_description="{_quoted(description)}"')
    params += [f'{name}="{_quoted(value)}"' for name, value in extra.items()]
    return "Bearer " + ", ".join(params)


def insufficient_scope_challenge(settings: Settings, path: str, scopes: tuple[str, ...]) -> str:
    """The challenge of a 403: ``insufficient_scope`` plus, when known, the scopes that would allow the call."""
    extra = {"scope": " ".join(scopes)} if scopes else {}
    return bearer_challenge(settings, path, "insufficient_scope", "the token does not grant access to this", **extra)


def _quoted(text: str) -> str:
    return "".join(c for c in text if c.isprintable() and c not in '"\\')


class Authenticator:
    """Turns an ``Authorization`` header into a :class:`Principal` (or raises :class:`Unauthenticated`)."""

    __slots__ = ("introspector", "metadata", "role_clients", "verifier")

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.metadata = (
            IssuerMetadata(http, settings.issuer, url=settings.issuer_metadata_url) if settings.issuer else None
        )
        self.role_clients = settings.role_clients
        self.verifier: JwtVerifier | None = None
        self.introspector: TokenIntrospector | None = None
        metadata = self.metadata
        if settings.auth_enabled and metadata is not None:
            # Imported here: the JOSE library (~12 MB resident) is loaded only by gateways that verify JWTs.
            from app.adapters.identity.jwks import JwksCache
            from app.adapters.identity.jwt_verifier import JwtVerifier

            jwks_url = settings.jwt_jwks_url

            async def keys_at() -> str:
                return jwks_url or await metadata.endpoint("jwks_uri")

            keys = JwksCache(
                http,
                keys_at,
                cache_seconds=settings.jwks_cache_seconds,
                min_refresh_seconds=settings.jwks_min_refresh_seconds,
            )
            self.verifier = JwtVerifier(
                keys,
                issuer=settings.issuer,
                audiences=settings.audiences,
                algorithms=settings.algorithms,
                leeway_seconds=settings.jwt_leeway_seconds,
                cache_seconds=settings.jwt_cache_seconds,
            )
        if settings.mcp_auth_enabled and metadata is not None:

            async def introspection_at() -> str:
                return await metadata.endpoint("introspection_endpoint")

            self.introspector = TokenIntrospector(
                http,
                introspection_at,
                client_id=settings.mcp_oauth_client_id,
                client_secret=settings.mcp_oauth_client_secret,
                audiences=settings.audiences,
                cache_seconds=settings.introspection_cache_seconds,
            )

    async def authenticate(self, authorization: str | None) -> Principal:
        """The principal of a ``Bearer`` credential.

        Raises:
            Unauthenticated: missing header (``error`` None), wrong scheme, or a token that fails its check.
            ServiceUnavailable: the token authority cannot be reached to check it.
        """
        if not authorization:
            raise Unauthenticated("this endpoint needs an 'Authorization: Bearer <token>' header", error=None)
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("the Authorization header must use the Bearer scheme", error="invalid_request")
        if self.verifier is not None and (looks_like_jwt(token) or self.introspector is None):
            claims = await self.verifier.verify(token)
        elif self.introspector is not None:
            claims = await self.introspector.introspect(token)
        else:
            raise ServiceUnavailable("authentication is on but no token authority is configured")
        return principal_from_claims(claims, self.role_clients)


class AuthenticationMiddleware:
    """Authenticates HTTP requests to non-public paths when ``AUTH_ENABLED``/``MCP_AUTH_ENABLED`` is on."""

    __slots__ = ("app",)

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope["app"].state
        settings: Settings = state.settings
        if scope["type"] != ScopeType.HTTP or not settings.auth_required or is_public_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        authorization = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
                break
        try:
            principal = await state.services.authenticator.authenticate(authorization)
        except Unauthenticated as exc:
            logger.info("unauthenticated %s %s: %s", scope["method"], scope["path"], exc.message)
            record_auth_failure(exc.message, 401, method=scope["method"], path=scope["path"])
            challenge = bearer_challenge(settings, scope["path"], exc.error, exc.message)
            await _problem(send, 401, exc.code, exc.message, {"www-authenticate": challenge})
            return
        except GatewayError as exc:
            logger.warning("cannot authenticate %s %s: %s", scope["method"], scope["path"], exc.message)
            await _problem(send, exc.status_code, exc.code, exc.message, {})
            return
        token = set_call(msgspec.structs.replace(current_call(), principal=principal))
        try:
            await self.app(scope, receive, send)
        finally:
            reset_call(token)


async def _problem(send: Send, status: int, code: str, detail: str, headers: dict[str, str]) -> None:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "code": code,
    }
    encoded = msgspec.json.encode(body)
    raw_headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(encoded)).encode()),
        *((name.encode(), value.encode("latin-1")) for name, value in headers.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": encoded, "more_body": False})
