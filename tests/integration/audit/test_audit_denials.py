"""Refusals are audited as ``denied``: a caller using a server it may not, a non-admin changing the registry."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.identity_provider import IdentityProvider, bearer
from tests.integration.conftest import entry
from tests.mcp_backends import Backend

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def test_denials_are_recorded_with_the_caller(
    idp: IdentityProvider, secured: Any, backends: Callable[..., Backend], tmp_path: Path
) -> None:
    vault = backends("vault-logs", kind="stateless")
    user = bearer(idp.mint())  # no access to vault-logs, not an admin
    async with secured({"vault-logs": entry(vault, access={"scopes": ["secret:read"]})}) as client:
        invoke = await client.post(
            "/mcp/invoke",
            params={"mcp_server": "vault-logs"},
            json={"tool_name": "echo", "parameters": {"text": "x", "password": "pw"}},
            headers=user,
        )
        register = await client.post("/mcp/servers", json={"name": "x", "url": vault.url}, headers=user)
        audit = await client.get("/audit", headers=user)
    assert (invoke.status_code, register.status_code, audit.status_code) == (403, 403, 403)
    events = [json.loads(line) for line in (tmp_path / "audit.json").read_text().splitlines()]
    denied = [e for e in events if e["status"] == "denied"]
    assert [(e["action"], e["response_status"]) for e in denied] == [
        ("invoke_tool", 403),
        ("authorize", 403),
        ("authorize", 403),
    ]
    assert {e["user"] for e in denied} == {"testuser@example.com"}
    assert denied[0]["mcp_server"] == "vault-logs"
    assert denied[0]["parameters"] == {"text": "x", "password": "[REDACTED]"}
    assert denied[0]["level"] == "WARNING"
    assert denied[1]["event_type"] == "auth"
    assert denied[1]["parameters"] == {"method": "POST", "path": "/mcp/servers"}
    assert all("Bearer" not in line for line in (tmp_path / "audit.json").read_text().splitlines())
