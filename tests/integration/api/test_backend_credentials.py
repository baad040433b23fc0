"""Each backend gets its own credential, injected as configured, read from every kind of reference.

What the backend actually received is checked on the real SDK backend's request log.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import VAULT_TOKEN, Gateway, TokenEndpoint, entry
from tests.mcp_backends import Backend, Recorded

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def header(name: str, value: str) -> Callable[[Recorded], bool]:
    return lambda r: r.headers.get(name.lower()) == value


def query(name: str, value: str) -> Callable[[Recorded], bool]:
    return lambda r: r.query.get(name) == value


def meta(name: str, value: str) -> Callable[[Recorded], bool]:
    return lambda r: ((r.json() or {}).get("params") or {}).get("_meta", {}).get(name) == value


BASIC = "Basic " + base64.b64encode(b"svc:pw-MULTI").decode()
ENV_REF = {"credential_ref": "env://BACKEND_TOKEN"}
CASES: list[tuple[str, dict[str, Any], Callable[[Recorded], bool]]] = [
    ("bearer-env", {"method": "bearer", **ENV_REF}, header("Authorization", "Bearer env-SECRET")),
    (
        "api-key-header-raw",
        {"method": "api_key", "location": "header", "name": "X-API-Key", "format": "raw", **ENV_REF},
        header("X-API-Key", "env-SECRET"),
    ),
    (
        "api-key-query",
        {"method": "api_key", "location": "query", "name": "api_key", **ENV_REF},
        query("api_key", "env-SECRET"),
    ),
    (
        "custom-body-template",
        {"method": "custom", "location": "body", "name": "auth", "format": "template", "template": "key={credential}"}
        | ENV_REF,
        meta("auth", "key=env-SECRET"),
    ),
    (
        "prefix-file",
        {
            "method": "api_key",
            "name": "Authorization",
            "format": "prefix",
            "prefix": "ApiKey ",
            "credential_ref": "FILE",
        },
        header("Authorization", "ApiKey file-SECRET"),
    ),
    (
        "bearer-vault",
        {"method": "bearer", "credential_ref": "vault://secret/mcp/figma#token"},
        header("Authorization", "Bearer figd_FIGMA_SECRET"),
    ),
    (
        "basic-vault-username",
        {"method": "basic", "username": "svc", "credential_ref": "vault://secret/mcp/multi#password"},
        header("Authorization", BASIC),
    ),
    (
        "oauth2-client-credentials",
        {"method": "oauth2", "token_url": "TOKEN_URL", "client_id": "gateway", "credential_ref": "env://CLIENT_SECRET"},
        lambda r: r.headers.get("authorization", "").startswith("Bearer access-"),
    ),
]


@pytest.mark.parametrize(("case", "auth", "received"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("kind", ["dual", "legacy", "sse"])
async def test_backend_receives_its_credential(
    backends: Callable[..., Backend],
    gateway: Gateway,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    vault_url: str,
    token_endpoint: tuple[TokenEndpoint, str],
    case: str,
    auth: dict[str, Any],
    received: Callable[[Recorded], bool],
    kind: str,
) -> None:
    secret_file = tmp_path / "backend.token"
    secret_file.write_text("file-SECRET\n")
    monkeypatch.setenv("BACKEND_TOKEN", "env-SECRET")
    monkeypatch.setenv("CLIENT_SECRET", token_endpoint[0].client_secret)
    placeholders = {"FILE": f"file://{secret_file}", "TOKEN_URL": token_endpoint[1]}
    auth = {key: placeholders.get(value, value) for key, value in auth.items()}
    backend = backends("alpha", kind=kind)
    async with gateway({"alpha": entry(backend, auth=auth)}, vault_addr=vault_url, vault_token=VAULT_TOKEN) as client:
        response = await client.post(
            "/mcp/invoke",
            params={"mcp_server": "alpha"},
            json={"tool_name": "echo", "parameters": {"text": "x"}},
            headers={"Authorization": "Bearer the-agents-own-token"},
        )
    assert response.status_code == 200, response.text
    # A POST cut short at shutdown (a cancel notice in flight) carries no body and nothing to check.
    posts = [r for r in backend.requests if r.method == "POST" and r.body]
    assert posts
    assert all(received(r) for r in posts), f"{case}: {[(r.headers, r.body) for r in posts if not received(r)]}"
    assert not any("the-agents-own-token" in str(r.headers) + r.body.decode() for r in backend.requests)


async def test_oauth2_tokens_are_requested_for_the_backend_resource(
    backends: Callable[..., Backend],
    gateway: Gateway,
    monkeypatch: pytest.MonkeyPatch,
    token_endpoint: tuple[TokenEndpoint, str],
) -> None:
    endpoint, url = token_endpoint
    monkeypatch.setenv("CLIENT_SECRET", endpoint.client_secret)
    oauth = {"method": "oauth2", "token_url": url, "client_id": "gateway", "credential_ref": "env://CLIENT_SECRET"}
    default = backends("default-resource", kind="stateless")
    explicit = backends("explicit-resource", kind="stateless")
    none = backends("no-resource", kind="stateless")
    servers = {
        "default-resource": entry(default, auth=oauth),
        "explicit-resource": entry(explicit, auth={**oauth, "resource": "https://api.example.com"}),
        "no-resource": entry(none, auth={**oauth, "resource": ""}),
    }
    already = len(endpoint.requests)  # the endpoint is shared by the module's tests
    async with gateway(servers) as client:
        for name in servers:
            answer = await client.post(
                "/mcp/invoke", params={"mcp_server": name}, json={"tool_name": "echo", "parameters": {"text": "x"}}
            )
            assert answer.status_code == 200, answer.text
    resources = {form.get("resource") for form in endpoint.requests[already:]}
    assert resources == {default.url, "https://api.example.com", None}
