"""Typed settings read from the environment and an optional ``.env`` file.

Nothing here runs at import time: ``load_settings()`` is called by ``create_app()`` (or by a test
with its own mapping), and the result is passed down explicitly.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import msgspec
from dotenv import dotenv_values

from app.errors import ConfigError

__all__ = ("SECRET_SETTINGS", "Settings", "load_settings", "mask_url_password")

SECRET_SETTINGS = frozenset({"MCP_OAUTH_CLIENT_SECRET", "VAULT_TOKEN", "MCP_SESSION_SECRET"})
"""Env names whose values are never shown (``/config`` prints only set/unset)."""


class Settings(msgspec.Struct, rename="upper", kw_only=True, frozen=True, forbid_unknown_fields=False):
    """Every knob of the gateway, named exactly as its environment variable (upper case)."""

    auth_enabled: bool = False
    """Require a valid bearer JWT on every API call (``false`` is an explicit development mode)."""
    keycloak_url: str = ""
    """Base URL of the Keycloak (or other OIDC) server, e.g. ``http://localhost:8080``."""
    keycloak_realm: str = "mcp-gateway"
    """Realm whose issuer, JWKS and introspection endpoint the gateway trusts."""
    jwt_algorithm: str = "RS256"
    """Comma-separated JWS algorithms accepted on inbound tokens."""
    mcp_auth_enabled: bool = False
    """Accept opaque OAuth2 tokens from MCP clients, checked by RFC 7662 introspection."""
    mcp_oauth_client_id: str = ""
    """Client id the gateway uses to call the introspection endpoint."""
    mcp_oauth_client_secret: str = ""
    """Client secret for introspection (secret: never logged or shown)."""
    mcp_resource_server_url: str = "http://localhost:8000/mcp"
    """Canonical URL of the gateway's MCP endpoint: the token audience and the RFC 9728 resource."""
    oidc_issuer: str = ""
    """Issuer of accepted tokens (``iss``); unset: ``KEYCLOAK_URL/realms/KEYCLOAK_REALM`` (set it when the
    authority's public name differs from the ``KEYCLOAK_URL`` the gateway reaches it by)."""
    jwt_jwks_url: str = ""
    """Explicit JWKS URL; unset: the ``jwks_uri`` of the issuer's ``.well-known/openid-configuration``."""
    jwt_audience: str = ""
    """Comma-separated audiences a token must name (any one); unset: ``MCP_RESOURCE_SERVER_URL``."""
    jwt_leeway_seconds: int = 30
    """Clock skew tolerated on ``exp``, ``nbf`` and ``iat``."""
    jwks_cache_seconds: float = 600.0
    """How long signing keys are used before the JWKS is fetched again (an unknown ``kid`` also refreshes)."""
    jwt_cache_seconds: float = 60.0
    """How long a verified JWT's claims are reused for the same token (by its SHA-256), never past its ``exp``;
    ``0`` verifies the signature on every request."""
    jwks_min_refresh_seconds: float = 10.0
    """Least time between JWKS refreshes caused by unknown ``kid`` values (protects the token authority)."""
    introspection_cache_seconds: float = 60.0
    """Longest time an active introspection result is reused (never past the token's ``exp``)."""
    auth_role_clients: str = "mcp-gateway-client"
    """Comma-separated clients whose ``resource_access.<client>.roles`` count (plus ``MCP_OAUTH_CLIENT_ID``)."""
    admin_role: str = "mcp-admin"
    """Role that may change the registry and read the audit trail and ``/config`` when authentication is on."""
    database_url: str = "sqlite:///mcp_gateway.db"
    """SQLAlchemy URL; ``sqlite://``, ``postgresql://`` and ``mysql://`` forms are mapped to async drivers."""
    database_auto_migrate: bool | None = None
    """Run migrations on start; unset means yes for SQLite, no for server databases (use ``db upgrade``)."""
    audit_log_file: str = "audit.json"
    """JSON-lines audit file; empty disables the file sink."""
    audit_to_stdout: bool = False
    """Also write every audit event to standard output."""
    mcp_servers_file: str = "mcp_servers.yaml"
    """YAML file declaring the backend MCP servers."""
    log_level: str = "INFO"
    """Level of the gateway's own (non-audit) logs."""
    vault_addr: str = ""
    """HashiCorp Vault address for ``vault://`` credential refs, e.g. ``https://vault:8200``."""
    vault_token: str = ""
    """Vault token (secret: never logged or shown)."""
    vault_namespace: str = ""
    """Vault Enterprise namespace, sent as ``X-Vault-Namespace`` when set."""
    credential_cache_seconds: float = 60.0
    """How long a resolved credential is reused before its ref is read again (rotation delay)."""
    expose_server_tool_names: bool = False
    """Also list a tool offered by several servers once per server as ``<server>__<tool>``."""
    registry_refresh_seconds: float = 5.0
    """How often each replica re-reads the ``servers`` table (changes made elsewhere show up within this)."""
    catalog_ttl_seconds: float = 60.0
    """How long a server's tool list is served from cache before it is refreshed in the background."""
    mcp_session_secret: str = ""
    """Key that signs ``/mcp`` session ids; set the same value on every replica (unset: random per process)."""
    mcp_allowed_origins: str = ""
    """Browser origins allowed to call ``/mcp`` besides loopback ones (comma-separated, ``*`` for any)."""
    max_request_body_bytes: int = 4 * 1024 * 1024
    """Largest request body accepted on any endpoint (413 above it)."""
    request_body_timeout_seconds: float = 30.0
    """Longest wait for the next chunk of a request body (408 after it): slow-sending clients are cut off."""
    backend_max_response_bytes: int = 10 * 1024 * 1024
    """Largest backend response accepted; bigger ones fail that call (protects the gateway's memory)."""
    backend_breaker_failures: int = 5
    """Consecutive failed requests (unreachable, timed out, not MCP) after which a backend's circuit opens."""
    backend_breaker_open_seconds: float = 10.0
    """How long an open circuit fails calls fast (503) before one probe call is let through."""
    backend_max_in_flight: int = 100
    """Concurrent requests per backend and process; more wait in the queue below."""
    backend_max_queued: int = 1000
    """Requests per backend and process waiting for one of the in-flight slots; beyond that, 503 at once."""
    backend_keepalive_seconds: float = 4.0
    """How long an idle connection to a backend is kept for reuse. Keep it below the backends' own idle
    timeout (uvicorn and Node.js: 5 s): a connection the backend is closing at the moment it is reused fails
    the call on it, and a ``tools/call`` is never retried."""
    backend_http2: bool = True
    """Offer HTTP/2 to ``https://`` backends (ALPN): one that accepts it carries all its calls over one
    multiplexed connection; one that does not gets HTTP/1.1. Off: every backend gets HTTP/1.1."""
    backend_ca_bundle: str = ""
    """PEM file of CA certificates to trust for ``https://`` backends besides the public ones (an internal CA)."""
    audit_db_enabled: bool = True
    """Also store audit events in the ``audit_logs`` table (served by ``GET /audit``)."""
    audit_queue_size: int = 10_000
    """Audit events each sink may hold waiting to be written; beyond it that sink drops new ones (counted)."""
    audit_batch_size: int = 200
    """Most audit events written at once (one file write, one database ``executemany``)."""
    audit_batch_wait_seconds: float = 0.1
    """How long an audit writer lets events gather before writing a batch smaller than ``AUDIT_BATCH_SIZE``
    (events reach their sinks up to this much later; a write per event would cost more than the call)."""
    audit_retry_attempts: int = 5
    """Retries of a failed audit batch (backoff 0.2 s doubling up to 5 s) before it is dropped and counted."""
    audit_flush_seconds: float = 10.0
    """At shutdown, how long pending audit events may take to be written before the rest is counted as dropped."""
    audit_max_parameter_bytes: int = 8192
    """Largest encoded ``parameters`` an audit event keeps; bigger ones become a truncation marker."""
    metrics_enabled: bool = True
    """Serve Prometheus metrics at ``GET /metrics``."""

    def public_view(self) -> dict[str, Any]:
        """The effective settings by env name, with secrets reduced to ``set``/``unset``."""
        view: dict[str, Any] = {}
        for field in msgspec.structs.fields(self):
            value = getattr(self, field.name)
            if field.encode_name in SECRET_SETTINGS:
                value = "set" if value else "unset"
            elif field.encode_name == "DATABASE_URL":
                value = mask_url_password(value)
            view[field.encode_name] = value
        return view

    @property
    def auth_required(self) -> bool:
        """Whether requests need a bearer token (JWTs with ``AUTH_ENABLED``, opaque ones with ``MCP_AUTH_ENABLED``)."""
        return self.auth_enabled or self.mcp_auth_enabled

    @property
    def issuer(self) -> str:
        """The trusted token issuer (explicit, else derived from the Keycloak realm)."""
        if self.oidc_issuer:
            return self.oidc_issuer.rstrip("/")
        if self.keycloak_url:
            return f"{self.keycloak_url.rstrip('/')}/realms/{self.keycloak_realm}"
        return ""

    @property
    def issuer_metadata_url(self) -> str:
        """Where the issuer's discovery document is fetched: through ``KEYCLOAK_URL`` when set (the address
        the gateway can reach, which may differ from the public ``OIDC_ISSUER``), else under the issuer."""
        if self.keycloak_url:
            return f"{self.keycloak_url.rstrip('/')}/realms/{self.keycloak_realm}/.well-known/openid-configuration"
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def audiences(self) -> tuple[str, ...]:
        configured = tuple(a.strip() for a in self.jwt_audience.split(",") if a.strip())
        return configured or (self.mcp_resource_server_url,)

    @property
    def algorithms(self) -> tuple[str, ...]:
        return tuple(a.strip() for a in self.jwt_algorithm.split(",") if a.strip())

    @property
    def role_clients(self) -> frozenset[str]:
        clients = {c.strip() for c in self.auth_role_clients.split(",") if c.strip()}
        return frozenset(clients | ({self.mcp_oauth_client_id} if self.mcp_oauth_client_id else set()))


