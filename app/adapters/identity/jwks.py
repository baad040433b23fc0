"""JwksCache: the authority's signing keys by ``kid``, refreshed on expiry or on an unknown ``kid``.

A flood of tokens naming unknown key ids must not turn into a flood of JWKS requests: a refresh
caused by an unknown ``kid`` happens at most once per ``min_refresh_seconds`` (single flight).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey

from app.adapters.identity.fetch import authority_json
from app.errors import ServiceUnavailable, Unauthenticated

__all__ = ("JwksCache", "VerificationKey")

VerificationKey = RSAKey | ECKey | OKPKey


class JwksCache:
    """Public keys of the token authority; ``key(kid)`` is what the verifier asks for."""

    __slots__ = (
        "_fetched_at",
        "_http",
        "_jwks_url",
        "_keys",
        "_last_forced",
        "_lock",
        "cache_seconds",
        "fetches",
        "min_refresh_seconds",
    )

    def __init__(
        self,
        http: httpx.AsyncClient,
        jwks_url: Callable[[], Awaitable[str]],
        *,
        cache_seconds: float = 600.0,
        min_refresh_seconds: float = 10.0,
    ) -> None:
        self._http = http
        self._jwks_url = jwks_url
        self.cache_seconds = cache_seconds
        self.min_refresh_seconds = min_refresh_seconds
        self._keys: dict[str | None, VerificationKey] | None = None
        self._fetched_at = 0.0
        self._last_forced = float("-inf")
        self._lock = asyncio.Lock()
        self.fetches = 0
        """How many times the JWKS was downloaded (observable by tests and metrics)."""

    async def key(self, kid: str | None) -> VerificationKey:
        """The verification key named ``kid`` (a token without ``kid`` needs a one-key set).

        Raises:
            Unauthenticated: no such key, even after a permitted refresh.
            ServiceUnavailable: the key set was never loaded and cannot be loaded now.
        """
        keys = await self._current()
        found = _pick(keys, kid)
        if found is not None:
            return found
        now = time.monotonic()
        if now - self._last_forced >= self.min_refresh_seconds:
            async with self._lock:
                # Another request may have refreshed while this one waited for the lock.
                if time.monotonic() - self._last_forced >= self.min_refresh_seconds:
                    self._last_forced = time.monotonic()
                    await self._load()
            keys = self._keys or {}
            found = _pick(keys, kid)
            if found is not None:
                return found
        shown = "no kid" if kid is None else f"kid {kid!r}"
        msg = f"token signed with an unknown key ({shown})"
        raise Unauthenticated(msg)

    async def _current(self) -> dict[str | None, VerificationKey]:
        if self._keys is not None and time.monotonic() - self._fetched_at < self.cache_seconds:
            return self._keys
        async with self._lock:
            if self._keys is None or time.monotonic() - self._fetched_at >= self.cache_seconds:
                try:
                    await self._load()
                except ServiceUnavailable:
                    if self._keys is None:
                        raise
                    self._fetched_at = time.monotonic() - self.cache_seconds + 30.0
        assert self._keys is not None
        return self._keys

    async def _load(self) -> None:
        url = await self._jwks_url()
        self.fetches += 1
        document = await authority_json(self._http, "signing keys", url)
        if not isinstance(document.get("keys"), list):
            msg = f"signing keys at {url} are not a JWK set"
            raise ServiceUnavailable(msg)
        self._keys = _import(document["keys"])
        self._fetched_at = time.monotonic()


def _import(entries: list[Any]) -> dict[str | None, VerificationKey]:
    keys: dict[str | None, VerificationKey] = {}
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        kty = entry.get("kty")
        if kty not in {"RSA", "EC", "OKP"}:
            continue
        public = {k: v for k, v in entry.items() if k not in {"d", "p", "q", "dp", "dq", "qi", "k"}}
        try:
            key: VerificationKey = (
                RSAKey.import_key(public)
                if kty == "RSA"
                else ECKey.import_key(public)
                if kty == "EC"
                else OKPKey.import_key(public)
            )
        except (JoseError, ValueError, TypeError):
            continue  # one malformed key must not take the others down
        keys[entry.get("kid") if isinstance(entry.get("kid"), str) else None] = key
    return keys


def _pick(keys: dict[str | None, VerificationKey], kid: str | None) -> VerificationKey | None:
    if kid is not None:
        return keys.get(kid)
    return next(iter(keys.values())) if len(keys) == 1 else None
