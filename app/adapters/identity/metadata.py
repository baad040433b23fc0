"""IssuerMetadata: the token authority's discovery document (OpenID Connect / RFC 8414), cached."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from app.adapters.identity.fetch import authority_json
from app.errors import ServiceUnavailable

__all__ = ("IssuerMetadata",)


class IssuerMetadata:
    """Fetches the issuer's discovery document once per ``cache_seconds`` (stale copy kept on failure).

    ``url`` defaults to ``<issuer>/.well-known/openid-configuration``; the document must name ``issuer``.
    """

    __slots__ = ("_cached", "_fetched_at", "_http", "_lock", "cache_seconds", "issuer", "url")

    def __init__(self, http: httpx.AsyncClient, issuer: str, *, url: str = "", cache_seconds: float = 3600.0) -> None:
        self._http = http
        self.issuer = issuer.rstrip("/")
        self.url = url or f"{self.issuer}/.well-known/openid-configuration"
        self.cache_seconds = cache_seconds
        self._cached: dict[str, Any] | None = None
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()

    async def document(self) -> dict[str, Any]:
        """The discovery document.

        Raises:
            ServiceUnavailable: it was never fetched and cannot be fetched now.
        """
        if self._cached is not None and time.monotonic() - self._fetched_at < self.cache_seconds:
            return self._cached
        async with self._lock:
            if self._cached is not None and time.monotonic() - self._fetched_at < self.cache_seconds:
                return self._cached
            try:
                self._cached = await self._fetch()
                self._fetched_at = time.monotonic()
            except ServiceUnavailable:
                if self._cached is None:
                    raise
                # Keep serving the last good copy; try again after a short pause, not on every request.
                self._fetched_at = time.monotonic() - self.cache_seconds + 30.0
            return self._cached

    async def endpoint(self, name: str) -> str:
        """One endpoint URL of the document, e.g. ``jwks_uri`` or ``introspection_endpoint``.

        Raises:
            ServiceUnavailable: the document cannot be fetched or does not name that endpoint.
        """
        value = (await self.document()).get(name)
        if not isinstance(value, str) or not value:
            msg = f"the token authority's metadata ({self.url}) has no {name}"
            raise ServiceUnavailable(msg)
        return value

    async def _fetch(self) -> dict[str, Any]:
        document = await authority_json(self._http, "token authority metadata", self.url)
        if document.get("issuer") != self.issuer:
            named = document.get("issuer")
            msg = f"token authority metadata {self.url} names issuer {named!r}, expected {self.issuer!r}"
            raise ServiceUnavailable(msg)
        return document
