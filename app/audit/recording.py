"""Recording audit events from request handling: ``audited(...)`` around an operation, and helpers.

The HTTP layer binds the app's :class:`AuditLog` to each request (:func:`bind_request`); code serving
the request then records without having the log passed down:

- ``async with audited("invoke_tool", mcp_server=…, tool_name=…, parameters=…) as op:`` times the
  block and records one event when it ends: ``success``, or the status its exception maps to
  (:func:`outcome_of`). ``op.fail(...)`` marks an outcome that is not an exception (a tool's ``isError``).
- Domain services refine the operation in progress through :func:`current_operation` (the server a
  routed call went to, ``broadcast`` for a fan-out) and record one event per broadcast leg.
- Refusals that happen before any handler runs are recorded by ``refusals``.

Outside a request (background refreshes, tests of bare services) nothing is bound and nothing is recorded.
"""

from __future__ import annotations

import logging
import time
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from opentelemetry import trace

from app.audit.event import AuditEvent, AuditStatus, level_for
from app.audit.outcomes import Outcome, outcome_of
from app.audit.pipeline import AuditLog
from app.audit.redaction import bounded_parameters, encodable, redact_text
from app.domain.caller import current_call

__all__ = (
    "AuditedOperation",
    "RequestAudit",
    "audited",
    "bind_request",
    "current_operation",
    "current_request",
    "current_trace_id",
    "detach_operation",
    "reset_request",
)

logger = logging.getLogger("mcp_gateway.audit")


class RequestAudit:
    """What the audit layer keeps for one HTTP request."""

    __slots__ = ("denial_recorded", "log", "recorded")

    def __init__(self, log: AuditLog) -> None:
        self.log = log
        self.recorded: list[BaseException] = []
        """Exceptions an operation already recorded (the exception hook must not record them again)."""
        self.denial_recorded = False
        """An authentication failure or denial was recorded for this request."""


_REQUEST: ContextVar[RequestAudit | None] = ContextVar("mcp_gateway_audit_request", default=None)
_OPERATION: ContextVar[AuditedOperation | None] = ContextVar("mcp_gateway_audit_operation", default=None)


def bind_request(log: AuditLog) -> Token[RequestAudit | None]:
    """Record this request's events in ``log`` (returns the token for :func:`reset_request`)."""
    return _REQUEST.set(RequestAudit(log))


def current_request() -> RequestAudit | None:
    """The audit state of the request being served (``None`` outside one)."""
    return _REQUEST.get()


def reset_request(token: Token[RequestAudit | None]) -> None:
    _REQUEST.reset(token)


def current_operation() -> AuditedOperation | None:
    """The audited operation the current task works for, if any."""
    return _OPERATION.get()


def detach_operation() -> None:
    """What this task does from now on is not part of the current operation (a broadcast leg records its own)."""
    _OPERATION.set(None)


def current_trace_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


