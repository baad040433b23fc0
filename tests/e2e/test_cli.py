from __future__ import annotations

import getpass
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import free_port

pytestmark = pytest.mark.slow

SERVERS_YAML = """
servers:
  logs-us:
    url: http://127.0.0.1:9101/mcp
    type: http
    tags: [logging]
  logs-eu:
    url: http://127.0.0.1:9102/mcp
    type: streamable-http
    auth:
      method: api_key
      location: header
      name: X-API-Key
      format: raw
      credential_ref: env://LOGS_EU_KEY
"""

Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(autouse=True)
def servers_file(tmp_path: Path) -> Path:
    path = tmp_path / "mcp_servers.yaml"
    path.write_text(SERVERS_YAML)
    return path


def test_servers_lifecycle_through_the_cli(cli: Cli, tmp_path: Path) -> None:
    listed = cli("servers", "list").stdout
    assert "logs-us" in listed
    assert "logs-eu" in listed

    cli(
        "servers", "add", "figma",
        "--url", "https://figma.example.com/mcp",
        "--timeout", "15",
        "--tag", "design", "--tag", "collaboration",
        "--metadata", "owner=design-team",
        "--auth-method", "bearer", "--auth-format", "prefix", "--auth-prefix", "Bearer ",
        "--credential-ref", "env://FIGMA_API_TOKEN",
        "--allow-role", "designers",
    )  # fmt: skip
    shown = json.loads(cli("servers", "show", "figma", "--json").stdout)
    assert shown["source"] == "api"
    assert shown["timeout"] == 15
    assert shown["tags"] == ["design", "collaboration"]
    assert shown["metadata"] == {"owner": "design-team"}
    assert shown["auth"]["credential_ref"] == "env://FIGMA_API_TOKEN"
    assert shown["access"] == {"roles": ["designers"]}

    cli("servers", "disable", "figma")
    assert json.loads(cli("servers", "show", "figma", "--json").stdout)["enabled"] is False
    cli("servers", "enable", "figma")
    assert "enabled" not in json.loads(cli("servers", "show", "figma", "--json").stdout)  # default true is omitted

    everything = json.loads(cli("servers", "list", "--json").stdout)
    assert [s["name"] for s in everything] == ["figma", "logs-eu", "logs-us"]

    cli("servers", "remove", "figma")
    gone = cli("servers", "show", "figma", check=False)
    assert gone.returncode == 2
    assert "MCP server 'figma' is not registered" in gone.stderr

    # Every change is in the audit trail, by the OS user who ran the CLI, like an API change.
    events = [json.loads(line) for line in (tmp_path / "audit.json").read_text().splitlines()]
    changes = [(e["action"], e["mcp_server"], e["status"]) for e in events if e["event_type"] == "registry_change"]
    assert changes == [
        ("register_server", "figma", "success"),
        ("disable_server", "figma", "success"),
        ("enable_server", "figma", "success"),
        ("delete_server", "figma", "success"),
    ]
    assert {e["user"] for e in events} == {f"cli:{getpass.getuser()}"}


def test_file_servers_cannot_be_changed_from_the_cli(cli: Cli) -> None:
    result = cli("servers", "disable", "logs-us", check=False)
    assert result.returncode == 2
    assert "defined in the servers file" in result.stderr


def test_invalid_add_names_the_key(cli: Cli) -> None:
    result = cli("servers", "add", "x", "--url", "https://x.example.com", "--credential-ref", "env://T", check=False)
    assert result.returncode == 2
    assert "missing required key 'auth.method'" in result.stderr


def test_a_bad_servers_file_is_one_precise_error(cli: Cli, servers_file: Path) -> None:
    servers_file.write_text(SERVERS_YAML + "    timout: 5\n")
    result = cli("servers", "list", check=False)
    assert result.returncode == 2
    assert "mcp_servers.yaml: server 'logs-eu': unknown key 'timout'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.postgres
def test_postgres_needs_db_upgrade_before_use(
    cli: Cli, gateway_env: dict[str, str], postgres_database_factory: Callable[[], str]
) -> None:
    gateway_env["DATABASE_URL"] = postgres_database_factory()
    before = cli("servers", "list", check=False)
    assert before.returncode == 2
    assert "run `mcp-gateway db upgrade`" in before.stderr

    cli("db", "upgrade", "--no-prompt")
    assert "logs-us" in cli("servers", "list").stdout


@pytest.fixture
def running_gateway(serve_gateway: Callable[..., str]) -> str:
    return serve_gateway()


def test_serve_answers_health_index_config_and_servers(running_gateway: str) -> None:
    assert httpx.get(f"{running_gateway}/health").json()["database"] == "ok"
    assert httpx.get(f"{running_gateway}/").json()["name"] == "mcp-gateway"
    assert httpx.get(f"{running_gateway}/config").json()["settings"]["AUTH_ENABLED"] is False
    servers = httpx.get(f"{running_gateway}/mcp/servers").json()
    assert {s["name"] for s in servers["servers"]} == {"logs-us", "logs-eu"}


def test_serve_refuses_to_start_on_a_bad_servers_file(cli: Cli, servers_file: Path) -> None:
    servers_file.write_text("servers:\n  a:\n    url: nope\n")
    result = cli("serve", "--port", str(free_port()), check=False)
    assert result.returncode == 2
    assert "server 'a': url must be an absolute http(s) URL" in result.stderr


def test_serve_demo_shows_list_invoke_and_broadcast(tmp_path: Path, serve_gateway: Callable[..., str]) -> None:
    (tmp_path / "mcp_servers.yaml").write_text((Path(__file__).parents[2] / "mcp_servers.yaml").read_text())
    base = serve_gateway("--demo")
    tools = {t["name"] for t in httpx.get(f"{base}/tools", timeout=10).json()["tools"]}
    assert {"search_logs", "broadcast__search_logs", "broadcast__by_tag__logging"} <= tools
    one = httpx.post(
        f"{base}/mcp/invoke",
        params={"mcp_server": "demo-logs-eu"},
        json={"tool_name": "search_logs", "parameters": {"query": "timeout"}},
        timeout=10,
    ).json()
    assert one["success"] is True  # the EU cluster demands the bearer token the gateway injects
    both = httpx.post(
        f"{base}/mcp/invoke-broadcast",
        json={"tool_name": "search_logs", "parameters": {"query": "campaign"}},
        timeout=10,
    ).json()
    assert (both["successful"], both["failed"]) == (2, 0)
