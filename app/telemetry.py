"""Tracing set-up: a tracer provider for the process, so every backend request carries a trace context.

Exporting (OTLP to Jaeger or a collector) is configured from the standard ``OTEL_*`` variables by the
OpenTelemetry SDK; without an exporter, spans are created for propagation only and then dropped.
"""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

from app import __version__

__all__ = ("configure_tracing",)


def configure_tracing() -> None:
    """Install the SDK tracer provider once per process (a provider already installed is kept)."""
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    resource = Resource.create({"service.name": "mcp-gateway", "service.version": __version__})
    trace.set_tracer_provider(TracerProvider(resource=resource))
