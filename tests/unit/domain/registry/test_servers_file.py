from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml

from app.domain.registry import AccessConfig, AuthConfig, ServerConfig, load_servers_file
from app.errors import ConfigError
from tests.factories import ServerConfigFactory

HERE = Path(__file__).parent
REPO = Path(__file__).parents[4]


def test_every_seed_example_is_valid() -> None:
    servers = load_servers_file(HERE / "seed_examples.yaml")
    assert set(servers) == {
        "prod-server",
        "salesforce-prod",
        "internal-api",
        "prod-elk-1",
        "elasticsearch-campaign-us",
        "figma",
        "notion",
    }
    salesforce = servers["salesforce-prod"]
    assert salesforce.auth == AuthConfig(
        method="api_key", location="header", name="X-API-Key", format="raw", credential_ref="env://SALESFORCE_API_KEY"
    )
    assert servers["prod-server"].auth is None
    assert servers["prod-elk-1"].tags == ("logging", "production", "elk-cluster")
    campaign = servers["elasticsearch-campaign-us"]
    assert campaign.tools == ("search_logs", "get_indices", "query_data")
    assert campaign.metadata == {"description": "Campaign marketing data - US region"}
    assert campaign.transport == "streamable-http"


def test_the_shipped_servers_file_is_valid() -> None:
    assert load_servers_file(REPO / "mcp_servers.yaml")


def test_access_block_is_read() -> None:
    document = {"servers": {"a": {"url": "https://a.example.com", "access": {"roles": ["ops"], "groups": ["sre"]}}}}
    servers = _load(document)
    assert servers["a"].access == AccessConfig(roles=("ops",), groups=("sre",))


def test_empty_file_means_no_servers(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("# nothing yet\n")
    assert load_servers_file(path) == {}


@pytest.mark.parametrize(
    ("server", "fragment"),
    [
        ({"url": "https://a.example.com", "timout": 5}, "server 'bad': unknown key 'timout'"),
        (
            {"url": "https://a.example.com", "auth": {"methd": "bearer", "credential_ref": "env://X"}},
            "server 'bad': unknown key 'auth.methd'",
        ),
        ({"url": "https://a.example.com", "auth": {"credential_ref": "env://X"}}, "missing required key 'auth.method'"),
        ({"type": "http"}, "server 'bad': missing required key 'url'"),
        ({"url": "https://a.example.com", "timeout": "soon"}, "key 'timeout': Expected `float`, got `str`"),
        ({"url": "https://a.example.com", "timeout": 0}, "timeout must be between 0 and 3600"),
        ({"url": "https://a.example.com", "type": "htp"}, "type must be one of http, streamable-http, sse"),
        ({"url": "ftp://a.example.com"}, "url must be an absolute http(s) URL"),
        ({"url": "https://u:pw@a.example.com"}, "url must not embed credentials"),
        ({"url": "https://a.example.com", "tags": ["x", "x"]}, "tags must not repeat"),
        ({"url": "https://a.example.com", "tools": ["bad name"]}, "invalid tool name"),
        (
            {
                "url": "https://a.example.com",
                "auth": {"method": "bearer", "location": "cookie", "credential_ref": "env://X"},
            },
            "key 'auth.location': Invalid enum value 'cookie'",
        ),
        ({"url": "https://a.example.com", "auth": {"method": "bearer"}}, "needs a credential_ref"),
        (
            {"url": "https://a.example.com", "auth": {"method": "none", "credential_ref": "env://X"}},
            "method 'none' takes no credential_ref",
        ),
        (
            {
                "url": "https://a.example.com",
                "auth": {"method": "bearer", "format": "prefix", "credential_ref": "env://X"},
            },
            "format 'prefix' needs a non-empty prefix",
        ),
        (
            {
                "url": "https://a.example.com",
                "auth": {
                    "method": "custom",
                    "name": "X",
                    "format": "template",
                    "template": "t",
                    "credential_ref": "env://X",
                },
            },
            "template containing '{credential}'",
        ),
        (
            {"url": "https://a.example.com", "auth": {"method": "custom", "credential_ref": "env://X"}},
            "method 'custom' needs a name",
        ),
        (
            {
                "url": "https://a.example.com",
                "auth": {"method": "oauth2", "client_id": "c", "credential_ref": "env://X"},
            },
            "method 'oauth2' needs token_url",
        ),
        ({"url": "https://a.example.com", "access": {"role": ["x"]}}, "unknown key 'access.role'"),
    ],
)
def test_invalid_server_names_file_server_and_key(server: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        _load({"servers": {"bad": server}})
    message = str(info.value)
    assert message.startswith("servers.yaml: server 'bad'"), message
    assert fragment in message


def test_a_pasted_secret_in_credential_ref_is_never_echoed() -> None:
    document = {
        "servers": {
            "s": {"url": "https://a.example.com", "auth": {"method": "bearer", "credential_ref": "ghp_SECRET123"}}
        }
    }
    with pytest.raises(ConfigError) as info:
        _load(document)
    assert "ghp_SECRET123" not in str(info.value)
    assert "credential_ref must be a reference" in str(info.value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("servers:\n  a:\n    url: https://a\n  a:\n    url: https://b\n", "duplicate key 'a' at line 4"),
        ("servers: [1, 2]\n", "'servers' must be a mapping"),
        ("server:\n  a: {url: 'https://a'}\n", "unknown top-level key 'server'"),
        ("servers:\n  a: https://a\n", "server 'a': settings must be a mapping"),
        ("servers:\n  'bad name':\n    url: https://a\n", "invalid server name 'bad name'"),
        ("servers:\n  a: {url: [}\n", "not valid YAML"),
    ],
)
def test_malformed_files_are_rejected_with_the_reason(
    write_file: Callable[[str], Path], text: str, fragment: str
) -> None:
    path = write_file(text)
    with pytest.raises(ConfigError) as info:
        load_servers_file(path)
    assert str(path) in str(info.value)
    assert fragment in str(info.value)


def test_missing_file_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"servers file not found .*MCP_SERVERS_FILE"):
        load_servers_file(tmp_path / "absent.yaml")


@pytest.mark.parametrize("seed", range(20))
def test_any_valid_config_round_trips_through_yaml(seed: int) -> None:
    ServerConfigFactory.seed_random(seed)
    config = ServerConfigFactory.build()
    document = {"servers": {"s": msgspec.to_builtins(config)}}
    assert _load(yaml.safe_load(yaml.safe_dump(document)))["s"] == config


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str) -> Path:
        path = tmp_path / "servers.yaml"
        path.write_text(text)
        return path

    return write


def _load(document: dict[str, Any]) -> dict[str, ServerConfig]:
    from app.domain.registry.servers_file import parse_servers_document

    return parse_servers_document(document, source="servers.yaml")
