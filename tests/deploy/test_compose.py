"""deploy/compose.yaml: the full stack's services, ports, wiring between them, and the files it mounts."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import msgspec
import pytest
import yaml

from app.domain.registry.servers_file import load_servers_file
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "deploy" / "compose.yaml"


def _interpolate(value: str) -> str:
    """Compose's ``${VAR:-default}`` with nothing set in the environment: the default."""
    return re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


def _env(service: dict[str, Any]) -> dict[str, str]:
    return {name: _interpolate(str(value)) for name, value in service.get("environment", {}).items()}


def _bind_mounts(service: dict[str, Any]) -> list[tuple[Path, str]]:
    mounts = []
    for volume in service.get("volumes", []):
        source, target, *_ = volume.split(":")
        if source.startswith((".", "/")):
            mounts.append(((COMPOSE_FILE.parent / source).resolve(), target))
    return mounts


def _published(service: dict[str, Any]) -> set[str]:
    return {str(port) for port in service.get("ports", [])}


def test_stack_has_gateway_database_identity_tracing_and_demo_backends(services: dict[str, Any]) -> None:
    assert set(services) == {"gateway", "migrate", "postgres", "keycloak", "jaeger", "demo-logs-us", "demo-logs-eu"}
    assert services["postgres"]["image"] == "postgres:16"
    assert services["keycloak"]["image"].startswith("quay.io/keycloak/keycloak:")
    assert services["jaeger"]["image"].startswith("jaegertracing/all-in-one:")


def test_published_ports_are_gateway_keycloak_and_jaeger(services: dict[str, Any]) -> None:
    assert _published(services["gateway"]) == {"8000:8000"}
    assert _published(services["keycloak"]) == {"8080:8080"}
    assert _published(services["jaeger"]) == {"16686:16686", "4318:4318"}
    assert not _published(services["postgres"]), "the database stays on the compose network"


def test_gateway_image_is_built_from_the_repository_dockerfile(services: dict[str, Any]) -> None:
    for name in ("gateway", "migrate", "demo-logs-us", "demo-logs-eu"):
        build = services[name]["build"]
        context = (COMPOSE_FILE.parent / build["context"]).resolve()
        assert context == ROOT, name
        assert (context / build["dockerfile"]).is_file(), name
        assert services[name]["image"] == services["gateway"]["image"], "one image for all of them"


def test_every_mounted_file_exists_in_the_repository(services: dict[str, Any]) -> None:
    mounted = [(name, source) for name, service in services.items() for source, _ in _bind_mounts(service)]
    assert {name for name, _ in mounted} == {"gateway", "keycloak"}
    for name, source in mounted:
        assert source.is_file(), f"{name} mounts {source}, which does not exist"


def test_gateway_authenticates_with_keycloak_stores_in_postgres_and_traces_to_jaeger(services: dict[str, Any]) -> None:
    env = _env(services["gateway"])
    assert env["AUTH_ENABLED"] == "true"
    assert env["KEYCLOAK_URL"] == "http://keycloak:8080"
    assert env["KEYCLOAK_REALM"] == "mcp-gateway"
    keycloak = _env(services["keycloak"])
    assert env["OIDC_ISSUER"] == f"{keycloak['KC_HOSTNAME']}/realms/{env['KEYCLOAK_REALM']}", "the tokens' iss"
    assert env["JWT_JWKS_URL"].startswith(f"{env['KEYCLOAK_URL']}/realms/{env['KEYCLOAK_REALM']}/")
    assert keycloak["KC_HOSTNAME_BACKCHANNEL_DYNAMIC"] == "true", "keys stay reachable at the container address"
    database = urlsplit(env["DATABASE_URL"])
    postgres = _env(services["postgres"])
    assert database.scheme == "postgresql"
    assert (database.hostname, database.port) == ("postgres", 5432)
    assert (database.username, database.password) == (postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"])
    assert database.path == f"/{postgres['POSTGRES_DB']}"
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4318"
    assert _env(services["jaeger"])["COLLECTOR_OTLP_ENABLED"] == "true"
    assert len(env["MCP_SESSION_SECRET"]) >= 32
    assert env["DATABASE_AUTO_MIGRATE"] == "false", "the migrate service upgrades the schema"


def test_gateway_environment_names_only_settings_the_gateway_reads(services: dict[str, Any]) -> None:
    settings = {field.encode_name for field in msgspec.structs.fields(Settings)}
    credentials = {"DEMO_LOGS_EU_TOKEN"}  # read through env:// refs of the servers file
    for name in ("gateway", "migrate"):
        names = {n for n in _env(services[name]) if not n.startswith("OTEL_")} - credentials
        assert names <= settings, f"{name}: unknown settings {sorted(names - settings)}"


def test_gateway_runs_on_a_read_only_root_with_tmpfs_tmp(services: dict[str, Any]) -> None:
    for name in ("gateway", "migrate"):
        assert services[name]["read_only"] is True
        assert services[name]["tmpfs"] == ["/tmp"]


def test_migrate_runs_db_upgrade_on_the_gateway_database(services: dict[str, Any]) -> None:
    migrate = services["migrate"]
    assert migrate["command"] == ["db", "upgrade", "--no-prompt"]
    assert _env(migrate)["DATABASE_URL"] == _env(services["gateway"])["DATABASE_URL"]
    assert _env(migrate)["MCP_SERVERS_FILE"] == ""
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}


