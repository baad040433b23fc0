"""The Helm chart in deploy/helm/mcp-gateway: lint, render with real values, validate every manifest offline.

Rendering uses the Helm library itself (``helm_python``), which also applies ``values.schema.json``; manifests are
checked against the Kubernetes OpenAPI schemas that ``kubernetes_validate`` ships (strict: unknown fields fail).
"""

from __future__ import annotations

import copy
import os
import sqlite3
import subprocess
import sys
import tomllib
import typing
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import msgspec
import pytest
import yaml

from app.domain.registry.config import AccessConfig, AuthConfig, AuthMethod, ServerConfig
from app.domain.registry.servers_file import parse_servers_document
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CHART_DIR = ROOT / "deploy" / "helm" / "mcp-gateway"
RELEASE = "gw"
NAMESPACE = "mcp"
FULLNAME = "gw-mcp-gateway"
SERVE_OPTIONS = {"MCP_GATEWAY_HOST", "MCP_GATEWAY_PORT", "WEB_CONCURRENCY"}
"""Variables ``mcp-gateway serve`` reads for its options (not gateway settings)."""
KUBE_VERSIONS = ["1.25", kubernetes_validate.utils.latest_version()]

SERVERS = {
    "logs-eu": {
        "url": "http://logs-eu.observability:9102/mcp",
        "type": "http",
        "timeout": 45,
        "tags": ["logging", "eu"],
        "auth": {"method": "bearer", "credential_ref": "env://LOGS_EU_TOKEN"},
        "access": {"roles": ["logs-reader"], "groups": ["sre"]},
    },
    "tickets": {"url": "https://tickets.example.com/mcp", "auth": None, "tools": ["search_tickets"]},
}
"""A servers mapping with an ``env://`` credential, as a user would put under ``servers:``."""


def _ci_values() -> dict[str, Any]:
    return yaml.safe_load((CHART_DIR / "ci" / "test-values.yaml").read_text(encoding="utf-8"))


def _custom_values() -> dict[str, Any]:
    """Everything optional switched the other way: ingress and ServiceMonitor on, HPA off, own resources."""
    return {
        "replicaCount": 3,
        "image": {"repository": "registry.example.com/platform/mcp-gateway", "tag": "1.2.3"},
        "database": {"existingSecret": "gateway-db", "existingSecretKey": "url"},
        "sessionSecret": {"existingSecret": "gateway-session", "existingSecretKey": "key"},
        "servers": SERVERS,
        "secretEnv": {"LOGS_EU_TOKEN": {"secretName": "backend-credentials", "key": "logs-eu-token"}},
        "env": {"CATALOG_TTL_SECONDS": "30", "BACKEND_CA_BUNDLE": "/etc/backend-ca/ca.pem"},
        "extraVolumes": [{"name": "backend-ca", "configMap": {"name": "internal-ca"}}],
        "extraVolumeMounts": [{"name": "backend-ca", "mountPath": "/etc/backend-ca", "readOnly": True}],
        "gateway": {
            "logLevel": "DEBUG",
            "auth": {
                "enabled": True,
                "keycloakUrl": "http://keycloak.identity:8080",
                "keycloakRealm": "agents",
                "issuer": "https://sso.example.com/realms/agents",
                "jwksUrl": "http://keycloak.identity:8080/realms/agents/protocol/openid-connect/certs",
                "audiences": ["https://mcp.example.com/mcp", "mcp-gateway"],
            },
            "resourceServerUrl": "https://mcp.example.com/mcp",
            "allowedOrigins": ["https://console.example.com", "https://chat.example.com"],
        },
        "server": {"workers": 2, "accessLog": True},
        "autoscaling": {"enabled": False},
        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
        "ingress": {
            "enabled": True,
            "className": "nginx",
            "annotations": {"nginx.ingress.kubernetes.io/proxy-read-timeout": "3600"},
            "hosts": [{"host": "mcp.example.com", "paths": [{"path": "/", "pathType": "Prefix"}]}],
            "tls": [{"secretName": "mcp-example-tls", "hosts": ["mcp.example.com"]}],
        },
        "metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}}},
        "tracing": {
            "enabled": True,
            "otlpEndpoint": "http://jaeger-collector.observability:4318",
            "samplingRatio": 0.25,
        },
        "podDisruptionBudget": {"minAvailable": None, "maxUnavailable": 1},
    }


