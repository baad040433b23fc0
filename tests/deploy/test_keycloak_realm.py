"""The Keycloak realm export of the full stack: the clients, users, roles and token claims the gateway relies on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.settings import Settings

REALM_FILE = Path(__file__).resolve().parents[2] / "deploy" / "keycloak" / "mcp-gateway-realm.json"


@pytest.fixture(scope="module")
def realm() -> dict[str, Any]:
    return json.loads(REALM_FILE.read_text(encoding="utf-8"))


def _client(realm: dict[str, Any], client_id: str) -> dict[str, Any]:
    matches = [c for c in realm["clients"] if c["clientId"] == client_id]
    assert len(matches) == 1, f"client {client_id} must be defined exactly once"
    return matches[0]


def _user(realm: dict[str, Any], username: str) -> dict[str, Any]:
    matches = [u for u in realm["users"] if u["username"] == username]
    assert len(matches) == 1, f"user {username} must be defined exactly once"
    return matches[0]


def _mappers(client: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [m for m in client.get("protocolMappers", []) if m["protocolMapper"] == kind]


def _password(user: dict[str, Any]) -> str:
    [credential] = [c for c in user["credentials"] if c["type"] == "password"]
    assert credential["temporary"] is False, "a temporary password makes the password grant fail"
    return str(credential["value"])


def test_realm_is_named_like_the_gateway_default_and_enabled(realm: dict[str, Any]) -> None:
    assert realm["realm"] == Settings().keycloak_realm == "mcp-gateway"
    assert realm["enabled"] is True


def test_realm_defines_the_gateway_roles_and_the_sre_group(realm: dict[str, Any]) -> None:
    assert {r["name"] for r in realm["roles"]["realm"]} == {"mcp-admin", "mcp-user", "logs-reader"}
    assert [(g["name"], g["path"]) for g in realm["groups"]] == [("sre", "/sre")]


def test_public_client_allows_the_password_grant_of_the_readme(realm: dict[str, Any]) -> None:
    client = _client(realm, "mcp-gateway-client")
    assert client["enabled"] is True
    assert client["publicClient"] is True
    assert client["directAccessGrantsEnabled"] is True
    assert client["standardFlowEnabled"] is True
    assert client["attributes"]["pkce.code.challenge.method"] == "S256"
    assert client["redirectUris"], "the authorization-code flow needs registered redirect URIs"
    assert "secret" not in client


def test_service_client_is_confidential_with_service_account(realm: dict[str, Any]) -> None:
    client = _client(realm, "tes-mcp-client")
    assert client["publicClient"] is False
    assert client["serviceAccountsEnabled"] is True
    assert client["clientAuthenticatorType"] == "client-secret"
    assert client["secret"] == "tes-mcp-client-secret"
    assert client["directAccessGrantsEnabled"] is False
    assert client["standardFlowEnabled"] is False
    service_account = _user(realm, "service-account-tes-mcp-client")
    assert service_account["serviceAccountClientId"] == "tes-mcp-client"
    assert "mcp-user" in service_account["realmRoles"]


@pytest.mark.parametrize("client_id", ["mcp-gateway-client", "tes-mcp-client"])
def test_tokens_carry_the_gateway_resource_as_audience(realm: dict[str, Any], client_id: str) -> None:
    [mapper] = _mappers(_client(realm, client_id), "oidc-audience-mapper")
    config = mapper["config"]
    assert config["included.custom.audience"] == Settings().mcp_resource_server_url == "http://localhost:8000/mcp"
    assert config["access.token.claim"] == "true"
    assert "included.client.audience" not in config


@pytest.mark.parametrize("client_id", ["mcp-gateway-client", "tes-mcp-client"])
def test_tokens_carry_group_names_and_realm_roles(realm: dict[str, Any], client_id: str) -> None:
    client = _client(realm, client_id)
    [groups] = _mappers(client, "oidc-group-membership-mapper")
    assert groups["config"]["claim.name"] == "groups"
    assert groups["config"]["full.path"] == "false"
    assert groups["config"]["access.token.claim"] == "true"
    [roles] = _mappers(client, "oidc-usermodel-realm-role-mapper")
    assert roles["config"]["claim.name"] == "roles"
    assert roles["config"]["multivalued"] == "true"
    assert roles["config"]["access.token.claim"] == "true"


def test_test_user_can_read_logs_as_sre(realm: dict[str, Any]) -> None:
    user = _user(realm, "testuser")
    assert user["enabled"] is True
    assert user["email"] == "testuser@example.com"
    assert user["emailVerified"] is True
    assert _password(user) == "testpass"
    assert set(user["realmRoles"]) == {"mcp-user", "logs-reader"}
    assert user["groups"] == ["/sre"]
    assert not user.get("requiredActions"), "a required action makes the password grant fail"
    # Keycloak's declarative user profile requires these before an account may log in.
    assert user["firstName"]
    assert user["lastName"]


def test_admin_user_has_the_gateway_admin_role(realm: dict[str, Any]) -> None:
    user = _user(realm, "admin-user")
    assert user["enabled"] is True
    assert _password(user) == "adminpass"
    assert Settings().admin_role == "mcp-admin"
    assert "mcp-admin" in user["realmRoles"]
    assert user["firstName"]
    assert user["lastName"]
    assert user["email"]


def test_every_role_and_group_a_user_references_is_defined(realm: dict[str, Any]) -> None:
    roles = {r["name"] for r in realm["roles"]["realm"]}
    groups = {g["path"] for g in realm["groups"]}
    for user in realm["users"]:
        assert set(user.get("realmRoles", [])) <= roles, user["username"]
        assert set(user.get("groups", [])) <= groups, user["username"]
    client_ids = {c["clientId"] for c in realm["clients"]}
    assert {u["serviceAccountClientId"] for u in realm["users"] if "serviceAccountClientId" in u} <= client_ids
