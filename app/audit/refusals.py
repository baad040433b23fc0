"""Refusals recorded outside any audited operation: a request that failed authentication (the
authentication middleware) or was denied before its handler ran (the exception hook)."""

from __future__ import annotations

from datetime import UTC, datetime

from app.audit.event import AuditEvent, level_for
from app.audit.outcomes import outcome_of
from app.audit.recording import RequestAudit, current_request, current_trace_id
from app.audit.redaction import encodable, redact_text
from app.domain.caller import current_call

__all__ = ("record_auth_failure", "record_denial")


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
            trace_id=current_trace_id(),
            client=call.client or None,
            error=redact_text(error),
        )
    )


def record_auth_failure(reason: str, status: int = 401, *, method: str | None = None, path: str | None = None) -> None:
    """Record that this request failed authentication (``denied``, user unknown, ``reason`` as the error).

    For the authentication middleware: call it once when a request is refused with 401 (or 403 for a
    token that is valid but not for this gateway). ``reason`` must not contain the token.
    """
    request = current_request()
    if request is None or not request.log.enabled:
        return
    request.denial_recorded = True
    _emit_refusal(request, "authenticate", status, reason, method, path, None)


def record_denial(exc: BaseException, *, method: str | None = None, path: str | None = None) -> None:
    """Record a 401/403 that ended a request before (or outside) any audited operation; others are ignored.

    Refusals already recorded (by an operation or :func:`record_auth_failure`) are not recorded twice.
    """
    request = current_request()
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
