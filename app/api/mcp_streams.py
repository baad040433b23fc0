"""Event-stream answers of ``/mcp``: streamed ``tools/call``, the handshake-era GET stream, and
2026-07-28 ``subscriptions/listen``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec
from litestar import Response
from litestar.response import Stream

from app.adapters.mcp_client.session_base import ServerRequestHandler
from app.api.mcp_answers import JSON, SSE
from app.domain.mcp import GatewayMcpServer, RpcFailure
from app.domain.mcp.errors import INTERNAL_ERROR
from app.domain.mcp.server import Era

__all__ = ("listen_stream", "server_stream", "streamed_call")

logger = logging.getLogger("mcp_gateway")
_encoder = msgspec.json.Encoder()
_STREAM_HEADERS = {"X-Accel-Buffering": "no", "Cache-Control": "no-cache"}
_COMMIT_AFTER = 1.0
"""Seconds a tools/call may take before its answer turns into an event stream."""
_KEEP_ALIVE = 15.0


async def streamed_call(
    server: GatewayMcpServer,
    params: dict[str, Any],
    request_id: Any,
    era: Era,
    token: Any,
    asker: Callable[[Callable[[dict[str, Any]], None]], ServerRequestHandler] | None = None,
    on_started: Callable[[asyncio.Task[None]], None] | None = None,
) -> Response[Any] | Stream:
    """``tools/call`` for a caller that accepts an event stream.

    A call that ends within ``_COMMIT_AFTER`` without progress is answered as plain JSON with the status
    its outcome calls for. Otherwise the answer becomes an event stream: the backend's progress (under the
    caller's token), keep-alive comments, the backend's requests to the caller relayed through ``asker``
    (elicitation, handshake era), then the response; if the caller goes away the stream ends, which cancels
    the backend call.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
    decided = loop.create_future()
    """Done once something is queued or ``_COMMIT_AFTER`` has passed: time to choose JSON or a stream."""
    status = 200
    headers: dict[str, str] = {}

    def put(message: dict[str, Any] | None) -> None:
        queue.put_nowait(message)
        _settle(decided)

    def on_progress(update: dict[str, Any]) -> None:
        relayed = {key: value for key, value in update.items() if key != "progressToken"}
        put({"jsonrpc": "2.0", "method": "notifications/progress", "params": {**relayed, "progressToken": token}})

    async def run() -> None:
        nonlocal status, headers
        try:
            progress = on_progress if token is not None else None
            on_request = asker(put) if asker is not None else None
            result = await server.handle("tools/call", params, era, progress, on_request)
            put({"jsonrpc": "2.0", "id": request_id, "result": result})
        except RpcFailure as failure:
            status, headers = failure.http_status, failure.headers
            put({"jsonrpc": "2.0", "id": request_id, "error": failure.as_error()})
        except Exception:
            logger.exception("internal error in tools/call")
            error = {"code": INTERNAL_ERROR, "message": "Internal error"}
            put({"jsonrpc": "2.0", "id": request_id, "error": error})
        finally:
            put(None)

    task = asyncio.create_task(run())
    if on_started is not None:
        on_started(task)  # so a handshake-era notifications/cancelled can stop it
    timer = loop.call_later(_COMMIT_AFTER, _settle, decided)
    try:
        await decided
    finally:
        timer.cancel()
    first = queue.get_nowait() if not queue.empty() else None
    if first is not None and "method" not in first:
        await task
        return Response(first, status_code=status, media_type=JSON, headers=headers)

    return Stream(_call_events(first, queue, task), media_type=SSE, headers=_STREAM_HEADERS)


async def _call_events(
    first: dict[str, Any] | None, queue: asyncio.Queue[dict[str, Any] | None], task: asyncio.Task[None]
) -> AsyncIterator[bytes]:
    """The event stream of a streamed call: ``first`` (when already taken), then what the call queues, with
    keep-alive comments while it is quiet; the call is cancelled when the stream ends (the caller left)."""
    try:
        if first is not None:
            yield _event(first)
        while True:
            getter = asyncio.ensure_future(queue.get())
            try:
                while not (await asyncio.wait({getter}, timeout=_KEEP_ALIVE))[0]:
                    yield b": keep-alive\n\n"
            finally:
                getter.cancel()
            item = getter.result()
            if item is None:
                return
            yield _event(item)
    finally:
        task.cancel()


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _event(message: dict[str, Any]) -> bytes:
    return b"event: message\ndata: " + _encoder.encode(message) + b"\n\n"


async def _changes(server: GatewayMcpServer, note: dict[str, Any]) -> AsyncIterator[bytes]:
    """``note`` each time the tool list may have changed, keep-alive comments in between, until the caller leaves."""
    queue = server.watch_tools()
    try:
        while True:
            try:
                await asyncio.wait_for(queue.get(), _KEEP_ALIVE)
            except TimeoutError:
                yield b": keep-alive\n\n"
                continue
            yield _event(note)
    finally:
        server.unwatch_tools(queue)


def server_stream(server: GatewayMcpServer) -> Stream:
    """The handshake-era GET stream of a session: ``notifications/tools/list_changed`` as it happens."""
    note = {"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}
    return Stream(_changes(server, note), media_type=SSE, headers=_STREAM_HEADERS)


def listen_stream(server: GatewayMcpServer, params: dict[str, Any], request_id: Any) -> Stream:
    """A 2026-07-28 ``subscriptions/listen`` stream: the acknowledgement (the honoured subset), then changes."""
    wanted = params.get("notifications")
    honoured = {"toolsListChanged": True} if isinstance(wanted, dict) and wanted.get("toolsListChanged") else {}
    meta = {"io.modelcontextprotocol/subscriptionId": request_id}
    acknowledged = {
        "jsonrpc": "2.0",
        "method": "notifications/subscriptions/acknowledged",
        "params": {"notifications": honoured, "_meta": meta},
    }
    note = {"jsonrpc": "2.0", "method": "notifications/tools/list_changed", "params": {"_meta": meta}}

    async def events() -> AsyncIterator[bytes]:
        yield _event(acknowledged)
        if not honoured:
            while True:  # nothing was asked that the gateway sends: keep the stream, as the caller holds it
                await asyncio.sleep(_KEEP_ALIVE)
                yield b": keep-alive\n\n"
        async for chunk in _changes(server, note):
            yield chunk

    return Stream(events(), media_type=SSE, headers=_STREAM_HEADERS)
