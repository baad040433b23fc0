"""Who is calling, for this request: the principal and the request's identity.

The HTTP layer sets the context once per request (``app.server.request_context``); domain services
read it with :func:`current_call` to authorize, audit and trace without threading it through every
signature. Tasks started during a request inherit it (``contextvars``).
"""

from __future__ import annotations

from contextvars import ContextVar, Token

import msgspec

__all__ = ("ANONYMOUS", "CallContext", "Principal", "current_call", "principal_from_claims", "reset_call", "set_call")


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """The authenticated caller, built from a verified token's claims (or the development anonymous)."""

    subject: str
    """The token's ``sub`` (or the client id for a client-credentials token)."""
    username: str = ""
    """``preferred_username`` when the token has one."""
    email: str = ""
    client_id: str = ""
    """``azp`` / ``client_id``: the OAuth client the token was issued to."""
    roles: frozenset[str] = frozenset()
    """``realm_access.roles`` plus every ``resource_access.<client>.roles``."""
    scopes: frozenset[str] = frozenset()
    """``scope`` (space separated) or ``scp`` (list)."""
    groups: frozenset[str] = frozenset()
    authenticated: bool = True
    """False only for the anonymous principal of development mode (``AUTH_ENABLED=false``)."""

    @property
    def name(self) -> str:
        """What audit records show as ``user``: email, else username, else subject."""
        return self.email or self.username or self.subject


ANONYMOUS = Principal(subject="anonymous", username="anonymous", authenticated=False)
"""The caller when authentication is disabled: may use everything (development mode)."""


class CallContext(msgspec.Struct, frozen=True, kw_only=True):
    """The request a piece of work belongs to."""

    principal: Principal = ANONYMOUS
    request_id: str = ""
    """``X-Request-ID`` of the request (received when sane, else generated)."""
    client: str = ""
    """The caller's network address (``host`` or ``host:port``)."""


_CURRENT: ContextVar[CallContext] = ContextVar("mcp_gateway_call", default=CallContext())  # noqa: B039


def current_call() -> CallContext:
    """The context of the request being served (an anonymous, id-less one outside any request)."""
    return _CURRENT.get()


def set_call(context: CallContext) -> Token[CallContext]:
    """Make ``context`` current for this task and the tasks it starts; returns the token for :func:`reset_call`."""
    return _CURRENT.set(context)


def reset_call(token: Token[CallContext]) -> None:
    _CURRENT.reset(token)


def principal_from_claims(claims: dict[str, object], role_clients: frozenset[str] = frozenset()) -> Principal:
    """A principal from verified JWT claims or an RFC 7662 introspection response (Keycloak-shaped).

    Roles: ``realm_access.roles``, a top-level ``roles`` list, and ``resource_access.<client>.roles``
    for the clients in ``role_clients`` only (roles another client defines are not trusted).
    Scopes: ``scope`` (space separated) or ``scp``. Groups: ``groups`` with any leading ``/`` dropped.
    """
    roles: set[str] = set(_strings(_get(claims, "realm_access", "roles")) + _strings(claims.get("roles")))
    for client in role_clients:
        roles.update(_strings(_get(claims, "resource_access", client, "roles")))
    scope = claims.get("scope")
    scopes = scope.split() if isinstance(scope, str) else _strings(scope) + _strings(claims.get("scp"))
    client_id = _text(claims.get("azp")) or _text(claims.get("client_id"))
    return Principal(
        subject=_text(claims.get("sub")) or client_id or "unknown",
        username=_text(claims.get("preferred_username")) or _text(claims.get("username")),
        email=_text(claims.get("email")),
        client_id=client_id,
        roles=frozenset(roles),
        scopes=frozenset(scopes),
        groups=frozenset(group.lstrip("/") for group in _strings(claims.get("groups"))),
    )


def _get(claims: dict[str, object], *path: str) -> object:
    node: object = claims
    for key in path:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _strings(value: object) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
