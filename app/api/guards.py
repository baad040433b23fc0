"""Route guards."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

__all__ = ("require_admin",)


def require_admin(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Seam for registry mutations: they become admin-only when inbound authentication lands.

    Until then ``create_app`` refuses ``AUTH_ENABLED=true``, so every caller is the anonymous
    development principal and may change the registry.
    """
    del connection
