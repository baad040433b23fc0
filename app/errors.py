"""The gateway's exception tree.

Every layer raises these; ``app.server.errors`` maps them, in one place, to HTTP problem
responses (and, on ``/mcp``, to JSON-RPC errors).

    GatewayError
    ├── ConfigError ................ settings or servers file invalid (raised at start-up)
    ├── InvalidRequest ............. 400  input that names a bad field or value
    ├── Unauthenticated ............ 401  no, malformed or unverifiable bearer token (carries the RFC 6750 error)
    ├── AccessDenied ............... 403  the caller's roles/scopes/groups do not allow this (audited as `denied`)
    ├── NotFound ................... 404
    │   ├── ServerNotFound
    │   └── ToolNotFound
    ├── Conflict ................... 409
    │   ├── ServerAlreadyExists
    │   ├── ServerManagedByFile ..... a `source=file` server changed through the API/CLI
    │   └── ServerDisabled
    ├── ServiceUnavailable ......... 503  a dependency (the database) cannot be reached
    │   └── CredentialUnavailable .. a backend's credential_ref cannot be resolved (names the ref, never a value)
    └── BackendError ............... 502  talking to a backend MCP server failed
        ├── BackendUnreachable ..... 502  connection refused / reset / DNS
        ├── BackendTimeout ......... 504  no answer within the server's timeout
        ├── BackendProtocolError ... 502  not MCP: bad JSON, wrong id, oversized, unexpected status
        ├── BackendRpcError ........ 502  the backend answered with a JSON-RPC error (its code is kept)
        ├── BackendCircuitOpen ..... 503  recent calls kept failing: not tried until the probe succeeds
        └── BackendSaturated ....... 503  too many calls to this backend in flight and waiting
"""

from __future__ import annotations

from typing import ClassVar

__all__ = (
    "AccessDenied",
    "BackendCircuitOpen",
    "BackendSaturated",
    "ConfigError",
    "Conflict",
    "GatewayError",
    "InvalidRequest",
    "NotFound",
    "ServerAlreadyExists",
    "ServerDisabled",
    "ServerManagedByFile",
    "ServerNotFound",
    "ServiceUnavailable",
    "ToolNotFound",
    "Unauthenticated",
)


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose."""

    status_code: ClassVar[int] = 500
    """HTTP status this error maps to."""
    code: ClassVar[str] = "internal_error"
    """Stable machine-readable slug, sent as ``code`` in problem responses."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        """Human-readable explanation; never contains a secret value."""


class ConfigError(GatewayError):
    """The settings or the servers file are invalid; the gateway refuses to start."""

    code = "config_error"


class InvalidRequest(GatewayError):
    status_code = 400
    code = "invalid_request"


class Unauthenticated(GatewayError):
    """The request carries no usable bearer token; the response challenges with ``WWW-Authenticate``."""

    status_code = 401
    code = "unauthenticated"

    def __init__(self, message: str, error: str | None = "invalid_token") -> None:
        super().__init__(message)
        self.error = error
        """RFC 6750 error code (``invalid_token``, ``invalid_request``) or None when no token was sent."""


class AccessDenied(GatewayError):
    """The caller is known but may not do this; ``scopes`` names scopes that would allow it."""

    status_code = 403
    code = "access_denied"

    def __init__(self, message: str, *, server: str | None = None, scopes: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.server = server
        self.scopes = scopes


class NotFound(GatewayError):
    status_code = 404
    code = "not_found"


class ServerNotFound(NotFound):
    code = "server_not_found"

    def __init__(self, name: str) -> None:
        super().__init__(f"MCP server '{name}' is not registered")
        self.server = name


class ToolNotFound(NotFound):
    code = "tool_not_found"

    def __init__(self, tool: str, server: str | None = None) -> None:
        where = f" on MCP server '{server}'" if server else " on any reachable MCP server"
        super().__init__(f"tool '{tool}' is not available{where}")
        self.tool = tool
        self.server = server


class Conflict(GatewayError):
    status_code = 409
    code = "conflict"


class ServerAlreadyExists(Conflict):
    code = "server_exists"

    def __init__(self, name: str, source: str) -> None:
        where = "in the servers file" if source == "file" else "through the API"
        super().__init__(f"MCP server '{name}' is already registered {where}; choose another name")
        self.server = name


class ServerManagedByFile(Conflict):
    code = "server_managed_by_file"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"MCP server '{name}' is defined in the servers file (source=file); edit the file and restart instead"
        )
        self.server = name


class ServerDisabled(Conflict):
    code = "server_disabled"

    def __init__(self, name: str) -> None:
        super().__init__(f"MCP server '{name}' is disabled")
        self.server = name


class ServiceUnavailable(GatewayError):
    status_code = 503
    code = "service_unavailable"


class CredentialUnavailable(ServiceUnavailable):
    code = "credential_unavailable"

    def __init__(self, ref: str, reason: str) -> None:
        super().__init__(f"credential {ref} cannot be resolved: {reason}")
        self.ref = ref


class BackendError(GatewayError):
    """Talking to one backend failed; ``server`` names it."""

    status_code = 502
    code = "backend_error"

    def __init__(self, server: str, message: str) -> None:
        super().__init__(f"MCP server '{server}': {message}")
        self.server = server


class BackendUnreachable(BackendError):
    code = "backend_unreachable"


class BackendTimeout(BackendError):
    status_code = 504
    code = "backend_timeout"


class BackendProtocolError(BackendError):
    code = "backend_protocol_error"


class BackendRpcError(BackendError):
    code = "backend_rpc_error"

    def __init__(self, server: str, rpc_code: int, rpc_message: str, data: object = None) -> None:
        super().__init__(server, f"JSON-RPC error {rpc_code}: {rpc_message}")
        self.rpc_code = rpc_code
        self.rpc_message = rpc_message
        self.data = data


class BackendCircuitOpen(BackendError):
    status_code = 503
    code = "backend_circuit_open"

    def __init__(self, server: str, retry_in: float) -> None:
        super().__init__(server, f"circuit open after repeated failures; next attempt in {retry_in:.1f}s")
        self.retry_in = retry_in


class BackendSaturated(BackendError):
    status_code = 503
    code = "backend_saturated"

    def __init__(self, server: str, limit: int) -> None:
        super().__init__(server, f"too many concurrent calls (limit {limit} in flight, queue full); retry later")
