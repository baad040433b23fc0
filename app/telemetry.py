"""Tracing set-up: the process's tracer provider, and the exporters each running app attaches to it.

OpenTelemetry lets a process set its global tracer provider once. :func:`configure_tracing` installs
the SDK provider (resource ``service.name`` = ``OTEL_SERVICE_NAME`` or ``mcp-gateway``, ``service.version``,
plus ``OTEL_RESOURCE_ATTRIBUTES``; sampler from ``OTEL_TRACES_SAMPLER``) with one
:class:`SpanProcessorSet`. A running app attaches its exporters to that set at start-up and detaches
them, flushed, at shutdown (:class:`AppTracing`); tests attach an in-memory exporter the same way.

Exporters come from the standard variables: ``OTEL_TRACES_EXPORTER`` (``otlp`` by default, ``console``,
``none``; comma-separated). OTLP goes over HTTP/protobuf in a ``BatchSpanProcessor`` to
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_ENDPOINT`` + ``/v1/traces``), and only
when one of them is set or ``otlp`` is named explicitly; headers, timeout, compression and the batch
processor's ``OTEL_BSP_*`` knobs are read by the SDK itself. Without an exporter spans still exist:
their context travels to backends (``traceparent``) and their trace ids reach audit records.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider, sampling
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import Link, NonRecordingSpan, SpanContext, SpanKind, TraceFlags
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

from app import __version__

__all__ = (
    "AppTracing",
    "SpanProcessorSet",
    "WhileExporting",
    "attached_span_processor",
    "build_resource",
    "configure_tracing",
    "context_only_span",
    "exporters_from_env",
    "span_when_exported",
    "tracing_exported",
)

logger = logging.getLogger("mcp_gateway.telemetry")
SERVICE_NAME = "mcp-gateway"


class SpanProcessorSet(SpanProcessor):
    """Span processors that can be added and removed while the provider runs (the SDK's cannot)."""

    def __init__(self) -> None:
        self._processors: tuple[SpanProcessor, ...] = ()
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        """Whether any exporter is attached (without one, recording spans would be wasted work)."""
        return bool(self._processors)

    def add(self, processor: SpanProcessor) -> None:
        with self._lock:
            self._processors = (*self._processors, processor)

    def remove(self, processor: SpanProcessor) -> None:
        with self._lock:
            self._processors = tuple(p for p in self._processors if p is not processor)

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        for processor in self._processors:
            processor.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        for processor in self._processors:
            processor.on_end(span)

    def shutdown(self) -> None:
        for processor in self._processors:
            processor.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return all(processor.force_flush(timeout_millis) for processor in self._processors)


_process_processors: SpanProcessorSet | None = None
"""The set installed in the process's provider (a process-wide value because the OTel global is one)."""
_install_lock = threading.Lock()


def build_resource(environ: Mapping[str, str]) -> Resource:
    """``service.name`` (``OTEL_SERVICE_NAME`` wins), ``service.version`` and ``OTEL_RESOURCE_ATTRIBUTES``."""
    attributes: dict[str, str] = {}
    for pair in environ.get("OTEL_RESOURCE_ATTRIBUTES", "").split(","):
        key, _, value = pair.partition("=")
        if key.strip() and value.strip():
            attributes[key.strip()] = value.strip()
    attributes["service.name"] = environ.get("OTEL_SERVICE_NAME") or attributes.get("service.name") or SERVICE_NAME
    attributes.setdefault("service.version", __version__)
    return Resource.create(attributes)


class WhileExporting(Sampler):
    """The configured sampler (``OTEL_TRACES_SAMPLER``, default parent-based always-on) while an exporter is
    attached; otherwise spans are not recorded. Unrecorded spans still carry a trace id, so ``traceparent``
    propagation and ``X-Trace-Id`` work either way, at a fraction of the cost.
    """

    def __init__(self, processors: SpanProcessorSet, configured: Sampler | None = None) -> None:
        self._processors = processors
        self._configured = configured or sampling._get_from_env_or_default()

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        if not self._processors.active:
            return SamplingResult(Decision.DROP)
        return self._configured.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return f"WhileExporting({self._configured.get_description()})"


def tracing_exported() -> bool:
    """Whether spans recorded now go anywhere (an exporter is attached to the process's provider)."""
    return _process_processors is not None and _process_processors.active


def span_when_exported(
    tracer: trace.Tracer, name: str, *, kind: SpanKind = SpanKind.INTERNAL, attributes: Attributes = None
) -> AbstractContextManager[trace.Span]:
    """``tracer.start_as_current_span(name, …)`` while spans are exported; otherwise no new span and an
    invalid one to write attributes to: an unrecorded child would cost a span id and a context switch per
    call and show nowhere, and the trace context the current span carries propagates the same."""
    if _process_processors is not None and not _process_processors.active:
        return _NO_SPAN
    return tracer.start_as_current_span(name, kind=kind, attributes=attributes)


_NO_SPAN = nullcontext(trace.INVALID_SPAN)


def context_only_span(headers: Iterable[tuple[bytes, bytes]]) -> trace.Span:
    """A span that records nothing but carries a trace context: the caller's ``traceparent`` continued, or a
    new trace. Cheaper than the instrumented server span when nothing would be exported."""
    carrier = {key.decode("latin-1"): value.decode("latin-1") for key, value in headers if key == b"traceparent"}
    parent = trace.get_current_span(propagate.extract(carrier)).get_span_context()
    trace_id = parent.trace_id if parent.is_valid else _ids.generate_trace_id()
    flags = parent.trace_flags if parent.is_valid else TraceFlags(TraceFlags.DEFAULT)
    return NonRecordingSpan(SpanContext(trace_id, _ids.generate_span_id(), is_remote=False, trace_flags=flags))


_ids = RandomIdGenerator()


def configure_tracing(environ: Mapping[str, str] | None = None) -> SpanProcessorSet | None:
    """Install the SDK tracer provider once per process; returns its processor set.

    A provider someone else installed first (auto-instrumentation) is kept and given the set.
    ``OTEL_SDK_DISABLED=true`` installs nothing (spans are no-ops; ``None`` is returned).
    """
    global _process_processors  # noqa: PLW0603 - mirrors OpenTelemetry's own process-wide provider
    environ = os.environ if environ is None else environ
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    with _install_lock:
        if _process_processors is not None:
            return _process_processors
        processors = SpanProcessorSet()
        current = trace.get_tracer_provider()
        if isinstance(current, TracerProvider):
            current.add_span_processor(processors)
        else:
            provider = TracerProvider(resource=build_resource(environ), sampler=WhileExporting(processors))
            provider.add_span_processor(processors)
            trace.set_tracer_provider(provider)
            if trace.get_tracer_provider() is not provider:  # another non-SDK provider won the race
                logger.warning("a non-SDK tracer provider is installed; the gateway's spans are not exported")
        _process_processors = processors
        return processors


def exporters_from_env(environ: Mapping[str, str]) -> list[SpanProcessor]:
    """The span processors ``OTEL_TRACES_EXPORTER`` and the OTLP endpoint variables ask for."""
    named = [n.strip().lower() for n in environ.get("OTEL_TRACES_EXPORTER", "").split(",") if n.strip()]
    traces_endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
    base_endpoint = environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    if not named:
        named = ["otlp"] if traces_endpoint or base_endpoint else []
    processors: list[SpanProcessor] = []
    for name in dict.fromkeys(named):
        if name == "none":
            return []
        if name == "otlp":
            protocol = (
                environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or ""
            )
            if protocol.strip() and protocol.strip() != "http/protobuf":
                logger.warning("OTEL_EXPORTER_OTLP_PROTOCOL=%s is not available; exporting http/protobuf", protocol)
            endpoint = traces_endpoint or (f"{base_endpoint.rstrip('/')}/v1/traces" if base_endpoint else None)
            # Imported here: the exporter and protobuf take memory a gateway that exports nothing need not hold.
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            processors.append(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        elif name == "console":
            processors.append(BatchSpanProcessor(ConsoleSpanExporter()))
        else:
            logger.warning("OTEL_TRACES_EXPORTER=%s is not supported (use otlp, console or none)", name)
    return processors


@contextmanager
def attached_span_processor(processor: SpanProcessor) -> Iterator[SpanProcessor]:
    """Let ``processor`` see every span of the process while the block runs (flushed when it ends)."""
    processors = configure_tracing()
    if processors is None:
        yield processor
        return
    processors.add(processor)
    try:
        yield processor
    finally:
        processor.force_flush()
        processors.remove(processor)


class AppTracing:
    """One app's exporters: attached at start-up, flushed, shut down and detached at shutdown."""

    __slots__ = ("_environ", "_processors", "_set")

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ
        self._processors: list[SpanProcessor] = []
        self._set: SpanProcessorSet | None = None

    def start(self) -> None:
        self._set = configure_tracing(self._environ)
        if self._set is None:
            return
        self._processors.extend(exporters_from_env(self._environ))
        for processor in self._processors:
            self._set.add(processor)

    def stop(self) -> None:
        """Export what is pending, then stop exporting (called at shutdown)."""
        if self._set is None:
            return
        for processor in self._processors:
            self._set.remove(processor)
            try:
                processor.shutdown()  # a BatchSpanProcessor flushes what it holds first
            except Exception:
                logger.exception("span exporter shutdown failed")
        self._processors.clear()
        self._set = None
