"""Without an exporter no span is recorded, yet the trace context still flows: the caller's ``traceparent`` is
continued, reported in ``X-Trace-Id`` and carried to the backend."""

from __future__ import annotations

from collections.abc import Callable

from app.telemetry import tracing_exported
from tests.integration.conftest import Gateway, entry
from tests.mcp_backends import Backend

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


async def test_trace_context_flows_without_an_exporter(gateway: Gateway, backends: Callable[..., Backend]) -> None:
    backend = backends("alpha", kind="stateless")
    async with gateway({"alpha": entry(backend)}) as client:
        assert not tracing_exported()
        continued = await client.post(
            "/mcp/invoke",
            params={"mcp_server": "alpha"},
            json={"tool_name": "echo", "parameters": {"text": "x"}},
            headers={"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"},
        )
        fresh = await client.get("/tools")
    assert continued.status_code == 200
    assert continued.headers["x-trace-id"] == TRACE_ID
    sent = [call.headers.get("traceparent", "") for call in backend.calls("tools/call")]
    assert sent
    assert sent[-1].split("-")[1] == TRACE_ID
    assert sent[-1].split("-")[2] != "00f067aa0ba902b7"  # the gateway's own span id, a child of the caller's
    assert len(fresh.headers["x-trace-id"]) == 32
    assert fresh.headers["x-trace-id"] != TRACE_ID
