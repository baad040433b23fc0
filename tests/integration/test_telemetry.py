"""Traces: a server span per request, a span per backend call, a broadcast parent with a child per leg, catalog
refreshes; the W3C context reaches backends; spans leave over real OTLP/HTTP."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Callable, Iterator, Sequence

import pytest
from litestar import Litestar, Request, Response, post
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from app.telemetry import attached_span_processor
from tests.integration.conftest import Gateway, entry
from tests.mcp_backends import Backend
from tests.servers import serve_asgi

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

DEAD = "http://127.0.0.1:9/mcp"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    with attached_span_processor(SimpleSpanProcessor(exporter)):
        yield exporter


def named(finished: Sequence[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [span for span in finished if span.name == name]


def hex_trace(span: ReadableSpan) -> str:
    assert span.context is not None
    return format(span.context.trace_id, "032x")


async def test_a_broadcast_is_one_parent_with_a_child_per_leg(
    backends: Callable[..., Backend], gateway: Gateway, spans: InMemorySpanExporter
) -> None:
    a, b = backends("a", kind="legacy"), backends("b", kind="legacy")  # handshake era: they issue session ids
    async with gateway({"a": entry(a), "b": entry(b), "dead": {"url": DEAD}}) as client:
        response = await client.post(
            "/mcp/invoke-broadcast",
            json={"tool_name": "search_logs", "parameters": {"query": "q"}, "mcp_servers": ["a", "b", "dead"]},
        )
    assert response.status_code == 200
    finished = spans.get_finished_spans()
    (server,) = named(finished, "POST /mcp/invoke-broadcast")
    (broadcast,) = named(finished, "broadcast search_logs")
    legs = {span.attributes["mcp.server"]: span for span in finished if span.name.startswith("broadcast leg ")}
    assert server.kind == SpanKind.SERVER
    assert server.attributes["http.route"] == "/mcp/invoke-broadcast"
    assert broadcast.parent is not None
    assert server.context is not None
    assert broadcast.parent.span_id == server.context.span_id
    assert broadcast.attributes["mcp.broadcast.servers"] == 3
    assert broadcast.attributes["mcp.broadcast.failed"] == 1
    assert set(legs) == {"a", "b", "dead"}
    for name, leg in legs.items():
        assert leg.parent is not None
        assert broadcast.context is not None
        assert leg.parent.span_id == broadcast.context.span_id
        assert leg.attributes["mcp.tool"] == "search_logs"
        assert leg.attributes["mcp.duration_ms"] > 0
        assert leg.attributes["mcp.status"] == ("error" if name == "dead" else "success")
    assert legs["dead"].status.status_code == StatusCode.ERROR
    assert "dead" in (legs["dead"].status.description or "")
    assert legs["a"].status.status_code != StatusCode.ERROR
    assert {hex_trace(span) for span in (server, broadcast, *legs.values())} == {response.headers["x-trace-id"]}
    calls = {
        span.attributes["mcp.server"]: span
        for span in named(finished, "tools/call a") + named(finished, "tools/call b")
    }
    for name in ("a", "b"):
        call = calls[name]
        assert call.kind == SpanKind.CLIENT
        assert call.parent is not None
        assert legs[name].context is not None
        assert call.parent.span_id == legs[name].context.span_id
        assert (call.attributes["mcp.method"], call.attributes["mcp.tool"]) == ("tools/call", "search_logs")
        assert call.attributes["mcp.status"] == "success"
        assert call.attributes["mcp.session.id"]


async def test_backends_receive_the_trace_context_of_their_call_span(
    backends: Callable[..., Backend], gateway: Gateway, spans: InMemorySpanExporter
) -> None:
    alpha = backends("alpha")
    incoming_trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    async with gateway({"alpha": entry(alpha)}) as client:
        response = await client.post(
            "/mcp/invoke",
            params={"mcp_server": "alpha"},
            json={"tool_name": "echo", "parameters": {"text": "x"}},
            headers={"traceparent": f"00-{incoming_trace}-00f067aa0ba902b7-01"},
        )
    assert response.headers["x-trace-id"] == incoming_trace  # the caller's trace is continued
    (call_span,) = named(spans.get_finished_spans(), "tools/call alpha")
    received = alpha.calls("tools/call")[-1].headers["traceparent"]
    _, trace_id, parent_id, _ = received.split("-")
    assert call_span.context is not None
    assert trace_id == incoming_trace
    assert parent_id == format(call_span.context.span_id, "016x")


async def test_a_failing_backend_call_span_has_error_status(
    backends: Callable[..., Backend], gateway: Gateway, spans: InMemorySpanExporter
) -> None:
    alpha = backends("alpha")
    async with gateway({"alpha": entry(alpha)}) as client:
        await client.post(
            "/mcp/invoke", params={"mcp_server": "alpha"}, json={"tool_name": "fail", "parameters": {"message": "m"}}
        )
    (call_span,) = named(spans.get_finished_spans(), "tools/call alpha")
    assert call_span.status.status_code == StatusCode.ERROR
    assert call_span.attributes["mcp.status"] == "error"


async def test_catalog_refreshes_are_traced(
    backends: Callable[..., Backend], gateway: Gateway, spans: InMemorySpanExporter
) -> None:
    async with gateway({"alpha": entry(backends("alpha")), "dead": {"url": DEAD}}) as client:
        await client.get("/tools")
    finished = spans.get_finished_spans()
    (alpha,) = named(finished, "catalog refresh alpha")[:1]
    (dead,) = named(finished, "catalog refresh dead")[:1]
    assert alpha.attributes["mcp.tool_count"] >= 1
    assert dead.status.status_code == StatusCode.ERROR
    assert any(span.parent is not None and span.parent.span_id == alpha.context.span_id for span in finished)  # type: ignore[union-attr]


async def test_health_and_metrics_are_not_traced(gateway: Gateway, spans: InMemorySpanExporter) -> None:
    async with gateway({}) as client:
        await client.get("/health/live")
        await client.get("/metrics")
    assert not [span for span in spans.get_finished_spans() if span.kind == SpanKind.SERVER]


class OtlpReceiver:
    """A minimal OTLP/HTTP trace receiver: decodes each POST /v1/traces protobuf body."""

    def __init__(self) -> None:
        self.requests: list[ExportTraceServiceRequest] = []
        self.content_types: list[str] = []
        self._lock = threading.Lock()

    def app(self) -> Litestar:
        @post("/v1/traces", status_code=200)
        async def traces(request: Request[object, object, object]) -> Response[bytes]:
            body = await request.body()
            if request.headers.get("content-encoding") == "gzip":
                body = gzip.decompress(body)
            message = ExportTraceServiceRequest()
            message.ParseFromString(body)
            with self._lock:
                self.requests.append(message)
                self.content_types.append(request.headers.get("content-type", ""))
            return Response(b"", media_type="application/x-protobuf")

        return Litestar([traces])

    def spans(self) -> list[object]:
        return [
            span
            for request in self.requests
            for resource_spans in request.resource_spans
            for scope_spans in resource_spans.scope_spans
            for span in scope_spans.spans
        ]


async def test_spans_are_exported_over_otlp_http_with_their_parent_links(
    backends: Callable[..., Backend], gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver = OtlpReceiver()
    with serve_asgi(receiver.app()) as url:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
        servers = {"a": entry(backends("a")), "b": entry(backends("b"))}
        async with gateway(servers) as client:
            response = await client.post(
                "/mcp/invoke-broadcast", json={"tool_name": "echo", "parameters": {"text": "x"}}
            )
        # Shutdown flushed the batch processor: everything has arrived.
    assert receiver.content_types
    assert all(t == "application/x-protobuf" for t in receiver.content_types)
    resource = receiver.requests[0].resource_spans[0].resource
    attributes = {kv.key: kv.value.string_value for kv in resource.attributes}
    assert attributes["service.name"] == "mcp-gateway"
    exported = [s for s in receiver.spans() if s.trace_id.hex() == response.headers["x-trace-id"]]  # type: ignore[attr-defined]
    by_name = {s.name: s for s in exported}  # type: ignore[attr-defined]
    server, broadcast = by_name["POST /mcp/invoke-broadcast"], by_name["broadcast echo"]
    assert broadcast.parent_span_id == server.span_id
    legs = [s for s in exported if s.name.startswith("broadcast leg ")]  # type: ignore[attr-defined]
    assert len(legs) == 2
    assert all(leg.parent_span_id == broadcast.span_id for leg in legs)
    calls = [s for s in exported if s.name.startswith("tools/call ")]  # type: ignore[attr-defined]
    assert {c.parent_span_id for c in calls} == {leg.span_id for leg in legs}
