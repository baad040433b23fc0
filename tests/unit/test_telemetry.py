"""Tracing configuration from the standard OTEL_* variables."""

from __future__ import annotations

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

from app import __version__
from app.telemetry import build_resource, exporters_from_env


def exporter_of(processor: object) -> object:
    assert isinstance(processor, BatchSpanProcessor)
    return processor.span_exporter


def test_no_endpoint_means_no_exporter() -> None:
    assert exporters_from_env({}) == []


def test_an_endpoint_turns_on_otlp_over_http() -> None:
    (processor,) = exporters_from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"})
    exporter = exporter_of(processor)
    assert isinstance(exporter, OTLPSpanExporter)
    assert exporter._endpoint == "http://collector:4318/v1/traces"
    processor.shutdown()


def test_the_traces_endpoint_is_used_as_given() -> None:
    (processor,) = exporters_from_env(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://b:4318/x"}
    )
    assert exporter_of(processor)._endpoint == "http://b:4318/x"  # type: ignore[attr-defined]
    processor.shutdown()


def test_exporter_none_wins() -> None:
    assert exporters_from_env({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318"}) == []


def test_console_exporter() -> None:
    (processor,) = exporters_from_env({"OTEL_TRACES_EXPORTER": "console"})
    assert isinstance(exporter_of(processor), ConsoleSpanExporter)
    processor.shutdown()


def test_resource_names_the_service_and_version() -> None:
    attributes = build_resource({}).attributes
    assert (attributes["service.name"], attributes["service.version"]) == ("mcp-gateway", __version__)


def test_otel_service_name_and_resource_attributes_are_respected() -> None:
    attributes = build_resource(
        {"OTEL_SERVICE_NAME": "gw-eu", "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=prod,service.name=x"}
    ).attributes
    assert attributes["service.name"] == "gw-eu"
    assert attributes["deployment.environment"] == "prod"


def test_spans_are_recorded_only_while_an_exporter_is_attached() -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from app.telemetry import SpanProcessorSet, WhileExporting

    processors = SpanProcessorSet()
    provider = TracerProvider(sampler=WhileExporting(processors))
    provider.add_span_processor(processors)
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("idle") as idle:
        assert not idle.is_recording()
        assert idle.get_span_context().is_valid  # still a trace id to propagate and report
    exporter = InMemorySpanExporter()
    processor = SimpleSpanProcessor(exporter)
    processors.add(processor)
    with tracer.start_as_current_span("exported") as exported:
        assert exported.is_recording()
    processors.remove(processor)
    assert [span.name for span in exporter.get_finished_spans()] == ["exported"]
