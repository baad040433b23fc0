"""How an operation ended, for its audit event: an exception (or none) → ``(status, response_status, error)``."""

from __future__ import annotations

import asyncio

from app.audit.event import AuditStatus
from app.audit.redaction import redact_text
from app.errors import AccessDenied, GatewayError, Unauthenticated

__all__ = ("Outcome", "outcome_of")

Outcome = tuple[AuditStatus, int, str | None]
"""``(status, response_status, error)`` of a finished operation."""
_CANCELLED = 499
"""Status recorded when the caller went away before the answer (nginx's "client closed request")."""


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
