"""A token authority shaped like a Keycloak realm, served on 127.0.0.1 for the authentication tests.

It publishes ``/realms/<realm>/.well-known/openid-configuration``, the realm's JWKS at
``…/protocol/openid-connect/certs`` and RFC 7662 introspection at ``…/token/introspect`` (client
secret basic). Keys are real RS256 / ES256 keys generated per provider; ``mint()`` signs tokens with
them (or with anything a forged-token test needs), ``issue_opaque()`` registers an opaque token.
"""

from __future__ import annotations

import base64
import contextlib
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from litestar import Litestar, Request, Response, get, post

from tests.servers import serve_asgi

__all__ = ("AUDIENCE", "INTROSPECTION_CLIENT", "IdentityProvider", "bearer", "run_identity_provider")

REALM = "mcp-gateway"
AUDIENCE = "http://localhost:8000/mcp"
INTROSPECTION_CLIENT = ("tes-mcp-client", "tes-secret")


@dataclass
class IdentityProvider:
    rsa: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "rsa-1"}))
    ec: ECKey = field(default_factory=lambda: ECKey.generate_key("P-256", parameters={"kid": "ec-1"}))
    published: list[RSAKey | ECKey] = field(default_factory=list)
    opaque: dict[str, dict[str, Any]] = field(default_factory=dict)
    jwks_fetches: int = 0
    introspections: int = 0
    base_url: str = ""
    public_issuer: str = ""
    """When set, the ``iss`` the provider states (reached under ``base_url``, named differently: a proxy)."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.published = [self.rsa, self.ec]

    @property
    def issuer(self) -> str:
        return self.public_issuer or f"{self.base_url}/realms/{REALM}"

    def claims(self, **overrides: Any) -> dict[str, Any]:
        """Valid access-token claims for the test user; keyword arguments replace or (value None) drop claims."""
        now = int(time.time())
        base: dict[str, Any] = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": "user-1",
            "azp": "mcp-gateway-client",
            "preferred_username": "testuser",
            "email": "testuser@example.com",
            "iat": now,
            "exp": now + 300,
            "scope": "openid logs:read",
            "realm_access": {"roles": ["mcp-user"]},
            "groups": ["/sre"],
        }
        base.update(overrides)
        return {k: v for k, v in base.items() if v is not None}

    def mint(self, key: RSAKey | ECKey | None = None, alg: str = "RS256", **overrides: Any) -> str:
        """A token signed with ``key`` (default: the published RSA key)."""
        key = key or (self.ec if alg.startswith("ES") else self.rsa)
        header = {"alg": alg, "typ": "JWT", "kid": key.kid}
        return jwt.encode(header, self.claims(**overrides), key, algorithms=[alg])

    def issue_opaque(self, **claims: Any) -> str:
        token = secrets.token_urlsafe(24)
        self.opaque[token] = {"active": True, "client_id": "tes-mcp-client", **self.claims(**claims)}
        return token

    def app(self) -> Litestar:
        provider = self
        prefix = f"/realms/{REALM}"

        @get(f"{prefix}/.well-known/openid-configuration")
        async def discovery() -> dict[str, Any]:
            # Back-channel endpoints under the address the gateway reached, as Keycloak does with dynamic backchannel.
            base = f"{provider.base_url}{prefix}/protocol/openid-connect"
            return {
                "issuer": provider.issuer,
                "authorization_endpoint": f"{base}/auth",
                "token_endpoint": f"{base}/token",
                "introspection_endpoint": f"{base}/token/introspect",
                "jwks_uri": f"{base}/certs",
                "grant_types_supported": ["authorization_code", "client_credentials", "password"],
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"],
                "id_token_signing_alg_values_supported": ["RS256", "ES256"],
                "subject_types_supported": ["public"],
            }

        @get(f"{prefix}/protocol/openid-connect/certs")
        async def certs() -> dict[str, Any]:
            with provider._lock:
                provider.jwks_fetches += 1
                keys = [{**k.as_dict(private=False), "use": "sig", "alg": _alg(k)} for k in provider.published]
            return {"keys": keys}

        @post(f"{prefix}/protocol/openid-connect/token/introspect", status_code=200)
        async def introspect(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
            expected = "Basic " + base64.b64encode(":".join(INTROSPECTION_CLIENT).encode()).decode()
            if request.headers.get("authorization") != expected:
                return Response({"error": "invalid_client"}, status_code=401)
            form = await request.form()
            with provider._lock:
                provider.introspections += 1
            claims = provider.opaque.get(str(form.get("token")))
            if claims is None or claims.get("exp", 0) < time.time():
                return Response({"active": False})
            return Response(claims)

        return Litestar([discovery, certs, introspect])


def _alg(key: RSAKey | ECKey) -> str:
    return "RS256" if isinstance(key, RSAKey) else "ES256"


@contextlib.contextmanager
def run_identity_provider() -> Iterator[IdentityProvider]:
    provider = IdentityProvider()
    with serve_asgi(provider.app()) as url:
        provider.base_url = url
        yield provider


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
