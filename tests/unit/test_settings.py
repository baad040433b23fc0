from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import ConfigError
from app.settings import Settings, load_settings, mask_url_password


def test_defaults_need_no_environment() -> None:
    settings = load_settings(environ={}, env_file=None)
    assert settings == Settings()
    assert settings.auth_enabled is False
    assert settings.jwt_algorithm == "RS256"
    assert settings.database_url.startswith("sqlite:")
    assert settings.mcp_servers_file == "mcp_servers.yaml"


def test_every_seed_variable_is_read_by_its_name() -> None:
    environ = {
        "AUTH_ENABLED": "false",
        "KEYCLOAK_URL": "http://kc:8080",
        "KEYCLOAK_REALM": "corp",
        "JWT_ALGORITHM": "RS256,ES256",
        "MCP_AUTH_ENABLED": "0",
        "MCP_OAUTH_CLIENT_ID": "tes-mcp-client",
        "MCP_OAUTH_CLIENT_SECRET": "xyz",
        "MCP_RESOURCE_SERVER_URL": "https://gw.example.com/mcp",
        "DATABASE_URL": "postgresql://u:p@db:5432/gw",
        "AUDIT_LOG_FILE": "/var/log/audit.json",
        "AUDIT_TO_STDOUT": "true",
        "MCP_SERVERS_FILE": "/etc/gw/servers.yaml",
    }
    settings = load_settings(environ=environ, env_file=None)
    assert settings.keycloak_url == "http://kc:8080"
    assert settings.keycloak_realm == "corp"
    assert settings.jwt_algorithm == "RS256,ES256"
    assert settings.mcp_oauth_client_id == "tes-mcp-client"
    assert settings.mcp_oauth_client_secret == "xyz"
    assert settings.mcp_resource_server_url == "https://gw.example.com/mcp"
    assert settings.database_url == "postgresql://u:p@db:5432/gw"
    assert settings.audit_log_file == "/var/log/audit.json"
    assert settings.audit_to_stdout is True
    assert settings.mcp_servers_file == "/etc/gw/servers.yaml"


def test_environment_wins_over_dotenv_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text('KEYCLOAK_REALM=from-file\nAUDIT_TO_STDOUT=true\nexport LOG_LEVEL="DEBUG"\n')
    settings = load_settings(environ={"KEYCLOAK_REALM": "from-env"}, env_file=env_file)
    assert settings.keycloak_realm == "from-env"
    assert settings.audit_to_stdout is True
    assert settings.log_level == "DEBUG"


def test_empty_value_keeps_the_default_for_non_strings_but_clears_strings() -> None:
    settings = load_settings(environ={"AUTH_ENABLED": "", "AUDIT_LOG_FILE": ""}, env_file=None)
    assert settings.auth_enabled is False
    assert settings.audit_log_file == ""


def test_bad_boolean_names_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"AUTH_ENABLED='maybe'.*bool"):
        load_settings(environ={"AUTH_ENABLED": "maybe"}, env_file=None)


def test_public_view_hides_secrets_and_database_password() -> None:
    settings = Settings(mcp_oauth_client_secret="hunter2", database_url="postgresql://gw:hunter3@db/gw")
    view = settings.public_view()
    assert view["MCP_OAUTH_CLIENT_SECRET"] == "set"
    assert view["DATABASE_URL"] == "postgresql://gw:***@db/gw"
    assert "hunter2" not in repr(view)
    assert "hunter3" not in repr(view)
    assert Settings().public_view()["MCP_OAUTH_CLIENT_SECRET"] == "unset"


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("sqlite:///x.db", "sqlite:///x.db"),
        ("postgresql://u@h/db", "postgresql://u@h/db"),
        ("postgresql://u:pw@h:5/db?x=1", "postgresql://u:***@h:5/db?x=1"),
    ],
)
def test_mask_url_password(url: str, masked: str) -> None:
    assert mask_url_password(url) == masked
