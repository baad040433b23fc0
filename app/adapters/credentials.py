"""CredentialStore: resolve ``credential_ref`` values (``env://``, ``file://``, ``vault://``) to secrets.

Errors name the reference and the reason, never a secret. Resolved values are cached for a short,
configurable time so a hot path never reads a file or calls Vault per request, while rotation still
shows up within that delay.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote

import anyio
import httpx

from app.errors import CredentialUnavailable

__all__ = ("CredentialStore",)


class CredentialStore:
    """Looks up secrets by reference; safe for concurrent use (one lookup per ref at a time)."""

    __slots__ = (
        "_cache",
        "_cache_seconds",
        "_environ",
        "_http",
        "_locks",
        "_vault_addr",
        "_vault_namespace",
        "_vault_token",
    )

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        environ: Mapping[str, str] | None = None,
        vault_addr: str = "",
        vault_token: str = "",
        vault_namespace: str = "",
        cache_seconds: float = 60.0,
    ) -> None:
        self._http = http
        self._environ = os.environ if environ is None else environ
        self._vault_addr = vault_addr.rstrip("/")
        self._vault_token = vault_token
        self._vault_namespace = vault_namespace
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[str, float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def resolve(self, ref: str) -> str:
        """The secret ``ref`` names.

        Raises:
            CredentialUnavailable: unknown scheme, missing variable/file/secret, Vault unreachable.
        """
        cached = self._cache.get(ref)
        if cached is not None and time.monotonic() < cached[1]:
            return cached[0]
        lock = self._locks.setdefault(ref, asyncio.Lock())
        async with lock:
            cached = self._cache.get(ref)
            if cached is not None and time.monotonic() < cached[1]:
                return cached[0]
            value = await self._lookup(ref)
            if self._cache_seconds > 0:
                self._cache[ref] = (value, time.monotonic() + self._cache_seconds)
            return value

    def invalidate(self, ref: str | None = None) -> None:
        """Forget one cached secret (or all), e.g. after a backend rejected it."""
        if ref is None:
            self._cache.clear()
        else:
            self._cache.pop(ref, None)

    async def _lookup(self, ref: str) -> str:
        scheme, sep, rest = ref.partition("://")
        if not sep:
            raise CredentialUnavailable(ref, "not a reference (use env://VAR, file:///path or vault://path)")
        if scheme == "env":
            return self._from_env(ref, rest)
        if scheme == "file":
            return await self._from_file(ref, rest)
        if scheme == "vault":
            return await self._from_vault(ref, rest)
        raise CredentialUnavailable(ref, f"unknown scheme '{scheme}' (use env://, file:// or vault://)")

    def _from_env(self, ref: str, name: str) -> str:
        value = self._environ.get(name)
        if not value:
            raise CredentialUnavailable(ref, f"environment variable {name} is not set")
        return value

    async def _from_file(self, ref: str, path: str) -> str:
        file = Path(path)
        if not file.is_absolute():
            raise CredentialUnavailable(ref, "file references need an absolute path (file:///path)")
        try:
            text = await anyio.to_thread.run_sync(file.read_text, "utf-8")
        except FileNotFoundError:
            raise CredentialUnavailable(ref, "file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise CredentialUnavailable(ref, f"file cannot be read ({type(exc).__name__})") from None
        first_line = text.splitlines()[0].strip() if text.strip() else ""
        if not first_line:
            raise CredentialUnavailable(ref, "the file's first line is empty")
        return first_line

    async def _from_vault(self, ref: str, location: str) -> str:
        if not self._vault_addr or not self._vault_token:
            raise CredentialUnavailable(ref, "VAULT_ADDR and VAULT_TOKEN must be set for vault:// references")
        path, _, field = location.partition("#")
        mount, _, secret = path.strip("/").partition("/")
        if not mount or not secret:
            raise CredentialUnavailable(ref, "use vault://<mount>/<path>[#field], e.g. vault://secret/mcp/figma#token")
        url = f"{self._vault_addr}/v1/{quote(mount)}/data/{quote(secret)}"
        headers = {"X-Vault-Token": self._vault_token}
        if self._vault_namespace:
            headers["X-Vault-Namespace"] = self._vault_namespace
        try:
            response = await self._http.get(url, headers=headers)
        except httpx.HTTPError as exc:
            raise CredentialUnavailable(ref, f"Vault unreachable ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise CredentialUnavailable(ref, f"Vault answered HTTP {response.status_code}")
        try:
            data = response.json()["data"]["data"]
        except (ValueError, KeyError, TypeError):
            raise CredentialUnavailable(ref, "Vault's answer is not a KV v2 secret") from None
        if not isinstance(data, dict) or not data:
            raise CredentialUnavailable(ref, "the secret has no fields")
        if not field:
            field = next(iter(data)) if len(data) == 1 else "value"
        value = data.get(field)
        if not isinstance(value, str) or not value:
            names = ", ".join(sorted(map(str, data)))
            raise CredentialUnavailable(ref, f"field '{field}' is missing or not text (fields: {names})")
        return value
