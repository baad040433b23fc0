"""``GET /metrics``: request, tool-call, backend latency, backend health and audit queue metrics, per app."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.asgi import create_app
from app.metrics import GatewayMetrics
from tests.integration.conftest import Gateway, entry
from tests.mcp_backends import Backend

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float | None:
    return found.get((name, frozenset(labels.items())))


async def test_metrics_count_requests_tool_calls_and_backend_health(
    backends: Callable[..., Backend], gateway: Gateway
) -> None:
    servers = {"alpha": entry(backends("alpha")), "dead": {"url": "http://127.0.0.1:9/mcp"}}
    async with gateway(servers) as client:
        for _ in range(3):
            await client.post(
                "/mcp/invoke", params={"mcp_server": "alpha"}, json={"tool_name": "echo", "parameters": {"text": "x"}}
            )
        await client.post(
            "/mcp/invoke", params={"mcp_server": "alpha"}, json={"tool_name": "fail", "parameters": {"message": "m"}}
        )
        await client.post("/mcp/invoke", params={"mcp_server": "dead"}, json={"tool_name": "echo"})
        await client.get("/tools/no_such_tool")  # no route matches
        await client.get("/tools")  # lists every server: the dead one is now known to be down
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    requests = "mcp_gateway_http_requests_total"
    assert value(found, requests, method="POST", route="/mcp/invoke", status="200") == 4
    assert value(found, requests, method="POST", route="/mcp/invoke", status="502") == 1
    assert value(found, requests, method="GET", route="<unmatched>", status="404") == 1
    assert value(found, "mcp_gateway_tool_calls_total", server="alpha", tool="echo", status="success") == 3
    assert value(found, "mcp_gateway_tool_calls_total", server="alpha", tool="fail", status="error") == 1
    assert value(found, "mcp_gateway_tool_calls_total", server="dead", tool="echo", status="error") == 1
    assert value(found, "mcp_gateway_http_request_duration_seconds_count", method="POST", route="/mcp/invoke") == 5
    backend_calls = value(
        found,
        "mcp_gateway_backend_request_duration_seconds_count",
        server="alpha",
        method="tools/call",
        outcome="success",
    )
    assert backend_calls == 3
    assert value(found, "mcp_gateway_backend_up", server="alpha") == 1
    assert value(found, "mcp_gateway_backend_up", server="dead") == 0
    assert value(found, "mcp_gateway_audit_queue_depth", sink="file") is not None
    assert value(found, "mcp_gateway_audit_queue_depth", sink="database") is not None
    assert value(found, "mcp_gateway_audit_events_dropped_total", sink="database", reason="queue_full") == 0
    assert (value(found, "mcp_gateway_audit_events_written_total", sink="file") or 0) >= 1


async def test_apps_in_one_process_have_their_own_registries(make_settings: Callable[..., object]) -> None:
    first, second = create_app(make_settings()), create_app(make_settings())  # type: ignore[arg-type]
    assert first.state.metrics is not second.state.metrics
    assert isinstance(first.state.metrics, GatewayMetrics)
    first.state.metrics.observe_http("GET", "/x", 200, 0.01)
    assert "/x" in first.state.metrics.exposition().decode()
    assert "/x" not in second.state.metrics.exposition().decode()


async def test_metrics_can_be_turned_off(gateway: Gateway) -> None:
    async with gateway({}, metrics_enabled=False) as client:
        assert (await client.get("/metrics")).status_code == 404
