"""The gateway's exception tree.

Every layer raises these; ``app.server.errors`` maps them, in one place, to HTTP problem
responses (and, on ``/mcp``, to JSON-RPC errors).

    GatewayError
    ├── ConfigError ................ settings or servers file invalid (raised at start-up)
    ├── InvalidRequest ............. 400  input that names a bad field or value
    ├── NotFound ................... 404
    │   └── ServerNotFound
    ├── Conflict ................... 409
    │   ├── ServerAlreadyExists
    │   ├── ServerManagedByFile ..... a `source=file` server changed through the API/CLI
    │   └── ServerDisabled
    └── ServiceUnavailable ......... 503  a dependency (the database) cannot be reached
"""

from __future__ import annotations

from typing import ClassVar

__all__ = (
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


class NotFound(GatewayError):
    status_code = 404
    code = "not_found"


class ServerNotFound(NotFound):
    code = "server_not_found"

    def __init__(self, name: str) -> None:
        super().__init__(f"MCP server '{name}' is not registered")
        self.server = name


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