def mask_url_password(url: str) -> str:
    """``scheme://user:secret@host/db`` → ``scheme://user:***@host/db`` (unchanged without a password)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


_NAMES = frozenset(f.encode_name for f in msgspec.structs.fields(Settings))
_STRING_NAMES = frozenset(f.encode_name for f in msgspec.structs.fields(Settings) if f.type is str)


def load_settings(environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env") -> Settings:
    """Build settings from ``environ`` (default: the process environment) over the optional ``env_file``.

    Real environment variables win over ``.env`` entries. An empty value for a non-string setting
    means "unset" (so ``AUTH_ENABLED=`` keeps the default).

    Raises:
        ConfigError: a value has the wrong type; the message names the variable.
    """
    merged: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        merged.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    merged.update(os.environ if environ is None else environ)
    raw = {k: v for k, v in merged.items() if k in _NAMES and (v != "" or k in _STRING_NAMES)}
    try:
        return msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        message = str(exc)
        name = message.rsplit("$.", 1)[-1].rstrip("`") if "$." in message else "?"
        value = raw.get(name, "")
        shown = "***" if name in SECRET_SETTINGS else repr(value)
        raise ConfigError(f"invalid setting {name}={shown}: {message.split(' - at ', maxsplit=1)[0]}") from None