@pytest.fixture(scope="module")
def chart() -> typing.Iterator[helm.Chart]:
    with helm.Chart.load(CHART_DIR) as loaded:
        yield loaded


def _render(chart: helm.Chart, values: dict[str, Any]) -> list[dict[str, Any]]:
    rendered = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    documents: list[dict[str, Any]] = []
    for path, text in sorted(rendered.items()):
        if path.endswith("NOTES.txt"):
            continue
        documents.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return documents


def _one(documents: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [d for d in documents if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {[d['metadata']['name'] for d in found]}"
    return found[0]


def _container(workload: dict[str, Any]) -> dict[str, Any]:
    [container] = workload["spec"]["template"]["spec"]["containers"]
    return container


def _env(container: dict[str, Any]) -> dict[str, Any]:
    """Env entries by name: plain values as strings, references as their ``valueFrom``."""
    names = [e["name"] for e in container["env"]]
    assert len(names) == len(set(names)), f"duplicate env names: {names}"
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


@pytest.fixture(scope="module")
def default_manifests(chart: helm.Chart) -> list[dict[str, Any]]:
    return _render(chart, _ci_values())


@pytest.fixture(scope="module")
def custom_manifests(chart: helm.Chart) -> list[dict[str, Any]]:
    return _render(chart, _custom_values())


def test_chart_lints_without_warnings_in_strict_mode() -> None:
    report = helm.lint(CHART_DIR, _ci_values(), strict=True, namespace=NAMESPACE)
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


def test_chart_app_version_is_the_project_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    metadata = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text(encoding="utf-8"))
    assert metadata["appVersion"] == project["version"]


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS)
@pytest.mark.parametrize("variant", ["default", "custom"])
def test_every_rendered_manifest_is_valid_kubernetes(
    default_manifests: list[dict[str, Any]], custom_manifests: list[dict[str, Any]], variant: str, kube_version: str
) -> None:
    documents = default_manifests if variant == "default" else custom_manifests
    for document in documents:
        if document["apiVersion"] == "monitoring.coreos.com/v1":
            continue  # a CRD: checked structurally in its own test
        kubernetes_validate.validate(document, kube_version, strict=True)


def test_default_values_render_the_core_objects_only(default_manifests: list[dict[str, Any]]) -> None:
    kinds = sorted(d["kind"] for d in default_manifests)
    assert kinds == [
        "ConfigMap",
        "Deployment",
        "HorizontalPodAutoscaler",
        "Job",
        "PodDisruptionBudget",
        "Secret",
        "Service",
        "ServiceAccount",
    ]


def test_custom_values_add_ingress_and_service_monitor_and_drop_the_hpa(custom_manifests: list[dict[str, Any]]) -> None:
    kinds = {d["kind"] for d in custom_manifests}
    assert {"Ingress", "ServiceMonitor"} <= kinds
    assert "HorizontalPodAutoscaler" not in kinds
    assert "Secret" not in kinds, "with existing Secrets for database and session key the chart creates none"