class AuditedOperation:
    """One operation being audited; records its event when the ``async with`` block ends."""

    __slots__ = (
        "_bounded",
        "_failure",
        "_started",
        "_token",
        "action",
        "event_type",
        "log",
        "mcp_server",
        "parameters",
        "request",
        "response_status",
        "timestamp",
        "tool_name",
        "trace_id",
    )

    def __init__(
        self,
        request: RequestAudit | None,
        action: str,
        *,
        event_type: str,
        mcp_server: str | None,
        tool_name: str | None,
        parameters: dict[str, Any] | None,
        response_status: int,
    ) -> None:
        self.request = request
        self.log = request.log if request is not None and request.log.enabled else None
        self.action = action
        """What is being done; a domain service may refine it (``invoke_tool`` → ``broadcast``)."""
        self.event_type = event_type
        self.mcp_server = mcp_server
        """The server the operation went to, when it went to one (routing may fill it in)."""
        self.tool_name = tool_name
        self.parameters = parameters
        self.response_status = response_status
        """HTTP status recorded on success (``201`` for a creation)."""
        self.timestamp = datetime.now(UTC)
        self.trace_id: str | None = None
        self._started = time.perf_counter()
        self._failure: Outcome | None = None
        self._bounded = False
        self._token: Token[AuditedOperation | None] | None = None

    def fail(self, message: str, *, response_status: int | None = None, denied: bool = False) -> None:
        """Record this operation as failed (or denied) even though no exception ends it."""
        status: AuditStatus = "denied" if denied else "error"
        self._failure = (status, response_status or self.response_status, redact_text(message))

    def fail_with(self, exc: BaseException) -> None:
        """Record this operation as ending the way ``exc`` maps (for an error answered, not raised)."""
        self._failure = outcome_of(exc)

    def note_tool_result(self, result: dict[str, Any]) -> None:
        """An MCP ``CallToolResult`` with ``isError``: the operation failed (unless a failure is already noted)."""
        if self._failure is not None or not result.get("isError"):
            return
        content = result.get("content")
        texts = [c.get("text") for c in content if isinstance(c, dict)] if isinstance(content, list) else []
        self.fail("; ".join(t for t in texts if isinstance(t, str) and t) or "the tool reported an error")

    def record_leg(
        self,
        *,
        mcp_server: str,
        started: datetime,
        duration_ms: float,
        failure: BaseException | str | None,
    ) -> None:
        """One ``broadcast_leg`` event of this (broadcast) operation; ``failure`` is an error or a tool's error text."""
        if self.log is None:
            return
        if failure is None:
            outcome: Outcome = ("success", 200, None)
        elif isinstance(failure, str):
            outcome = ("error", 200, redact_text(failure))
        else:
            outcome = outcome_of(failure)
        self._emit("broadcast_leg", mcp_server, started, duration_ms, outcome, current_trace_id())

    async def __aenter__(self) -> AuditedOperation:
        self._token = _OPERATION.set(self)
        if self.log is not None:
            self.trace_id = current_trace_id()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._token is not None:
            _OPERATION.reset(self._token)
        if self.log is None:
            return
        if exc is not None and self._failure is None:
            outcome = outcome_of(exc)
        else:
            outcome = self._failure or ("success", self.response_status, None)
        if exc is not None and self.request is not None:
            self.request.recorded.append(exc)
            if outcome[0] == "denied":
                self.request.denial_recorded = True
        duration = round((time.perf_counter() - self._started) * 1000, 3)
        self._emit(self.action, self.mcp_server, self.timestamp, duration, outcome, self.trace_id)

    def _emit(
        self,
        action: str,
        mcp_server: str | None,
        started: datetime,
        duration_ms: float,
        outcome: Outcome,
        trace_id: str | None,
    ) -> None:
        assert self.log is not None
        try:
            event = self._event(action, mcp_server, started, duration_ms, outcome, trace_id)
        except Exception:  # recording must never fail the operation it records
            logger.exception("audit event for %s could not be built", action)
            self.log.count_unrecorded()
            return
        self.log.emit(event)

    def _event(
        self,
        action: str,
        mcp_server: str | None,
        started: datetime,
        duration_ms: float,
        outcome: Outcome,
        trace_id: str | None,
    ) -> AuditEvent:
        assert self.log is not None
        if not self._bounded:  # redact once, on the first event (legs share the operation's parameters)
            self.parameters = bounded_parameters(self.parameters, self.log.max_parameter_bytes)
            self._bounded = True
        call = current_call()
        status, response_status, error = outcome
        return AuditEvent(
            timestamp=started,
            level=level_for(status),
            event_type=self.event_type,
            user=encodable(call.principal.name),
            action=action,
            mcp_server=_text(mcp_server),
            tool_name=_text(self.tool_name),
            parameters=self.parameters,
            status=status,
            duration_ms=duration_ms,
            response_status=response_status,
            request_id=call.request_id or None,
            trace_id=trace_id,
            client=call.client or None,
            error=error,
        )


def _text(value: str | None) -> str | None:
    return encodable(value) if value is not None else None


def audited(
    action: str,
    *,
    event_type: str = "mcp_request",
    mcp_server: str | None = None,
    tool_name: str | None = None,
    parameters: dict[str, Any] | None = None,
    response_status: int = 200,
) -> AuditedOperation:
    """``async with audited(...) as op:`` — one audit event for the block (see the module docstring)."""
    return AuditedOperation(
        _REQUEST.get(),
        action,
        event_type=event_type,
        mcp_server=mcp_server,
        tool_name=tool_name,
        parameters=parameters,
        response_status=response_status,
    )
