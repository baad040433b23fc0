"""Recording audit events from request handling: ``audited(...)`` around an operation, and helpers.

The HTTP layer binds the app's :class:`AuditLog` to each request (:func:`bind_request`); code serving
the request then records without having the log passed down:

- ``async with audited("invoke_tool", mcp_server=…, tool_name=…, parameters=…) as op:`` times the
  block and records one event when it ends: ``success``, or the status its exception maps to
  (:func:`outcome_of`). ``op.fail(...)`` marks an outcome that is not an exception (a tool's ``isError``).
- Domain services refine the operation in progress through :func:`current_operation` (the server a
  routed call went to, ``broadcast`` for a fan-out) and record one event per broadcast leg.
- :func:`record_auth_failure` (authentication middleware) and :func:`record_denial` (the exception
  hook) record refusals that happen before any handler runs.

Outside a request (background refreshes, tests of bare services) nothing is bound and nothing is recorded.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from opentelemetry import trace

from app.audit.event import AuditEvent, AuditStatus, level_for
from app.audit.pipeline import AuditLog
from app.audit.redaction import bounded_parameters, encodable, redact_text
from app.domain.caller import current_call
from app.errors import AccessDenied, GatewayError, Unauthenticated

__all__ = (
    "AuditedOperation",
    "Outcome",
    "RequestAudit",
    "audited",
    "bind_request",
    "current_operation",
    "detach_operation",
    "outcome_of",
    "record_auth_failure",
    "record_denial",
    "reset_request",
)

logger = logging.getLogger("mcp_gateway.audit")
Outcome = tuple[AuditStatus, int, str | None]
"""``(status, response_status, error)`` of a finished operation."""
_CANCELLED = 499
"""Status recorded when the caller went away before the answer (nginx's "client closed request")."""


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


def reset_request(token: Token[RequestAudit | None]) -> None:
    _REQUEST.reset(token)


def current_operation() -> AuditedOperation | None:
    """The audited operation the current task works for, if any."""
    return _OPERATION.get()


def detach_operation() -> None:
    """What this task does from now on is not part of the current operation (a broadcast leg records its own)."""
    _OPERATION.set(None)


def outcome_of(exc: BaseException) -> Outcome:
    """Map an exception (or what it was raised from) to ``(status, response_status, error)``.

    401/403 refusals are ``denied``; other gateway and HTTP errors ``error`` with their status;
    a cancelled call is ``error`` with 499; anything else ``error`` with 500 and only its class name
    (an unexpected exception's text may hold anything).
    """
    seen: BaseException | None = exc
    for _ in range(6):  # the error a handler converted (raise RpcFailure(...) from None keeps __context__)
        if seen is None:
            break
        if isinstance(seen, AccessDenied | Unauthenticated):
            return "denied", seen.status_code, redact_text(seen.message)
        if isinstance(seen, GatewayError):
            return "error", seen.status_code, redact_text(seen.message)
        seen = seen.__cause__ or seen.__context__
    if isinstance(exc, asyncio.CancelledError):
        return "error", _CANCELLED, "cancelled: the caller went away"
    status = getattr(exc, "status_code", None) or getattr(exc, "http_status", None)
    if isinstance(status, int) and 400 <= status < 600:
        detail = getattr(exc, "detail", None) or getattr(exc, "message", None) or str(exc)
        return ("denied" if status in {401, 403} else "error"), status, redact_text(str(detail))
    return "error", 500, f"internal error ({type(exc).__name__})"


def _trace_id() -> str | None:
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
        self._emit("broadcast_leg", mcp_server, started, duration_ms, outcome, _trace_id())

    async def __aenter__(self) -> AuditedOperation:
        self._token = _OPERATION.set(self)
        if self.log is not None:
            self.trace_id = _trace_id()
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


def _emit_refusal(
    request: RequestAudit, action: str, status: int, error: str, method: str | None, path: str | None, user: str | None
) -> None:
    call = current_call()
    parameters = {key: encodable(value) for key, value in (("method", method), ("path", path)) if value}
    request.log.emit(
        AuditEvent(
            timestamp=datetime.now(UTC),
            level=level_for("denied"),
            event_type="auth",
            user=user,
            action=action,
            parameters=parameters or None,
            status="denied",
            response_status=status,
            request_id=call.request_id or None,
            trace_id=_trace_id(),
            client=call.client or None,
            error=redact_text(error),
        )
    )


def record_auth_failure(reason: str, status: int = 401, *, method: str | None = None, path: str | None = None) -> None:
    """Record that this request failed authentication (``denied``, user unknown, ``reason`` as the error).

    For the authentication middleware: call it once when a request is refused with 401 (or 403 for a
    token that is valid but not for this gateway). ``reason`` must not contain the token.
    """
    request = _REQUEST.get()
    if request is None or not request.log.enabled:
        return
    request.denial_recorded = True
    _emit_refusal(request, "authenticate", status, reason, method, path, None)


def record_denial(exc: BaseException, *, method: str | None = None, path: str | None = None) -> None:
    """Record a 401/403 that ended a request before (or outside) any audited operation; others are ignored.

    Refusals already recorded (by an operation or :func:`record_auth_failure`) are not recorded twice.
    """
    request = _REQUEST.get()
    if request is None or not request.log.enabled or request.denial_recorded:
        return
    if any(exc is seen or exc.__context__ is seen or exc.__cause__ is seen for seen in request.recorded):
        return
    status, response_status, error = outcome_of(exc)
    if status != "denied":
        return
    request.denial_recorded = True
    action = "authenticate" if response_status == 401 else "authorize"
    user = None if response_status == 401 else current_call().principal.name
    _emit_refusal(request, action, response_status, error or "denied", method, path, user)
