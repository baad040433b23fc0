"""Prometheus metrics of one app, on a registry of its own (several apps in one process never collide).

mcp_gateway_http_requests_total{method,route,status}          requests answered, by route template
mcp_gateway_http_request_duration_seconds{method,route}       request latency
mcp_gateway_backend_request_duration_seconds{server,method,outcome}  each MCP request to a backend
mcp_gateway_tool_calls_total{server,tool,status}              tools/call per backend (success/error)
mcp_gateway_backend_up{server}                                1 reachable, 0 failing (last contact)
mcp_gateway_backend_circuit_open{server}                      0 closed, 1 open, 0.5 half-open (one probe allowed)
mcp_gateway_backend_in_flight{server}                         requests to the backend running now
mcp_gateway_audit_queue_depth{sink}                           audit events waiting to be written
mcp_gateway_audit_events_written_total{sink}
mcp_gateway_audit_events_dropped_total{sink,reason}           audit events given up
mcp_gateway_event_loop_tasks                                  tasks alive on the event loop
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.audit import SinkStats

__all__ = ("BackendCircuits", "BackendHealth", "GatewayMetrics")

BackendHealth = Callable[[], Iterable[tuple[str, bool]]]
"""Yields ``(server, up)`` for every enabled server whose state is known."""
BackendCircuits = Callable[[], Iterable[tuple[str, str, int]]]
"""Yields ``(server, circuit state, requests in flight)`` for every backend this process has talked to."""
_CIRCUIT_VALUE = {"closed": 0.0, "half_open": 0.5, "open": 1.0}
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class _LiveState(Collector):
    """Values read at scrape time from the running services (backend health, audit queues)."""

    def __init__(
        self, backends: BackendHealth, audit: Callable[[], list[SinkStats]], circuits: BackendCircuits
    ) -> None:
        self._backends = backends
        self._audit = audit
        self._circuits = circuits

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "mcp_gateway_backend_up",
            "Whether the last contact with a backend succeeded (1) or failed (0)",
            labels=["server"],
        )
        for server, reachable in self._backends():
            up.add_metric([server], 1.0 if reachable else 0.0)
        yield up
        circuit = GaugeMetricFamily(
            "mcp_gateway_backend_circuit_open",
            "Circuit breaker of a backend: 0 closed, 1 open (calls fail fast), 0.5 half-open",
            labels=["server"],
        )
        in_flight = GaugeMetricFamily(
            "mcp_gateway_backend_in_flight", "Requests to a backend running now", labels=["server"]
        )
        for server, state, running in self._circuits():
            circuit.add_metric([server], _CIRCUIT_VALUE.get(state, 1.0))
            in_flight.add_metric([server], float(running))
        yield circuit
        yield in_flight
        depth = GaugeMetricFamily(
            "mcp_gateway_audit_queue_depth", "Audit events waiting to be written", labels=["sink"]
        )
        written = CounterMetricFamily("mcp_gateway_audit_events_written", "Audit events written", labels=["sink"])
        dropped = CounterMetricFamily(
            "mcp_gateway_audit_events_dropped", "Audit events given up, by reason", labels=["sink", "reason"]
        )
        for stats in self._audit():
            depth.add_metric([stats.sink], float(stats.queued))
            written.add_metric([stats.sink], float(stats.written))
            for reason in ("queue_full", "write_failed", "rejected", "shutdown", "closed", "invalid"):
                dropped.add_metric([stats.sink, reason], float(stats.dropped.get(reason, 0)))
        yield depth
        yield written
        yield dropped
        tasks = GaugeMetricFamily(
            "mcp_gateway_event_loop_tasks", "Tasks alive on the serving event loop (a leak shows as steady growth)"
        )
        with contextlib.suppress(RuntimeError):  # scraped outside a running loop: nothing to report
            tasks.add_metric([], float(len(asyncio.all_tasks())))
        yield tasks


class GatewayMetrics:
    """The app's metrics and the hooks that feed them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "mcp_gateway_http_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_duration = Histogram(
            "mcp_gateway_http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.backend_duration = Histogram(
            "mcp_gateway_backend_request_duration_seconds",
            "Latency of MCP requests to backends",
            ["server", "method", "outcome"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.tool_calls = Counter(
            "mcp_gateway_tool_calls",
            "tools/call requests to backends",
            ["server", "tool", "status"],
            registry=self.registry,
        )

        # The labelled series of each label set, kept: ``labels()`` costs a lock and a look-up per call, and
        # the registry keeps every series it has handed out anyway.
        self._http_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self._backend_children: dict[tuple[str, str, str | None, str], tuple[Histogram, Counter | None]] = {}

    def watch(self, backends: BackendHealth, audit: Callable[[], list[SinkStats]], circuits: BackendCircuits) -> None:
        """Report backend health, circuits and audit queues, read from the running services at each scrape."""
        self.registry.register(_LiveState(backends, audit, circuits))

    def observe_http(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        children = self._http_children.get(key)
        if children is None:
            children = (self.http_requests.labels(method, route, str(status)), self.http_duration.labels(method, route))
            self._http_children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def observe_backend(self, server: str, method: str, tool: str | None, outcome: str, seconds: float) -> None:
        """One MCP request to a backend ended (the ``BackendObserver`` of the client)."""
        key = (server, method, tool, outcome)
        children = self._backend_children.get(key)
        if children is None:
            duration = self.backend_duration.labels(server, method, outcome)
            children = (duration, self.tool_calls.labels(server, tool, outcome) if tool is not None else None)
            self._backend_children[key] = children
        children[0].observe(seconds)
        if children[1] is not None:
            children[1].inc()

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)
