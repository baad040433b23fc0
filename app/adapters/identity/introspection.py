"""TokenIntrospector: opaque bearer tokens checked with RFC 7662 at the authority's introspection endpoint.

Active results are cached by the token's SHA-256 for at most ``cache_seconds`` and never past the
token's own ``exp``; inactive results for a short while too, so a client retrying a revoked token
does not hammer the authority. The cache is bounded.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection
from typing import Any

import httpx

from app.adapters.identity.fetch import authority_json
from app.adapters.identity.token_cache import MISSING, TokenCache
from app.errors import ServiceUnavailable, Unauthenticated

__all__ = ("TokenIntrospector",)

_INACTIVE_SECONDS = 10.0


class TokenIntrospector:
    """``introspect(token)`` → the authority's claims about an active token."""

    __slots__ = ("_cache", "_client", "_endpoint", "_http", "audiences", "cache_seconds", "calls")

    def __init__(
        self,
        http: httpx.AsyncClient,
        endpoint: Callable[[], Awaitable[str]],
        *,
        client_id: str,
        client_secret: str,
        audiences: Collection[str] = (),
        cache_seconds: float = 60.0,
        max_entries: int = 10_000,
    ) -> None:
        self._http = http
        self._endpoint = endpoint
        self._client = (client_id, client_secret)
        self.audiences = frozenset(audiences)
        self.cache_seconds = cache_seconds
        self._cache = TokenCache(max_entries)
        self.calls = 0
        """How many introspection requests were sent (observable by tests and metrics)."""

    async def introspect(self, token: str) -> dict[str, Any]:
        """The introspection response of an active token.

        Raises:
            Unauthenticated: the token is not active (or not meant for this gateway).
            ServiceUnavailable: the introspection endpoint cannot be used.
        """
        key = TokenCache.key(token)
        claims: dict[str, Any] | None = self._cache.get(key)
        if claims is MISSING:
            now = time.time()
            claims = await self._ask(token)
            self._remember(key, claims, now)
        if claims is None:
            raise Unauthenticated("token is not active")
        return claims

    async def _ask(self, token: str) -> dict[str, Any] | None:
        url = await self._endpoint()
        self.calls += 1
        body = await authority_json(
            self._http,
            "token introspection",
            url,
            form={"token": token, "token_type_hint": "access_token"},
            auth=self._client,
            hint=" (check MCP_OAUTH_CLIENT_ID/SECRET)",
        )
        if not isinstance(body.get("active"), bool):
            msg = f"token introspection at {url} did not return an RFC 7662 response"
            raise ServiceUnavailable(msg)
        if not body["active"]:
            return None
        audience = body.get("aud")
        if audience is not None and self.audiences:
            given = {audience} if isinstance(audience, str) else set(audience) if isinstance(audience, list) else set()
            if not given & self.audiences:
                return None
        return body

    def _remember(self, key: bytes, claims: dict[str, Any] | None, now: float) -> None:
        if claims is None:
            until = now + _INACTIVE_SECONDS
        else:
            until = now + self.cache_seconds
            exp = claims.get("exp")
            if isinstance(exp, int | float):
                until = min(until, float(exp))
        self._cache.put(key, claims, until)
