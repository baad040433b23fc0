"""Route guards."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

__all__ = ("require_admin",)


def require_admin(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Registry changes, the audit trail and ``/config`` need the admin role (``ADMIN_ROLE``).

    With authentication off every caller is the development principal and passes.

    Raises:
        AccessDenied: the caller lacks the admin role (403, audited as ``denied``).
    """
    action = handler.opt.get("action") or f"{connection.scope.get('method', 'GET')} {connection.url.path}"
    connection.app.state.services.access.check_admin(action)
