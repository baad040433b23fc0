"""End to end against a real certified OpenID provider (``oidc-provider`` from npm, run with node).

Agents get tokens with the client-credentials grant: opaque ones, which the gateway checks by RFC 7662
introspection with its own client, and JWT ones, which it verifies against the provider's JWKS. The
official MCP SDK client carries the token to ``/mcp``. ``.ci/run`` installs the package and sets
``OIDC_PROVIDER_MODULE`` to its ``lib/index.js``; elsewhere the test is skipped unless ``CI`` is set.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from tests.mcp_backends import start_backend

pytestmark = pytest.mark.slow

SCRIPT = Path(__file__).with_name("oidc_provider.mjs")
RESOURCE = "http://localhost:8000/mcp"


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    module, node = os.environ.get("OIDC_PROVIDER_MODULE"), shutil.which("node")
    if not module or not node or not Path(module).is_file():
        message = "oidc-provider not installed (set OIDC_PROVIDER_MODULE to its lib/index.js; .ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    process = subprocess.Popen(
        [node, str(SCRIPT), module],
        env={**os.environ, "RESOURCE": RESOURCE},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("ready "):
            pytest.fail(f"oidc-provider did not start: {line!r}")
        yield line.split()[1]
    finally:
        process.terminate()
        process.wait(timeout=10)


def _token(issuer: str, client_id: str) -> str:
    response = httpx.post(
        f"{issuer}/token",
        data={"grant_type": "client_credentials", "scope": "logs:read", "resource": RESOURCE},
        auth=(client_id, "agent-secret"),
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


@pytest.fixture
def secured_gateway(
    issuer: str, serve_gateway: Callable[..., str], gateway_env: dict[str, str], tmp_path: Path
) -> Iterator[str]:
    with start_backend("logs", kind="stateless") as backend:
        servers = f"servers:\n  logs:\n    url: {backend.url}\n    access:\n      scopes: [logs:read]\n"
        (tmp_path / "mcp_servers.yaml").write_text(servers)
        gateway_env.update(
            {
                "AUTH_ENABLED": "true",
                "MCP_AUTH_ENABLED": "true",
                "OIDC_ISSUER": issuer,
                "MCP_OAUTH_CLIENT_ID": "tes-mcp-client",
                "MCP_OAUTH_CLIENT_SECRET": "tes-secret",
                "MCP_RESOURCE_SERVER_URL": RESOURCE,
            }
        )
        yield serve_gateway()


@pytest.mark.parametrize("client_id", ["opaque-agent", "jwt-agent"])
async def test_sdk_client_with_provider_token_lists_and_calls(
    issuer: str, secured_gateway: str, client_id: str
) -> None:
    token = _token(issuer, client_id)
    assert (token.count(".") == 2) == (client_id == "jwt-agent")
    http_client = create_mcp_http_client(headers={"Authorization": f"Bearer {token}"})
    async with http_client, Client(streamable_http_client(f"{secured_gateway}/mcp", http_client=http_client)) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        assert {"echo", "search_logs"} <= tools
        result = await client.call_tool("echo", {"text": "authenticated"})
    assert result.content[0].text == "authenticated"


def test_rest_call_with_provider_tokens_and_refusals(issuer: str, secured_gateway: str) -> None:
    body = {"tool_name": "echo", "parameters": {"text": "hi"}}
    url = f"{secured_gateway}/mcp/invoke?mcp_server=logs"
    for client_id in ("opaque-agent", "jwt-agent"):
        headers = {"Authorization": f"Bearer {_token(issuer, client_id)}"}
        response = httpx.post(url, json=body, headers=headers)
        assert response.status_code == 200, response.text
    refused = httpx.post(url, json=body, headers={"Authorization": "Bearer not-a-token-the-provider-issued"})
    assert refused.status_code == 401
    assert refused.json()["detail"] == "token is not active"
    metadata = httpx.get(f"{secured_gateway}/.well-known/oauth-protected-resource/mcp").json()
    assert metadata["authorization_servers"] == [issuer]
    assert httpx.get(f"{secured_gateway}/.well-known/oauth-authorization-server").json()["issuer"] == issuer
