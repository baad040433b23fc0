"""The audit trail: one structured event per operation, redacted, written off the request path.

event.AuditEvent ........ the record (seed fields + request id, trace id, client, error)
redaction ............... secret-looking keys/values replaced, parameters size-capped
recording ............... audited(...) around operations; the request's audit state
outcomes ................ an exception → the event's status, HTTP status and error text
refusals ................ auth failures and denials outside any operation
pipeline.AuditLog ....... bounded per-sink queues, batched writers, retries, drop counts
sinks / database ........ JSON-lines file, stdout, the ``audit_logs`` table
queries ................. reading ``audit_logs`` back (filters, pagination)
"""

from __future__ import annotations

from app.audit.event import AuditEvent, AuditStatus
from app.audit.outcomes import outcome_of
from app.audit.pipeline import AuditLog, SinkStats
from app.audit.recording import (
    AuditedOperation,
    audited,
    bind_request,
    current_operation,
    detach_operation,
    reset_request,
)
from app.audit.redaction import bounded_parameters, redact, redact_text
from app.audit.refusals import record_auth_failure, record_denial

__all__ = (
    "AuditEvent",
    "AuditLog",
    "AuditStatus",
    "AuditedOperation",
    "SinkStats",
    "audited",
    "bind_request",
    "bounded_parameters",
    "current_operation",
    "detach_operation",
    "outcome_of",
    "record_auth_failure",
    "record_denial",
    "redact",
    "redact_text",
    "reset_request",
)
