"""Invoker (one server) and Broadcaster (the same call on many servers, concurrently)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import StatusCode

from app.adapters.mcp_client.session_base import ServerRequestHandler
from app.audit import AuditedOperation, current_operation, detach_operation
from app.domain.access import AccessPolicy
from app.domain.backends import BackendPool
from app.domain.catalog.catalog import ToolCatalog
from app.domain.invocation.results import BroadcastOutcome, CallOutcome
from app.domain.registry.directory import ServerDirectory
from app.errors import GatewayError, ToolNotFound
from app.telemetry import span_when_exported

__all__ = ("Broadcaster", "Invoker")

_tracer = trace.get_tracer("mcp_gateway.broadcast")


class Invoker:
    """Runs one ``tools/call`` on one named server."""

    __slots__ = ("_access", "_catalog", "_directory", "_pool")

    def __init__(
        self, directory: ServerDirectory, pool: BackendPool, catalog: ToolCatalog, access: AccessPolicy | None = None
    ) -> None:
        self._directory = directory
        self._pool = pool
        self._catalog = catalog
        self._access = access or AccessPolicy()

    async def call(
        self,
        server: str,
        tool: str,
        arguments: dict[str, Any] | None,
        on_progress: Callable[[dict[str, Any]], None] | None = None,
        on_request: ServerRequestHandler | None = None,
        *,
        extra: dict[str, Any] | None = None,
    ) -> CallOutcome:
        """Call ``tool`` on ``server``; ``on_request`` answers what the backend asks the caller (elicitation).

        Raises:
            ServerNotFound, ServerDisabled: the server cannot take calls.
            AccessDenied: the current caller may not use the server.
            ToolNotFound: the server is known not to offer ``tool`` (or its allow-list hides it).
            BackendError, CredentialUnavailable: the call itself failed.
        """
        operation = current_operation()
        if operation is not None and operation.mcp_server is None:
            operation.mcp_server = server  # a call routed by tool name: the audit record names its server
        registered = self._directory.get_enabled(server)
        self._access.check(registered)
        allowed = registered.config.tools
        entry = self._catalog.entry(server)
        known = {t.get("name") for t in entry.tools} if entry is not None and entry.tools is not None else None
        if (allowed is not None and tool not in allowed) or (known is not None and tool not in known):
            raise ToolNotFound(tool, server)
        started = time.perf_counter()
        result, raw = await self._pool.client(registered).call_tool(
            tool, arguments, on_progress=on_progress, on_request=on_request, extra=extra
        )
        return CallOutcome(server=server, tool=tool, duration_ms=_ms(started), result=result, raw=raw)

    async def try_call(self, server: str, tool: str, arguments: dict[str, Any] | None) -> CallOutcome:
        """Like :meth:`call`, but a failure is returned in the outcome instead of raised."""
        started = time.perf_counter()
        try:
            return await self.call(server, tool, arguments)
        except GatewayError as exc:
            return CallOutcome(server=server, tool=tool, duration_ms=_ms(started), error=exc)


class Broadcaster:
    """The same call on N servers: all legs start together, each bounded by its own server's timeout."""

    __slots__ = ("_invoker",)

    def __init__(self, invoker: Invoker) -> None:
        self._invoker = invoker

    async def call_all(
        self, tool: str, arguments: dict[str, Any] | None, servers: Sequence[str], *, excluded: int = 0
    ) -> BroadcastOutcome:
        """Call ``tool`` on every server in ``servers``; one leg's failure never affects the others.

        Traced as one span with a child per leg; each leg is audited as ``broadcast_leg`` and the
        operation in progress becomes a ``broadcast``. Cancelling the caller cancels every leg still running.
        """
        started = time.perf_counter()
        operation = current_operation()
        if operation is not None and operation.action == "invoke_tool":
            operation.action = "broadcast"
        targets = list(dict.fromkeys(servers))
        legs: dict[str, asyncio.Task[CallOutcome]] = {}
        attributes: dict[str, str | int] = {"mcp.tool": tool, "mcp.broadcast.servers": len(targets)}
        with span_when_exported(_tracer, f"broadcast {tool}", attributes=attributes) as span:
            async with asyncio.TaskGroup() as group:
                for server in targets:
                    legs[server] = group.create_task(self._leg(server, tool, arguments, operation))
            outcome = BroadcastOutcome(
                tool=tool,
                legs={server: task.result() for server, task in legs.items()},
                duration_ms=_ms(started),
                excluded=excluded,
            )
            span.set_attribute("mcp.broadcast.successful", outcome.successful)
            span.set_attribute("mcp.broadcast.failed", outcome.failed)
            span.set_attribute("mcp.duration_ms", outcome.duration_ms)
            if outcome.legs and outcome.successful == 0:
                span.set_status(StatusCode.ERROR, "every leg failed")
        if operation is not None and outcome.legs and outcome.successful == 0:
            operation.fail(f"'{tool}' failed on every server: {', '.join(outcome.legs)}")
        return outcome

    async def _leg(
        self, server: str, tool: str, arguments: dict[str, Any] | None, operation: AuditedOperation | None
    ) -> CallOutcome:
        detach_operation()  # the leg's own call must not re-target the whole broadcast's audit record
        started_at = datetime.now(UTC)
        with span_when_exported(
            _tracer, f"broadcast leg {server}", attributes={"mcp.server": server, "mcp.tool": tool}
        ) as span:
            outcome = await self._invoker.try_call(server, tool, arguments)
            span.set_attribute("mcp.status", "success" if outcome.ok else "error")
            span.set_attribute("mcp.duration_ms", outcome.duration_ms)
            if not outcome.ok:
                span.set_status(StatusCode.ERROR, outcome.failure or "failed")
        if operation is not None:
            failure = outcome.error or outcome.failure
            operation.record_leg(
                mcp_server=server, started=started_at, duration_ms=outcome.duration_ms, failure=failure
            )
        return outcome


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)
