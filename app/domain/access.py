"""AccessPolicy: which registered servers the current caller may use, from each server's ``access`` block.

Rule: a server without an ``access`` block (or with an empty one) is open to every authenticated
caller; otherwise the caller needs any one of its roles, scopes or groups. The anonymous principal
of development mode (authentication off) may use everything. The admin role (``ADMIN_ROLE``) grants
registry changes and the audit trail, not access to servers: that stays per server.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

from app.domain.caller import Principal, current_call
from app.domain.registry.config import AccessConfig
from app.domain.registry.service import RegisteredServer
from app.errors import AccessDenied

__all__ = ("AccessPolicy",)


class AccessPolicy:
    """Decides per server for the principal of the current call (``current_call()``)."""

    __slots__ = ("admin_role",)

    def __init__(self, admin_role: str = "mcp-admin") -> None:
        self.admin_role = admin_role

    def is_admin(self, principal: Principal | None = None) -> bool:
        principal = principal or current_call().principal
        return not principal.authenticated or self.admin_role in principal.roles

    def may_use(self, server: RegisteredServer, principal: Principal | None = None) -> bool:
        principal = principal or current_call().principal
        return not principal.authenticated or _grants(server.config.access, principal)

    def decided_by(self, principal: Principal | None = None) -> Hashable:
        """What of the caller decides which servers it may use: two callers with equal keys get equal answers
        (so a view of the catalog can be kept per key)."""
        principal = principal or current_call().principal
        return principal.authenticated, principal.roles, principal.scopes, principal.groups

    def usable(self, servers: Iterable[RegisteredServer]) -> list[RegisteredServer]:
        """The subset of ``servers`` the current caller may use, order kept."""
        principal = current_call().principal
        return [server for server in servers if self.may_use(server, principal)]

    def check(self, server: RegisteredServer) -> None:
        """Raise :class:`AccessDenied` unless the current caller may use ``server``."""
        if not self.may_use(server):
            raise denied(server)

    def check_admin(self, action: str) -> None:
        """Raise :class:`AccessDenied` unless the current caller holds the admin role."""
        if not self.is_admin():
            msg = f"{action} needs the '{self.admin_role}' role"
            raise AccessDenied(msg)


def denied(server: RegisteredServer) -> AccessDenied:
    """The 403 for a server the caller may not use; names what would grant access (never the caller's claims)."""
    access = server.config.access
    needs = []
    if access is not None:
        needs += [f"role {', '.join(access.roles)}"] if access.roles else []
        needs += [f"scope {', '.join(access.scopes)}"] if access.scopes else []
        needs += [f"group {', '.join(access.groups)}"] if access.groups else []
    msg = f"access to MCP server '{server.name}' denied: it needs any of " + "; ".join(needs)
    return AccessDenied(msg, server=server.name, scopes=access.scopes if access is not None else ())


def _grants(access: AccessConfig | None, principal: Principal) -> bool:
    if access is None or not (access.roles or access.scopes or access.groups):
        return True
    return bool(
        principal.roles.intersection(access.roles)
        or principal.scopes.intersection(access.scopes)
        or principal.groups.intersection(access.groups)
    )
