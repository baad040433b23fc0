"""JwtVerifier: a bearer JWT → its claims, or :class:`~app.errors.Unauthenticated` saying why.

Checks, in order: compact JWS shape, an accepted ``alg`` (``none`` and anything not configured are
refused before a key is looked up), a key of the right type for that ``alg`` (so an HS256 token
"signed" with the RSA public key can never verify), the signature, then ``iss``, ``aud``, ``exp``,
``nbf`` and ``iat`` with a small leeway.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Collection
from typing import Any

import msgspec
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey, RSAKey

from app.adapters.identity.algorithms import check_algorithms, looks_like_jwt
from app.adapters.identity.jwks import JwksCache
from app.adapters.identity.token_cache import MISSING, TokenCache
from app.errors import Unauthenticated

__all__ = ("JwtVerifier",)

_KEY_TYPES: dict[str, type[RSAKey | ECKey | OKPKey]] = {
    **{f"RS{bits}": RSAKey for bits in (256, 384, 512)},
    **{f"PS{bits}": RSAKey for bits in (256, 384, 512)},
    **{f"ES{bits}": ECKey for bits in (256, 384, 512)},
    "EdDSA": OKPKey,
}
"""The key type each of ``SUPPORTED_ALGORITHMS`` verifies with."""


class JwtVerifier:
    """Verifies tokens of one issuer for one set of audiences."""

    __slots__ = ("_algorithms", "_audiences", "_cache_seconds", "_issuer", "_keys", "_leeway", "_verified")

    def __init__(
        self,
        keys: JwksCache,
        *,
        issuer: str,
        audiences: Collection[str],
        algorithms: Collection[str] = ("RS256",),
        leeway_seconds: int = 30,
        cache_seconds: float = 60.0,
    ) -> None:
        """``cache_seconds``: how long a verified token's claims are reused (never past its ``exp``; 0: never)."""
        check_algorithms(algorithms)
        self._cache_seconds = cache_seconds
        self._verified = TokenCache()
        self._keys = keys
        self._issuer = issuer.rstrip("/")
        self._audiences = frozenset(audiences)
        self._algorithms = frozenset(algorithms)
        self._leeway = leeway_seconds

    async def verify(self, token: str) -> dict[str, Any]:
        """The verified claims of ``token``.

        Raises:
            Unauthenticated: malformed, wrong algorithm, unknown key, bad signature or a failed claim check.
            ServiceUnavailable: the signing keys cannot be loaded.
        """
        if self._cache_seconds <= 0:
            return await self._verify(token)
        key = TokenCache.key(token)
        claims = self._verified.get(key)
        if claims is MISSING:
            claims = await self._verify(token)
            self._verified.put(key, claims, min(time.time() + self._cache_seconds, claims["exp"] + self._leeway))
        return dict(claims)  # a copy: the cached claims stay as verified whatever the caller does

    async def _verify(self, token: str) -> dict[str, Any]:
        header = _header(token)
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self._algorithms:
            msg = f"token algorithm {alg!r} is not accepted (accepted: {', '.join(sorted(self._algorithms))})"
            raise Unauthenticated(msg)
        if "crit" in header:
            raise Unauthenticated("token uses critical header extensions the gateway does not understand")
        kid = header.get("kid")
        signing_key = await self._keys.key(kid if isinstance(kid, str) else None)
        if not isinstance(signing_key, _KEY_TYPES[alg]):
            msg = f"token algorithm {alg} does not match its key's type {signing_key.key_type}"
            raise Unauthenticated(msg)
        try:
            verified = jws.deserialize_compact(token, signing_key, algorithms=[alg])
        except JoseError:
            raise Unauthenticated("token signature is invalid") from None
        try:
            claims = msgspec.json.decode(verified.payload or b"")
        except msgspec.DecodeError:
            claims = None
        if not isinstance(claims, dict):
            raise Unauthenticated("token payload is not a JSON object")
        self._check_claims(claims)
        return claims

    def _check_claims(self, claims: dict[str, Any]) -> None:
        now = time.time()
        if claims.get("iss") != self._issuer:
            msg = f"token issuer {claims.get('iss')!r} is not the trusted issuer"
            raise Unauthenticated(msg)
        audience = claims.get("aud")
        audiences = {audience} if isinstance(audience, str) else set(audience) if isinstance(audience, list) else set()
        if not audiences & self._audiences:
            msg = f"token audience {audience!r} does not include this gateway ({', '.join(sorted(self._audiences))})"
            raise Unauthenticated(msg)
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            raise Unauthenticated("token has no valid 'exp' claim")
        if now > exp + self._leeway:
            raise Unauthenticated("token has expired")
        nbf = claims.get("nbf")
        if nbf is not None and (not _is_time(nbf) or now + self._leeway < nbf):
            raise Unauthenticated("token is not valid yet ('nbf' in the future)")
        iat = claims.get("iat")
        if iat is not None and (not _is_time(iat) or now + self._leeway < iat):
            raise Unauthenticated("token was issued in the future ('iat')")


def _header(token: str) -> dict[str, Any]:
    if not looks_like_jwt(token):
        raise Unauthenticated("token is not a compact JWS (three base64url parts)")
    encoded = token.split(".", 1)[0]
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        header = msgspec.json.decode(raw)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        header = None
    if not isinstance(header, dict):
        raise Unauthenticated("token header is not base64url-encoded JSON")
    return header


def _is_time(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
