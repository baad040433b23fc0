"""Reading a backend's answers: JSON-RPC results, errors and event streams."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec

from app.adapters.mcp_client.jsonrpc import Message, decode_message
from app.adapters.mcp_client.protocol import decode_or_fail
from app.adapters.mcp_client.sse import iter_events
from app.errors import BackendError, BackendProtocolError, BackendRpcError

__all__ = ("as_object", "http_failure", "read_event_stream", "result_of")


def result_of(server: str, message: Message, request_id: int) -> msgspec.Raw:
    """The raw ``result`` of the response to ``request_id``, or the error it carries."""
    if message.id != request_id:
        msg = f"answered JSON-RPC id {message.id!r}, expected {request_id}"
        raise BackendProtocolError(server, msg)
    if message.error is not None:
        error = message.error
        raise BackendRpcError(server, error.code, error.message, error.data)
    if not message.has_result:
        raise BackendProtocolError(server, "sent a response with neither result nor error")
    return message.result


async def read_event_stream(
    chunks: AsyncIterator[bytes], server: str, request_id: int | None, on_message: Callable[[Message], None]
) -> msgspec.Raw | None:
    """Read ``message`` events until the response to ``request_id``; others go to ``on_message``.

    With ``request_id=None`` the stream is read to its end (a notification stream).
    """
    async for event in iter_events(chunks):
        if event.event != "message" or not event.data:
            continue
        message = decode_or_fail(server, event.data)
        if message.is_response:
            if request_id is not None and message.id == request_id:
                return result_of(server, message, request_id)
            continue
        on_message(message)
    if request_id is None:
        return None
    raise BackendProtocolError(server, "the event stream ended before the response arrived")


def as_object(server: str, raw: msgspec.Raw | None, method: str) -> dict[str, Any]:
    """A result decoded as a JSON object."""
    if raw is None:
        raise BackendProtocolError(server, f"answered {method} with no result")
    try:
        value = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise BackendProtocolError(server, f"{method} result is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise BackendProtocolError(server, f"{method} result is not an object")
    return value


def http_failure(server: str, status: int, body: bytes) -> BackendError:
    """A non-200 answer: the backend's JSON-RPC error when it sent one, else the HTTP status."""
    with contextlib.suppress(ValueError):
        message = decode_message(body)
        if message.error is not None:
            return BackendRpcError(server, message.error.code, message.error.message, message.error.data)
    snippet = body[:200].decode("utf-8", errors="replace").strip()
    detail = f": {snippet}" if snippet else ""
    return BackendProtocolError(server, f"answered HTTP {status}{detail}")
