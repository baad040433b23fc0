"""``create_app(settings)``: the only place the gateway is assembled."""

from __future__ import annotations

from litestar import Litestar

from app.domain.registry import load_servers_file
from app.errors import ConfigError
from app.server.authentication import check_auth_settings
from app.server.core import ApplicationCore
from app.settings import Settings, load_settings
from app.telemetry import configure_tracing

__all__ = ("create_app",)


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the gateway from ``settings`` (default: environment and ``.env``).

    Raises:
        ConfigError: invalid settings or servers file; the message names the variable, file, server and key.
    """
    settings = settings or load_settings()
    problems = check_auth_settings(settings)
    if problems:
        raise ConfigError("; ".join(problems))
    file_servers = load_servers_file(settings.mcp_servers_file) if settings.mcp_servers_file else {}
    configure_tracing()
    # The body limit must reach the constructor: Litestar ignores one set by a plugin's on_app_init.
    return Litestar(
        plugins=[ApplicationCore(settings, file_servers)], request_max_body_size=settings.max_request_body_bytes
    )