def test_probes_check_liveness_and_readiness_endpoints(default_manifests: list[dict[str, Any]]) -> None:
    container = _container(_one(default_manifests, "Deployment"))
    assert container["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
    assert container["startupProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert container["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]


@pytest.mark.parametrize("kind", ["Deployment", "Job"])
def test_pods_run_non_root_on_a_read_only_root_without_capabilities(
    default_manifests: list[dict[str, Any]], kind: str
) -> None:
    workload = _one(default_manifests, kind)
    pod = workload["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    context = _container(workload)["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["runAsNonRoot"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    # /tmp is the one writable path: an emptyDir.
    volumes = {v["name"]: v for v in pod["volumes"]}
    [tmp] = [m for m in _container(workload)["volumeMounts"] if m["mountPath"] == "/tmp"]
    assert "emptyDir" in volumes[tmp["name"]]


def test_deployment_leaves_migrations_to_the_job_and_reads_secrets_from_secrets(
    default_manifests: list[dict[str, Any]],
) -> None:
    env = _env(_container(_one(default_manifests, "Deployment")))
    assert env["DATABASE_AUTO_MIGRATE"] == "false"
    assert env["DATABASE_URL"] == {"secretKeyRef": {"name": "mcp-gateway-database", "key": "DATABASE_URL"}}
    assert env["MCP_SESSION_SECRET"] == {"secretKeyRef": {"name": f"{FULLNAME}-session", "key": "MCP_SESSION_SECRET"}}
    session = _one(default_manifests, "Secret", f"{FULLNAME}-session")
    assert len(session["data"]["MCP_SESSION_SECRET"]) >= 64, "a generated key of 64 random characters, base64"
    assert env["MCP_GATEWAY_HOST"] == "0.0.0.0"
    assert env["MCP_SERVERS_FILE"] == "/etc/mcp-gateway/mcp_servers.yaml"


def test_migration_job_is_a_pre_install_and_pre_upgrade_hook_running_db_upgrade(
    default_manifests: list[dict[str, Any]],
) -> None:
    job = _one(default_manifests, "Job")
    annotations = job["metadata"]["annotations"]
    assert set(annotations["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
    assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
    container = _container(job)
    assert container["args"] == ["db", "upgrade", "--no-prompt"]
    assert "command" not in container, "the image's entry point is mcp-gateway"
    env = _env(container)
    deployment_env = _env(_container(_one(default_manifests, "Deployment")))
    assert env["DATABASE_URL"] == deployment_env["DATABASE_URL"]
    assert env["MCP_SERVERS_FILE"] == "", "the ConfigMap does not exist yet when a pre-install hook runs"
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert "serviceAccountName" not in job["spec"]["template"]["spec"], "the chart's ServiceAccount comes later"


@pytest.mark.slow
def test_migration_job_command_migrates_a_database(default_manifests: list[dict[str, Any]], tmp_path: Path) -> None:
    """The Job's arguments, run with its plain env against SQLite, bring a fresh database to the head revision."""
    container = _container(_one(default_manifests, "Job"))
    env = {k: v for k, v in _env(container).items() if isinstance(v, str)}
    env.update(PATH=os.environ["PATH"], HOME=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'gateway.db'}")
    executable = Path(sys.executable).parent / "mcp-gateway"
    result = subprocess.run(
        [str(executable), *container["args"]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "gateway.db") as connection:
        [(revision,)] = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    assert revision


def test_database_url_value_becomes_a_secret_that_exists_before_the_job(chart: helm.Chart) -> None:
    values = _ci_values() | {"database": {"url": "postgresql://gw:pw@db:5432/gw"}}
    documents = _render(chart, values)
    secret = _one(documents, "Secret", f"{FULLNAME}-database")
    assert secret["stringData"] == {"DATABASE_URL": "postgresql://gw:pw@db:5432/gw"}
    job = _one(documents, "Job")
    assert "pre-install" in secret["metadata"]["annotations"]["helm.sh/hook"]
    secret_weight = int(secret["metadata"]["annotations"]["helm.sh/hook-weight"])
    assert secret_weight < int(job["metadata"]["annotations"]["helm.sh/hook-weight"])
    reference = {"secretKeyRef": {"name": f"{FULLNAME}-database", "key": "DATABASE_URL"}}
    assert _env(_container(job))["DATABASE_URL"] == reference
    assert _env(_container(_one(documents, "Deployment")))["DATABASE_URL"] == reference


def test_rendering_without_a_database_fails_naming_the_values(chart: helm.Chart) -> None:
    with pytest.raises(helm.HelmRenderError, match=r"database\.existingSecret .*database\.url"):
        chart.render({}, name=RELEASE, namespace=NAMESPACE)


def test_configmap_holds_exactly_the_given_servers(custom_manifests: list[dict[str, Any]]) -> None:
    configmap = _one(custom_manifests, "ConfigMap", f"{FULLNAME}-servers")
    document = yaml.safe_load(configmap["data"]["mcp_servers.yaml"])
    assert document == {"servers": SERVERS}
    assert set(parse_servers_document(document, source="configmap")) == set(SERVERS)
    deployment = _one(custom_manifests, "Deployment")
    [mount] = [m for m in _container(deployment)["volumeMounts"] if m["name"] == "servers"]
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert volumes["servers"]["configMap"]["name"] == configmap["metadata"]["name"]
    assert _env(_container(deployment))["MCP_SERVERS_FILE"] == f"{mount['mountPath']}/mcp_servers.yaml"


def test_servers_file_change_rolls_the_pods(chart: helm.Chart) -> None:
    def checksum(servers: dict[str, Any]) -> str:
        deployment = _one(_render(chart, _ci_values() | {"servers": servers}), "Deployment")
        return str(deployment["spec"]["template"]["metadata"]["annotations"]["checksum/servers"])

    assert checksum({"a": {"url": "http://a/mcp"}}) != checksum({"a": {"url": "http://b/mcp"}})


def test_credential_refs_come_from_the_named_secret_keys(custom_manifests: list[dict[str, Any]]) -> None:
    env = _env(_container(_one(custom_manifests, "Deployment")))
    assert env["LOGS_EU_TOKEN"] == {"secretKeyRef": {"name": "backend-credentials", "key": "logs-eu-token"}}
    assert env["DATABASE_URL"] == {"secretKeyRef": {"name": "gateway-db", "key": "url"}}
    assert env["MCP_SESSION_SECRET"] == {"secretKeyRef": {"name": "gateway-session", "key": "key"}}
    assert env["CATALOG_TTL_SECONDS"] == "30"


def test_a_private_ca_for_backends_is_mounted_where_its_setting_points(
    custom_manifests: list[dict[str, Any]],
) -> None:
    deployment = _one(custom_manifests, "Deployment")
    container = _container(deployment)
    mount = next(m for m in container["volumeMounts"] if m["name"] == "backend-ca")
    volume = next(v for v in deployment["spec"]["template"]["spec"]["volumes"] if v["name"] == "backend-ca")
    assert volume["configMap"] == {"name": "internal-ca"}
    assert _env(container)["BACKEND_CA_BUNDLE"].startswith(mount["mountPath"] + "/")
    assert mount["readOnly"] is True


def test_gateway_settings_become_their_environment_variables(custom_manifests: list[dict[str, Any]]) -> None:
    container = _container(_one(custom_manifests, "Deployment"))
    env = _env(container)
    assert env["AUTH_ENABLED"] == "true"
    assert env["KEYCLOAK_URL"] == "http://keycloak.identity:8080"
    assert env["KEYCLOAK_REALM"] == "agents"
    assert env["OIDC_ISSUER"] == "https://sso.example.com/realms/agents"
    assert env["JWT_JWKS_URL"] == "http://keycloak.identity:8080/realms/agents/protocol/openid-connect/certs"
    assert env["JWT_AUDIENCE"] == "https://mcp.example.com/mcp,mcp-gateway"
    assert env["LOG_LEVEL"] == "DEBUG"
    assert env["MCP_RESOURCE_SERVER_URL"] == "https://mcp.example.com/mcp"
    assert env["MCP_ALLOWED_ORIGINS"] == "https://console.example.com,https://chat.example.com"
    assert env["WEB_CONCURRENCY"] == "2"
    assert container["args"] == ["serve"], "access log on: no --no-access-log"
    assert container["image"] == "registry.example.com/platform/mcp-gateway:1.2.3"


def test_every_gateway_variable_the_chart_sets_is_a_setting_the_gateway_reads(
    custom_manifests: list[dict[str, Any]],
) -> None:
    settings = {field.encode_name for field in msgspec.structs.fields(Settings)}
    values = _custom_values()
    extra = set(values["env"]) | set(values["secretEnv"])
    for kind in ("Deployment", "Job"):
        names = set(_env(_container(_one(custom_manifests, kind)))) - extra - SERVE_OPTIONS
        names = {n for n in names if not n.startswith(("OTEL_", "POD_"))}
        assert names <= settings, f"{kind}: unknown settings {sorted(names - settings)}"


def test_an_env_credential_ref_without_a_secret_fails_rendering(chart: helm.Chart) -> None:
    values = _custom_values()
    values["secretEnv"] = {}
    with pytest.raises(
        helm.HelmRenderError, match=r"servers\.logs-eu\.auth\.credential_ref .*secretEnv\.LOGS_EU_TOKEN"
    ):
        chart.render(values, name=RELEASE, namespace=NAMESPACE)


@pytest.mark.parametrize("field", ["env", "secretEnv"])
def test_extra_env_cannot_shadow_variables_the_chart_sets(chart: helm.Chart, field: str) -> None:
    values = _ci_values()
    values[field] = {"DATABASE_URL": "sqlite:///x.db" if field == "env" else {"secretName": "s", "key": "k"}}
    with pytest.raises(helm.HelmRenderError, match=rf"{field}\.DATABASE_URL: set by the chart"):
        chart.render(values, name=RELEASE, namespace=NAMESPACE)


def test_hpa_owns_the_replica_count_when_enabled(default_manifests: list[dict[str, Any]]) -> None:
    deployment = _one(default_manifests, "Deployment")
    assert "replicas" not in deployment["spec"], "a fixed count would fight the HPA on every upgrade"
    hpa = _one(default_manifests, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": deployment["metadata"]["name"],
    }
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 10)
    [metric] = hpa["spec"]["metrics"]
    assert metric["resource"] == {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}


def test_replica_count_and_resources_apply_without_hpa(custom_manifests: list[dict[str, Any]]) -> None:
    deployment = _one(custom_manifests, "Deployment")
    assert deployment["spec"]["replicas"] == 3
    assert _container(deployment)["resources"] == _custom_values()["resources"]
    assert _one(custom_manifests, "PodDisruptionBudget")["spec"]["maxUnavailable"] == 1


def test_hpa_bounds_are_checked(chart: helm.Chart) -> None:
    values = _ci_values() | {"autoscaling": {"minReplicas": 5, "maxReplicas": 3}}
    with pytest.raises(helm.HelmRenderError, match="minReplicas must not exceed"):
        chart.render(values, name=RELEASE, namespace=NAMESPACE)


def test_only_gateway_pods_carry_the_service_selector(default_manifests: list[dict[str, Any]]) -> None:
    selector = _one(default_manifests, "Service")["spec"]["selector"]
    deployment = _one(default_manifests, "Deployment")
    assert _selects(selector, deployment["spec"]["template"]["metadata"]["labels"])
    assert deployment["spec"]["selector"]["matchLabels"] == selector
    assert not _selects(selector, _one(default_manifests, "Job")["spec"]["template"]["metadata"]["labels"])
    assert _one(default_manifests, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"] == selector
    spread = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert {c["topologyKey"] for c in spread} == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
    assert all(c["labelSelector"]["matchLabels"] == selector for c in spread)


def test_tracing_exports_over_otlp_to_the_configured_collector(
    default_manifests: list[dict[str, Any]], custom_manifests: list[dict[str, Any]]
) -> None:
    env = _env(_container(_one(custom_manifests, "Deployment")))
    assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger-collector.observability:4318"
    assert env["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    assert env["OTEL_SERVICE_NAME"] == "mcp-gateway"
    assert env["OTEL_TRACES_SAMPLER_ARG"] == "0.25"
    assert "k8s.pod.name=$(POD_NAME)" in env["OTEL_RESOURCE_ATTRIBUTES"]
    names = [e["name"] for e in _container(_one(custom_manifests, "Deployment"))["env"]]
    assert names.index("POD_NAME") < names.index("OTEL_RESOURCE_ATTRIBUTES"), "$(VAR) only expands earlier vars"
    default_env = _env(_container(_one(default_manifests, "Deployment")))
    assert "OTEL_EXPORTER_OTLP_ENDPOINT" not in default_env
    assert default_env["OTEL_TRACES_EXPORTER"] == "none"


def test_service_monitor_scrapes_metrics_from_the_service_port(custom_manifests: list[dict[str, Any]]) -> None:
    monitor = _one(custom_manifests, "ServiceMonitor")
    service = _one(custom_manifests, "Service")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert _selects(monitor["spec"]["selector"]["matchLabels"], service["metadata"]["labels"])
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    [endpoint] = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"
    assert set(endpoint) == {"port", "path", "interval", "scrapeTimeout"}


def test_ingress_routes_every_path_to_the_service(custom_manifests: list[dict[str, Any]]) -> None:
    ingress = _one(custom_manifests, "Ingress")
    service = _one(custom_manifests, "Service")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [{"hosts": ["mcp.example.com"], "secretName": "mcp-example-tls"}]
    [rule] = ingress["spec"]["rules"]
    assert rule["host"] == "mcp.example.com"
    [path] = rule["http"]["paths"]
    assert path["backend"] == {"service": {"name": service["metadata"]["name"], "port": {"name": "http"}}}


def _with(values: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(values)
    *parents, leaf = dotted.split(".")
    node = changed
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value
    return changed


@pytest.mark.parametrize(
    ("dotted", "value", "message"),
    [
        ("replicaCount", "two", "/replicaCount"),
        ("image.pullPolicy", "Sometimes", "/image/pullPolicy"),
        ("gateway.logLevel", "VERBOSE", "/gateway/logLevel"),
        ("gateway.auth.issuer", "sso.example.com", "/gateway/auth/issuer"),
        ("service.type", "Internal", "/service/type"),
        ("service.port", 70000, "/service/port"),
        ("replicas", 2, "additional properties 'replicas'"),
        ("autoscaling.targetCPUUtilizationPercentage", "70%", "/autoscaling/targetCPUUtilizationPercentage"),
        ("topologySpread.whenUnsatisfiable", "Sometimes", "/topologySpread/whenUnsatisfiable"),
        ("tracing.samplingRatio", 2, "/tracing/samplingRatio"),
        ("secretEnv.LOGS_EU_TOKEN", {"secretName": "creds"}, "/secretEnv/LOGS_EU_TOKEN"),
        ("secretEnv.bad-name", {"secretName": "creds", "key": "k"}, "propertyName 'bad-name'"),
        ("env.LOG_RETENTION", 7, "/env/LOG_RETENTION"),
        ("servers.logs-eu.auth.method", "password", "/servers/logs-eu/auth"),
        ("servers.logs-eu.timeout", 0, "/servers/logs-eu/timeout"),
        ("servers.logs-eu.url", "logs-eu:9102", "/servers/logs-eu/url"),
        ("servers.logs-eu.retries", 3, "/servers/logs-eu"),
        ("servers.bad name", {"url": "http://a/mcp"}, "propertyName 'bad name'"),
        ("gateway.audit.file", "/var/log/audit.json", "/gateway/audit/file"),
        ("database.url", "sqlite:///gateway.db", "/database/url"),
    ],
)
def test_values_breaking_the_schema_fail_rendering(chart: helm.Chart, dotted: str, value: Any, message: str) -> None:
    values = _with(_custom_values(), dotted, value)
    with pytest.raises(helm.HelmValuesError) as raised:
        chart.render(values, name=RELEASE, namespace=NAMESPACE)
    assert message in str(raised.value)


def test_schema_knows_exactly_the_gateway_server_keys(chart: helm.Chart) -> None:
    schema = chart.schema
    assert schema is not None
    server = schema["properties"]["servers"]["additionalProperties"]
    assert set(server["properties"]) == set(ServerConfig.__struct_fields__)
    [_, auth] = server["properties"]["auth"]["oneOf"]
    assert set(auth["properties"]) == set(AuthConfig.__struct_fields__)
    assert auth["properties"]["method"]["enum"] == list(typing.get_args(AuthMethod))
    [_, access] = server["properties"]["access"]["oneOf"]
    assert set(access["properties"]) == set(AccessConfig.__struct_fields__)
