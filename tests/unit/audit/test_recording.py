"""audited(...) records one event per operation with the status its ending maps to; refusals are recorded once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import msgspec
import pytest
from opentelemetry.sdk.trace import TracerProvider

from app.audit import (
    AuditEvent,
    AuditLog,
    audited,
    bind_request,
    current_operation,
    record_auth_failure,
    record_denial,
    reset_request,
)
from app.domain.caller import CallContext, Principal, reset_call, set_call
from app.errors import AccessDenied, BackendTimeout, ToolNotFound, Unauthenticated


class CollectingSink:
    """In-memory sink (the sink seam's test double): what the log wrote, in order."""

    name = "memory"

    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    async def write(self, batch: Sequence[AuditEvent]) -> None:
        self.events.extend(batch)

    async def aclose(self) -> None:
        return None


@pytest.fixture
async def recorded() -> AsyncIterator[list[AuditEvent]]:
    """Events recorded while the test runs as one request of alice from 10.0.0.7."""
    sink = CollectingSink()
    log = AuditLog([sink])
    log.start()
    principal = Principal(subject="u-1", email="alice@example.com")
    call_token = set_call(CallContext(principal=principal, request_id="req-1", client="10.0.0.7:5000"))
    request_token = bind_request(log)
    try:
        yield sink.events
    finally:
        reset_request(request_token)
        reset_call(call_token)
        await log.aclose()


async def settle() -> None:
    await asyncio.sleep(0.01)


async def test_a_successful_operation_records_the_seed_fields(recorded: list[AuditEvent]) -> None:
    async with audited("invoke_tool", mcp_server="prod", tool_name="sqlite_reader", parameters={"database": "d.db"}):
        await asyncio.sleep(0.01)
    await settle()
    (event,) = recorded
    assert (event.user, event.action, event.mcp_server, event.tool_name) == (
        "alice@example.com",
        "invoke_tool",
        "prod",
        "sqlite_reader",
    )
    assert (event.status, event.response_status, event.level, event.error) == ("success", 200, "INFO", None)
    assert event.parameters == {"database": "d.db"}
    assert event.duration_ms is not None
    assert event.duration_ms >= 10
    assert (event.request_id, event.client) == ("req-1", "10.0.0.7:5000")
    assert event.timestamp.tzinfo is UTC


@pytest.mark.parametrize(
    ("error", "status", "response_status"),
    [
        (AccessDenied("alice may not use prod"), "denied", 403),
        (Unauthenticated("token expired"), "denied", 401),
        (ToolNotFound("x", "prod"), "error", 404),
        (BackendTimeout("prod", "no answer within 30s"), "error", 504),
        (RuntimeError("details with password=hunter2"), "error", 500),
    ],
)
async def test_exceptions_map_to_status_and_are_re_raised(
    recorded: list[AuditEvent], error: Exception, status: str, response_status: int
) -> None:
    with pytest.raises(type(error)):
        async with audited("invoke_tool", tool_name="x"):
            raise error
    await settle()
    (event,) = recorded
    assert (event.status, event.response_status) == (status, response_status)
    assert event.error
    assert "hunter2" not in event.error


async def test_a_converted_error_keeps_the_status_of_its_cause(recorded: list[AuditEvent]) -> None:
    class Answered(Exception):
        http_status = 200

    async def convert() -> None:
        async with audited("invoke_tool"):
            try:
                raise AccessDenied("not for you")
            except AccessDenied:
                raise Answered from None

    with pytest.raises(Answered):
        await convert()
    await settle()
    assert recorded[0].status == "denied"


async def test_fail_marks_an_answered_failure(recorded: list[AuditEvent]) -> None:
    async with audited("invoke_tool") as op:
        op.fail("the tool reported: index missing")
    await settle()
    assert (recorded[0].status, recorded[0].response_status, recorded[0].error) == (
        "error",
        200,
        "the tool reported: index missing",
    )


async def test_domain_code_refines_the_operation_and_records_legs(recorded: list[AuditEvent]) -> None:
    async with audited("invoke_tool", tool_name="search", parameters={"q": "x", "token": "t"}):
        operation = current_operation()
        assert operation is not None
        operation.action = "broadcast"
        started = datetime.now(UTC)
        operation.record_leg(mcp_server="a", started=started, duration_ms=1.0, failure=None)
        operation.record_leg(mcp_server="b", started=started, duration_ms=2.0, failure=BackendTimeout("b", "slow"))
        operation.record_leg(mcp_server="c", started=started, duration_ms=3.0, failure="tool said no")
    await settle()
    legs, whole = recorded[:3], recorded[3]
    assert [(e.action, e.mcp_server, e.status, e.response_status) for e in legs] == [
        ("broadcast_leg", "a", "success", 200),
        ("broadcast_leg", "b", "error", 504),
        ("broadcast_leg", "c", "error", 200),
    ]
    assert (whole.action, whole.mcp_server) == ("broadcast", None)
    assert all(e.parameters == {"q": "x", "token": "[REDACTED]"} for e in recorded)
    assert current_operation() is None


async def test_the_trace_id_is_the_current_spans() -> None:
    sink = CollectingSink()
    log = AuditLog([sink])
    log.start()
    token = bind_request(log)
    tracer = TracerProvider().get_tracer("test")
    try:
        with tracer.start_as_current_span("request") as span:
            async with audited("list_tools"):
                pass
    finally:
        reset_request(token)
    await log.aclose()
    assert sink.events[0].trace_id == format(span.get_span_context().trace_id, "032x")


async def test_auth_failure_is_recorded_once_without_a_user(recorded: list[AuditEvent]) -> None:
    record_auth_failure("token expired", 401, method="POST", path="/mcp/invoke")
    record_denial(Unauthenticated("token expired"))  # the exception hook seeing the same refusal
    await settle()
    (event,) = recorded
    assert (event.event_type, event.action, event.user, event.status, event.response_status) == (
        "auth",
        "authenticate",
        None,
        "denied",
        401,
    )
    assert event.parameters == {"method": "POST", "path": "/mcp/invoke"}
    assert event.error == "token expired"


async def test_a_denial_outside_any_operation_is_recorded_with_the_user(recorded: list[AuditEvent]) -> None:
    record_denial(AccessDenied("admin role required"), method="POST", path="/mcp/servers")
    record_denial(ToolNotFound("x"))  # not a refusal: not the hook's business
    await settle()
    (event,) = recorded
    assert (event.action, event.user, event.status, event.response_status) == (
        "authorize",
        "alice@example.com",
        "denied",
        403,
    )


async def test_a_denial_an_operation_recorded_is_not_recorded_again(recorded: list[AuditEvent]) -> None:
    denied = AccessDenied("no")
    with pytest.raises(AccessDenied):
        async with audited("invoke_tool"):
            raise denied
    record_denial(denied)
    await settle()
    assert len(recorded) == 1


async def test_nothing_is_recorded_outside_a_request() -> None:
    async with audited("invoke_tool") as op:
        op.fail("ignored")
    record_auth_failure("no request bound")


async def test_text_a_caller_mangled_still_makes_an_encodable_event(recorded: list[AuditEvent]) -> None:
    async with audited("invoke_tool", tool_name="bad\ud800name", parameters={"k\udc00": ["v\ud800"]}):
        pass
    await settle()
    (event,) = recorded
    encoded = msgspec.json.encode(event).decode()
    assert "bad?name" in encoded
    assert event.parameters == {"k?": ["v?"]}
