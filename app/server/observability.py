"""ObservabilityPlugin: the audit trail, tracing and metrics of one app.

- Each HTTP request runs in an OpenTelemetry server span (Litestar's OpenTelemetry plugin; a caller's
  ``traceparent`` is continued), named by its route template, whose trace id is answered in
  ``X-Trace-Id``. ``/health``, ``/health/live`` and ``/metrics`` are not traced.
- The app's :class:`AuditLog` is bound to each request, so handlers and services record with
  ``audited(...)``; refusals (401/403) no handler recorded are recorded by an exception hook.
- Request counts and latencies by route feed the app's Prometheus registry (``GET /metrics``).

Start-up attaches the exporters ``OTEL_*`` asks for and starts the audit writers; shutdown flushes both.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import DefineMiddleware
from litestar.plugins import InitPluginProtocol
from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryInstrumentationMiddleware
from litestar.plugins.opentelemetry import OpenTelemetryPlugin as LitestarOpenTelemetryPlugin
from opentelemetry import trace
from opentelemetry.semconv.attributes.http_attributes import HTTP_ROUTE

from app.api.audit import AuditController
from app.api.metrics import MetricsController
from app.audit import AuditLog, SinkStats, bind_request, record_denial, reset_request
from app.audit.database import DatabaseSink
from app.audit.sinks import AuditSink, JsonLinesFileSink, StdoutSink
from app.db.engine import create_engine
from app.metrics import GatewayMetrics
from app.settings import Settings
from app.telemetry import AppTracing, context_only_span, tracing_exported

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.config.app import AppConfig
    from litestar.datastructures import State
    from litestar.types import Message, Receive, Scope, Send

__all__ = ("TRACE_ID_HEADER", "ObservabilityMiddleware", "ObservabilityPlugin", "build_audit_log")

logger = logging.getLogger("mcp_gateway")
TRACE_ID_HEADER = "x-trace-id"
"""Response header carrying the request's W3C trace id (32 hex digits), for finding the trace in Jaeger."""
_UNTRACED = frozenset({"/health", "/health/live", "/metrics"})
_UNMATCHED = "<unmatched>"
"""Route label of requests no route matched (keeps the label set bounded)."""


def build_audit_log(settings: Settings) -> AuditLog:
    """The audit log with the sinks the settings enable (file, stdout, database)."""
    sinks: list[AuditSink] = []
    if settings.audit_log_file:
        sinks.append(JsonLinesFileSink(settings.audit_log_file))
    if settings.audit_to_stdout:
        sinks.append(StdoutSink())
    if settings.audit_db_enabled:
        sinks.append(DatabaseSink(create_engine(settings.database_url, background_writer=True)))
    return AuditLog(
        sinks,
        queue_size=settings.audit_queue_size,
        batch_size=settings.audit_batch_size,
        batch_wait_seconds=settings.audit_batch_wait_seconds,
        retry_attempts=settings.audit_retry_attempts,
        max_parameter_bytes=settings.audit_max_parameter_bytes,
    )


class ObservabilityMiddleware(OpenTelemetryInstrumentationMiddleware):
    """Outermost middleware: server span, ``X-Trace-Id``, audit binding and HTTP metrics for one request."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.open_telemetry_middleware(scope, receive, send)  # type: ignore[arg-type]
            return
        state: State = scope["app"].state
        audit: AuditLog | None = state.get("audit")
        metrics: GatewayMetrics | None = state.get("metrics")
        method = str(scope.get("method", ""))
        status = 500
        started = time.perf_counter()

        async def send_observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                span = trace.get_current_span()
                context = span.get_span_context()
                if context.is_valid:
                    MutableScopeHeaders.from_message(message)[TRACE_ID_HEADER] = format(context.trace_id, "032x")
                route = scope.get("path_template")
                if route and span.is_recording():
                    span.update_name(f"{method} {route}")
                    span.set_attribute(HTTP_ROUTE, route)
            await send(message)

        token = bind_request(audit) if audit is not None else None
        try:
            if scope["path"] in _UNTRACED:
                await self.app(scope, receive, send_observed)
            elif not tracing_exported():
                # Nothing would be exported: keep the trace context (X-Trace-Id, traceparent to backends)
                # without the instrumented server span's per-request work.
                with trace.use_span(context_only_span(scope["headers"]), end_on_exit=False):
                    await self.app(scope, receive, send_observed)
            else:
                await self.open_telemetry_middleware(scope, receive, send_observed)  # type: ignore[arg-type]
        finally:
            if token is not None:
                reset_request(token)
            if metrics is not None:
                route = scope.get("path_template") or _UNMATCHED
                metrics.observe_http(method, route, status, time.perf_counter() - started)


class OpenTelemetryPlugin(LitestarOpenTelemetryPlugin):
    """Litestar's OpenTelemetry plugin, honouring ``config.middleware_class`` (2.x ignores it).

    The class name must stay ``OpenTelemetryPlugin``: Litestar finds the plugin by that name to wrap the app.
    """

    @property
    def middleware(self) -> DefineMiddleware:
        return self.config.middleware


def _record_refusal(exc: Exception, scope: Scope) -> None:
    """After-exception hook: a 401/403 raised before any audited operation (a guard) is recorded."""
    record_denial(exc, method=str(scope.get("method", "")), path=scope.get("path"))


class ObservabilityPlugin(InitPluginProtocol):
    """Adds tracing, the audit trail (``GET /audit``) and metrics (``GET /metrics``) to the app."""

    __slots__ = ("_state", "metrics", "settings")

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.metrics = GatewayMetrics()
        """This app's registry; backend health and audit queues are read from the running services."""
        self._state: State | None = None
        self.metrics.watch(self._backend_health, self._audit_stats, self._backend_circuits)

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.route_handlers.append(AuditController)
        if self.settings.metrics_enabled:
            app_config.route_handlers.append(MetricsController)
        app_config.plugins.append(
            OpenTelemetryPlugin(
                OpenTelemetryConfig(
                    middleware_class=ObservabilityMiddleware,
                    tracer_provider=None,  # the process provider (app.telemetry), whatever the test attached
                    exclude_spans=["receive", "send"],
                )
            )
        )
        app_config.after_exception.append(_record_refusal)
        app_config.state["metrics"] = self.metrics
        app_config.lifespan.insert(0, self._lifespan)  # first in, last out: flushes after the services stop
        return app_config

    @asynccontextmanager
    async def _lifespan(self, app: Litestar) -> AsyncIterator[None]:
        tracing = AppTracing()
        tracing.start()
        audit = build_audit_log(self.settings)
        audit.start()
        app.state.audit = audit
        self._state = app.state
        try:
            yield
        finally:
            await audit.aclose(self.settings.audit_flush_seconds)
            tracing.stop()
            self._state = None

    def _backend_circuits(self) -> Iterator[tuple[str, str, int]]:
        services: Any = self._state.get("services") if self._state is not None else None
        if services is None:
            return
        for name, guard in services.pool.guards().items():
            yield name, guard.state, guard.in_flight

    def _backend_health(self) -> Iterator[tuple[str, bool]]:
        services: Any = self._state.get("services") if self._state is not None else None
        if services is None:
            return
        for server in services.directory.enabled():
            entry = services.catalog.entry(server.name)
            if entry is not None and entry.refreshed_at is not None:
                yield server.name, entry.error is None

    def _audit_stats(self) -> list[SinkStats]:
        audit: AuditLog | None = self._state.get("audit") if self._state is not None else None
        return audit.stats() if audit is not None else []
