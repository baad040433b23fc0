"""Every forged, stale or misdirected credential is refused with 401 and never reaches a backend."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from joserfc.jwk import RSAKey

from tests.identity_provider import IdentityProvider
from tests.mcp_backends import Backend

Forgery = Callable[[IdentityProvider], dict[str, str]]


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _header(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _unsigned(idp: IdentityProvider) -> dict[str, str]:
    return _header(f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(idp.claims())}.")


def _hs256_with_public_key(idp: IdentityProvider) -> dict[str, str]:
    # The classic RS/HS confusion: the RSA *public* key (PEM) used as an HMAC secret. joserfc refuses to
    # build such a token, so it is signed by hand here.
    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': idp.rsa.kid})}.{_b64(idp.claims())}"
    digest = hmac.new(idp.rsa.as_pem(private=False), signing_input.encode(), hashlib.sha256).digest()
    return _header(f"{signing_input}.{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}")


def _foreign_key(kid: str) -> Forgery:
    def forge(idp: IdentityProvider) -> dict[str, str]:
        stranger = RSAKey.generate_key(2048, parameters={"kid": kid})
        return _header(idp.mint(stranger))

    return forge


def _tampered(idp: IdentityProvider) -> dict[str, str]:
    header, _, signature = idp.mint().split(".")
    payload = _b64(idp.claims(realm_access={"roles": ["mcp-admin"]}))
    return _header(f"{header}.{payload}.{signature}")


def _claims(**overrides: Any) -> Forgery:
    return lambda idp: _header(idp.mint(**overrides))


def _mismatched_key_type(idp: IdentityProvider) -> dict[str, str]:
    # ES256 in the header, but the kid names the RSA key: refused before any signature check.
    token = idp.mint(idp.ec, alg="ES256")
    header, rest = token.split(".", 1)
    decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    decoded["kid"] = idp.rsa.kid
    return _header(f"{_b64(decoded)}.{rest}")


NOW = int(time.time())
FORGERIES: dict[str, tuple[Forgery, str]] = {
    # case: (how the credential is forged, what the 401 must say)
    "missing header": (lambda idp: {}, "needs an 'Authorization: Bearer <token>' header"),
    "basic scheme": (lambda idp: {"Authorization": "Basic dXNlcjpwYXNz"}, "must use the Bearer scheme"),
    "empty bearer": (lambda idp: {"Authorization": "Bearer "}, "must use the Bearer scheme"),
    "not a jwt": (lambda idp: _header("just-some-opaque-string"), "not a compact JWS"),
    "garbage segments": (lambda idp: _header("a.b.c"), "header is not base64url-encoded JSON"),
    "alg none": (_unsigned, "algorithm 'none' is not accepted"),
    "hs256 with rsa public key": (_hs256_with_public_key, "algorithm 'HS256' is not accepted"),
    "unknown kid": (_foreign_key("rsa-unknown"), "unknown key (kid 'rsa-unknown')"),
    "known kid, foreign key": (_foreign_key("rsa-1"), "signature is invalid"),
    "tampered payload": (_tampered, "signature is invalid"),
    "alg not configured (RS384)": (lambda idp: _header(idp.mint(alg="RS384")), "algorithm 'RS384' is not accepted"),
    "key type mismatch": (_mismatched_key_type, "does not match its key's type"),
    "wrong issuer": (_claims(iss="https://evil.example/realms/mcp-gateway"), "is not the trusted issuer"),
    "wrong audience": (_claims(aud="https://other-service.example"), "does not include this gateway"),
    "no audience": (_claims(aud=None), "does not include this gateway"),
    "expired": (_claims(exp=NOW - 3600, iat=NOW - 7200), "has expired"),
    "not yet valid": (_claims(nbf=NOW + 3600), "not valid yet"),
    "issued in the future": (_claims(iat=NOW + 3600), "issued in the future"),
    "no expiry": (_claims(exp=None), "no valid 'exp' claim"),
    "token in query string only": (lambda idp: {}, "needs an 'Authorization: Bearer <token>' header"),
}


@pytest.mark.parametrize("case", list(FORGERIES))
async def test_forged_token_is_refused_before_any_backend_call(
    case: str, idp: IdentityProvider, secured: Any, backends: Callable[..., Backend]
) -> None:
    backend = backends("alpha", kind="stateless")
    forge, reason = FORGERIES[case]
    headers = forge(idp)
    query = {"mcp_server": "alpha"}
    if case == "token in query string only":
        query["access_token"] = idp.mint()
    async with secured({"alpha": {"url": backend.url}}) as client:
        response = await client.post(
            "/mcp/invoke", params=query, json={"tool_name": "echo", "parameters": {"text": "hi"}}, headers=headers
        )
        listing = await client.get("/tools", headers=headers)
    assert response.status_code == 401, response.text
    assert reason in response.json()["detail"]
    assert listing.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'resource_metadata="http://localhost:8000/.well-known/oauth-protected-resource"' in challenge
    if headers.get("Authorization", "").startswith("Bearer ") and headers["Authorization"].strip() != "Bearer":
        assert 'error="invalid_token"' in challenge
    assert response.headers["content-type"].startswith("application/problem+json")
    # The catalog lists tools on its own schedule; what matters is that no call was made for this caller.
    assert backend.calls("tools/call") == []


async def test_valid_token_reaches_the_backend(
    idp: IdentityProvider, secured: Any, backends: Callable[..., Backend]
) -> None:
    backend = backends("alpha", kind="stateless")
    async with secured({"alpha": {"url": backend.url}}) as client:
        for token in (idp.mint(), idp.mint(alg="ES256")):
            response = await client.post(
                "/mcp/invoke",
                params={"mcp_server": "alpha"},
                json={"tool_name": "echo", "parameters": {"text": "hi"}},
                headers=_header(token),
            )
            assert response.status_code == 200, response.text
            assert response.json()["success"] is True
    calls = backend.calls("tools/call")
    assert len(calls) == 2
    # The agent's token is never forwarded to a backend.
    assert all("authorization" not in call.headers for call in calls)
