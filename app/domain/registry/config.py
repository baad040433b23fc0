"""What a registered backend MCP server is: the servers-file schema, shared by YAML, API and CLI.

One set of msgspec Structs validates all three entry points, so a key that is an error in
``mcp_servers.yaml`` is the same error in ``POST /mcp/servers`` and ``mcp-gateway servers add``.
Credential *values* never appear here: ``credential_ref`` names where the value lives.
"""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import urlsplit

import msgspec

__all__ = (
    "CREDENTIAL_REF_PATTERN",
    "SERVER_NAME_PATTERN",
    "TRANSPORT_TYPES",
    "AccessConfig",
    "AuthConfig",
    "AuthFormat",
    "AuthLocation",
    "AuthMethod",
    "ServerConfig",
    "ServerRegistration",
    "check_server_name",
)

AuthMethod = Literal["api_key", "bearer", "basic", "oauth2", "custom", "none"]
AuthLocation = Literal["header", "query", "body"]
AuthFormat = Literal["raw", "prefix", "template"]

SERVER_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
"""Server names appear in URLs and in tool names, so they stay within MCP's tool-name alphabet."""
TOOL_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
CREDENTIAL_REF_PATTERN = re.compile(r"^(env://[A-Za-z_][A-Za-z0-9_]*|file:///\S.*|vault://\S+)$")
TRANSPORT_TYPES = ("http", "streamable-http", "sse")
"""``sse`` is the legacy HTTP+SSE transport; the others (and any ``<kind>-mcp`` label) are Streamable HTTP."""
_KIND_LABEL = re.compile(r"^[a-z0-9][a-z0-9-]*-mcp$")
_TAG_PATTERN = re.compile(r"^[^\s\x00-\x1f]{1,64}$")


def check_server_name(name: str) -> str:
    """Return ``name`` if it is a valid server name, else raise ``ValueError`` saying why."""
    if not SERVER_NAME_PATTERN.match(name):
        msg = (
            f"invalid server name {name!r}: use 1-64 characters from A-Z a-z 0-9 _ . -, starting with a letter or digit"
        )
        raise ValueError(msg)
    return name


class AccessConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True, omit_defaults=True):
    """Who may use a server: a caller with any listed role, scope or group (empty block = everyone)."""

    roles: tuple[str, ...] = ()
    """Realm or client roles (``realm_access.roles`` / ``resource_access.<client>.roles``)."""
    scopes: tuple[str, ...] = ()
    """OAuth scopes (``scope`` / ``scp`` claims)."""
    groups: tuple[str, ...] = ()
    """Group names (``groups`` claim)."""


class AuthConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True, omit_defaults=True):
    """How the gateway authenticates to one backend (the agent's own token is never forwarded)."""

    method: AuthMethod
    """``api_key``, ``bearer``, ``basic``, ``oauth2`` (client credentials), ``custom`` or ``none``."""
    location: AuthLocation = "header"
    """Where the credential goes: a header, a query parameter or a JSON body field."""
    name: str | None = None
    """Header, query parameter or body field name (method default: ``Authorization`` / ``X-API-Key``)."""
    format: AuthFormat | None = None
    """``raw``, ``prefix`` (``prefix`` + credential) or ``template`` (``{credential}`` placeholder)."""
    prefix: str | None = None
    """Text put before the credential when ``format: prefix``, e.g. ``"Bearer "``."""
    template: str | None = None
    """Text with a ``{credential}`` placeholder when ``format: template``."""
    credential_ref: str | None = None
    """Where the secret lives: ``env://VAR``, ``file:///path`` or ``vault://path``; never the value."""
    token_url: str | None = None
    """``oauth2`` only: the token endpoint for the client-credentials grant."""
    client_id: str | None = None
    """``oauth2`` only: the client id (``credential_ref`` then names the client secret)."""
    scope: str | None = None
    """``oauth2`` only: space-separated scopes to request."""
    resource: str | None = None
    """``oauth2`` only: RFC 8707 resource indicator for the token request (default: the server's ``url``;
    an empty string sends none, for token endpoints that reject the parameter)."""
    username: str | None = None
    """``basic`` only: the user name (``credential_ref`` then names the password, not ``user:password``)."""

    def __post_init__(self) -> None:
        if self.method == "none":
            if self.credential_ref is not None:
                msg = "method 'none' takes no credential_ref"
                raise ValueError(msg)
            return
        if self.credential_ref is None:
            msg = f"method '{self.method}' needs a credential_ref (env://VAR, file:///path or vault://path)"
            raise ValueError(msg)
        if not CREDENTIAL_REF_PATTERN.match(self.credential_ref):
            # The value may be a pasted secret: never echo it back.
            msg = "credential_ref must be a reference of the form env://VAR, file:///path or vault://path"
            raise ValueError(msg)
        if self.format == "prefix" and not self.prefix:
            msg = "format 'prefix' needs a non-empty prefix"
            raise ValueError(msg)
        if self.format == "template" and (self.template is None or "{credential}" not in self.template):
            msg = "format 'template' needs a template containing '{credential}'"
            raise ValueError(msg)
        if self.method == "custom" and not self.name:
            msg = "method 'custom' needs a name (the header, query parameter or body field to fill)"
            raise ValueError(msg)
        if self.method == "oauth2":
            if not self.token_url or not _is_http_url(self.token_url):
                msg = "method 'oauth2' needs token_url, an http(s) URL of the token endpoint"
                raise ValueError(msg)
            if not self.client_id:
                msg = "method 'oauth2' needs client_id"
                raise ValueError(msg)
        if self.name is not None and not self.name.strip():
            msg = "name must not be blank"
            raise ValueError(msg)


class ServerConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True, omit_defaults=True):
    """One backend MCP server, as written under ``servers.<name>`` in ``mcp_servers.yaml``."""

    url: str
    """The server's MCP endpoint (Streamable HTTP) or SSE endpoint (``type: sse``)."""
    type: str = "http"
    """Transport: ``http`` / ``streamable-http`` (Streamable HTTP), ``sse`` (legacy), or a ``<kind>-mcp`` label."""
    timeout: float = 30.0
    """Seconds one call to this server may take."""
    enabled: bool = True
    """Disabled servers stay registered but receive no traffic."""
    description: str = ""
    """Free text shown in listings."""
    tags: tuple[str, ...] = ()
    """Labels for grouping and tag broadcast (``broadcast__by_tag__<tag>``)."""
    tools: tuple[str, ...] | None = None
    """If set, only these tools of the server are exposed."""
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    """Free-form key/value data kept with the server."""
    auth: AuthConfig | None = None
    """Outbound credentials; ``null`` means none."""
    access: AccessConfig | None = None
    """Inbound policy: who may use this server; ``null`` means every authenticated caller."""

    def __post_init__(self) -> None:
        if not _is_http_url(self.url):
            msg = f"url must be an absolute http(s) URL, got {_redact_url(self.url)!r}"
            raise ValueError(msg)
        if urlsplit(self.url).password is not None or urlsplit(self.url).username is not None:
            msg = "url must not embed credentials; use auth.credential_ref"
            raise ValueError(msg)
        if self.type not in TRANSPORT_TYPES and not _KIND_LABEL.match(self.type):
            msg = f"type must be one of {', '.join(TRANSPORT_TYPES)} or a '<kind>-mcp' label, got {self.type!r}"
            raise ValueError(msg)
        if not 0 < self.timeout <= 3600:
            msg = f"timeout must be between 0 and 3600 seconds, got {self.timeout}"
            raise ValueError(msg)
        for tag in self.tags:
            if not _TAG_PATTERN.match(tag):
                msg = f"invalid tag {tag!r}: 1-64 characters, no whitespace"
                raise ValueError(msg)
        if len(set(self.tags)) != len(self.tags):
            msg = "tags must not repeat"
            raise ValueError(msg)
        for tool in self.tools or ():
            if not TOOL_NAME_PATTERN.match(tool):
                msg = f"invalid tool name {tool!r}: 1-128 characters from A-Z a-z 0-9 _ . -"
                raise ValueError(msg)

    @property
    def transport(self) -> Literal["streamable-http", "sse"]:
        """The wire protocol to speak to this server."""
        return "sse" if self.type == "sse" else "streamable-http"


class ServerRegistration(ServerConfig, kw_only=True, frozen=True):
    """A server registered through the API or CLI: its name plus the servers-file keys."""

    name: str
    """Unique server name: 1-64 characters from ``A-Z a-z 0-9 _ . -``."""

    def __post_init__(self) -> None:
        check_server_name(self.name)
        super().__post_init__()

    def config(self) -> ServerConfig:
        """The configuration without the name."""
        fields = {f: getattr(self, f) for f in ServerConfig.__struct_fields__}
        return ServerConfig(**fields)


def _is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and bool(parts.hostname)


def _redact_url(url: str) -> str:
    """A URL fit for an error message: userinfo and query (where secrets hide) removed."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable>"
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{parts.path}" if parts.scheme else url[:64]