def test_gateway_starts_after_migration_and_healthy_dependencies(services: dict[str, Any]) -> None:
    depends = services["gateway"]["depends_on"]
    assert depends["migrate"]["condition"] == "service_completed_successfully"
    for name in ("keycloak", "demo-logs-us", "demo-logs-eu"):
        assert depends[name]["condition"] == "service_healthy"


def test_every_awaited_health_has_a_healthcheck(services: dict[str, Any]) -> None:
    for service in services.values():
        for dependency, condition in service.get("depends_on", {}).items():
            if condition["condition"] == "service_healthy":
                assert services[dependency]["healthcheck"]["test"], dependency
    assert "/health" in " ".join(services["gateway"]["healthcheck"]["test"])


def test_keycloak_imports_the_realm_the_gateway_trusts(services: dict[str, Any]) -> None:
    keycloak = services["keycloak"]
    assert keycloak["command"] == ["start-dev", "--import-realm"]
    [(source, target)] = _bind_mounts(keycloak)
    assert target.startswith("/opt/keycloak/data/import/")
    realm = json.loads(source.read_text(encoding="utf-8"))
    gateway = _env(services["gateway"])
    assert realm["realm"] == gateway["KEYCLOAK_REALM"]
    audiences = {
        mapper["config"]["included.custom.audience"]
        for client in realm["clients"]
        for mapper in client["protocolMappers"]
        if mapper["protocolMapper"] == "oidc-audience-mapper"
    }
    assert audiences == {gateway["MCP_RESOURCE_SERVER_URL"]}
    assert _env(keycloak)["KC_HEALTH_ENABLED"] == "true", "the healthcheck asks /health/ready"


def test_servers_file_points_at_the_demo_services_with_resolvable_credentials(services: dict[str, Any]) -> None:
    gateway = services["gateway"]
    [(source, target)] = _bind_mounts(gateway)
    assert target == _env(gateway)["MCP_SERVERS_FILE"]
    servers = load_servers_file(source)
    assert set(servers) == {"demo-logs-us", "demo-logs-eu"}
    for name, config in servers.items():
        url = urlsplit(config.url)
        assert url.hostname == name, "each server is the compose service of the same name"
        assert str(url.port) == _env(services[name])["DEMO_PORT"]
        if config.auth is not None and config.auth.credential_ref is not None:
            assert config.auth.credential_ref.removeprefix("env://") in _env(gateway), name
    eu = _env(services["demo-logs-eu"])
    assert eu["DEMO_REQUIRED_TOKEN"] == _env(gateway)["DEMO_LOGS_EU_TOKEN"]
    assert "DEMO_REQUIRED_TOKEN" not in _env(services["demo-logs-us"])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_demo_backend_command_serves_mcp_and_requires_its_token(services: dict[str, Any], tmp_path: Path) -> None:
    """The demo service's own command, run against this checkout, answers MCP and enforces its bearer token."""
    service = services["demo-logs-eu"]
    port = _free_port()
    env = {**os.environ, **_env(service), "DEMO_PORT": str(port), "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, *service["entrypoint"][1:], *service["command"]]
    process = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/mcp"
    request = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
    }
    token = {"Authorization": f"Bearer {_env(service)['DEMO_REQUIRED_TOKEN']}"}
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, "the demo backend exited"
            try:
                answer = httpx.post(url, json=request, headers=token, timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the demo backend did not listen within 30 s"
                time.sleep(0.1)
        assert answer.status_code == 200
        assert answer.json()["result"]["serverInfo"]["name"] == "demo-logs-eu"
        assert httpx.post(url, json=request, timeout=2).status_code == 401
    finally:
        process.terminate()
        process.wait(timeout=30)
