"""OutboundAuth: a backend's ``auth`` config → what to add to each request sent to it.

Every method, location and format, as the servers file describes them. ``location: body`` puts the
credential into the JSON-RPC request's ``params._meta`` object: the one place of an MCP request
where every compliant server accepts (and ignores, if it does not need them) unknown keys.
The agent's own token is never involved: this module only produces the backend's credential.
"""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Protocol

import httpx
import msgspec

from app.adapters.credentials import CredentialStore
from app.errors import CredentialUnavailable

__all__ = ("AuthSpec", "Injection", "OutboundAuth")

_DEFAULT_TOKEN_SECONDS = 300.0


class AuthSpec(Protocol):
    """The ``auth`` block of a server (the registry's ``AuthConfig`` satisfies it)."""

    @property
    def method(self) -> str: ...
    @property
    def location(self) -> str: ...
    @property
    def name(self) -> str | None: ...
    @property
    def format(self) -> str | None: ...
    @property
    def prefix(self) -> str | None: ...
    @property
    def template(self) -> str | None: ...
    @property
    def credential_ref(self) -> str | None: ...
    @property
    def token_url(self) -> str | None: ...
    @property
    def resource(self) -> str | None: ...
    @property
    def client_id(self) -> str | None: ...
    @property
    def scope(self) -> str | None: ...
    @property
    def username(self) -> str | None: ...


class Injection(msgspec.Struct, frozen=True):
    """What to add to one backend request."""

    headers: dict[str, str] = msgspec.field(default_factory=dict)
    query: dict[str, str] = msgspec.field(default_factory=dict)
    meta: dict[str, str] = msgspec.field(default_factory=dict)
    """Entries for the JSON-RPC ``params._meta`` object (``location: body``)."""


_EMPTY = Injection()


class _Token(msgspec.Struct):
    value: str
    refresh_at: float


class OutboundAuth:
    """Builds injections; caches OAuth2 client-credentials tokens until shortly before they expire."""

    __slots__ = ("_credentials", "_http", "_locks", "_tokens")

    def __init__(self, http: httpx.AsyncClient, credentials: CredentialStore) -> None:
        self._http = http
        self._credentials = credentials
        self._tokens: dict[tuple[str, str, str, str, str], _Token] = {}
        self._locks: dict[tuple[str, str, str, str, str], asyncio.Lock] = {}

    async def injection(self, server: str, auth: AuthSpec | None, url: str = "") -> Injection:
        """What ``server``'s requests must carry (``url``: the server's, the default OAuth2 ``resource``).

        Raises:
            CredentialUnavailable: the credential cannot be resolved (or the token endpoint refused).
        """
        if auth is None or auth.method == "none" or auth.credential_ref is None:
            return _EMPTY
        value = await self._value(server, auth, auth.credential_ref, url)
        name = auth.name or ("X-API-Key" if auth.method == "api_key" else "Authorization")
        if auth.location == "query":
            return Injection(query={name: value})
        if auth.location == "body":
            return Injection(meta={name: value})
        return Injection(headers={name: value})

    def invalidate(self, server: str) -> None:
        """Forget ``server``'s OAuth2 tokens (e.g. after the backend answered 401)."""
        for key in [k for k in self._tokens if k[0] == server]:
            del self._tokens[key]

    async def _value(self, server: str, auth: AuthSpec, ref: str, url: str = "") -> str:
        secret = await self._credentials.resolve(ref)
        if auth.method == "oauth2":
            secret = await self._access_token(server, auth, ref, secret, url)
        elif auth.method == "basic":
            secret = _basic(ref, auth.username, secret)
        form = auth.format or ("prefix" if auth.method in {"bearer", "basic", "oauth2"} else "raw")
        if form == "prefix":
            prefix = auth.prefix
            if prefix is None:
                prefix = "Basic " if auth.method == "basic" else "Bearer "
            return prefix + secret
        if form == "template":
            return (auth.template or "{credential}").replace("{credential}", secret)
        return secret

    async def _access_token(self, server: str, auth: AuthSpec, ref: str, client_secret: str, url: str = "") -> str:
        resource = auth.resource if auth.resource is not None else url
        key = (server, auth.token_url or "", auth.client_id or "", auth.scope or "", resource)
        token = self._tokens.get(key)
        if token is not None and time.monotonic() < token.refresh_at:
            return token.value
        async with self._locks.setdefault(key, asyncio.Lock()):
            token = self._tokens.get(key)
            if token is not None and time.monotonic() < token.refresh_at:
                return token.value
            token = await self._fetch_token(auth, ref, client_secret, resource)
            self._tokens[key] = token
            return token.value

    async def _fetch_token(self, auth: AuthSpec, ref: str, client_secret: str, resource: str) -> _Token:
        form = {"grant_type": "client_credentials"}
        if auth.scope:
            form["scope"] = auth.scope
        if resource:
            form["resource"] = resource  # RFC 8707: a token for this backend only
        try:
            response = await self._http.post(
                auth.token_url or "", data=form, auth=httpx.BasicAuth(auth.client_id or "", client_secret)
            )
        except httpx.HTTPError as exc:
            raise CredentialUnavailable(ref, f"token endpoint unreachable ({type(exc).__name__})") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            error = body.get("error") if isinstance(body, dict) else None
            detail = f", error={error}" if isinstance(error, str) else ""
            raise CredentialUnavailable(ref, f"token endpoint answered HTTP {response.status_code}{detail}")
        lifetime = body.get("expires_in")
        seconds = float(lifetime) if isinstance(lifetime, (int, float)) and lifetime > 0 else _DEFAULT_TOKEN_SECONDS
        margin = min(60.0, seconds * 0.1)
        return _Token(value=body["access_token"], refresh_at=time.monotonic() + seconds - margin)


def _basic(ref: str, username: str | None, secret: str) -> str:
    if username is None:
        if ":" not in secret:
            raise CredentialUnavailable(ref, "basic auth without a username needs a 'user:password' credential")
        pair = secret
    else:
        pair = f"{username}:{secret}"
    return base64.b64encode(pair.encode("utf-8")).decode("ascii")
