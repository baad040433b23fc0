"""``/mcp``: the gateway as an MCP server over Streamable HTTP, both protocol eras on one endpoint.

Era per request (mcp-protocol-notes §1): a 2026-07-28 ``MCP-Protocol-Version`` header or a
``params._meta`` protocol version means the stateless envelope, checked rung by rung (§2 table);
anything else is the handshake era, whose ``initialize`` issues a self-contained session id that
every later request must echo. Answers are JSON (both eras allow it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import Request, Response, route
from litestar.di import NamedDependency
from litestar.response import Stream

from app.adapters.mcp_client.protocol import (
    HANDSHAKE_VERSIONS,
    META_PROTOCOL_VERSION,
    MODERN_VERSIONS,
    NAME_BEARING_METHODS,
)
from app.api.mcp_headers import decode_header_value, origin_allowed, param_header_problem
from app.domain.mcp import GatewayMcpServer, RpcFailure, SessionCodec
from app.domain.mcp.errors import (
    HEADER_MISMATCH,
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    PARSE_ERROR,
    UNSUPPORTED_PROTOCOL_VERSION,
)
from app.domain.mcp.server import Era
from app.settings import Settings

__all__ = ("mcp_endpoint",)

_JSON = "application/json"
_SSE = "text/event-stream"
_ROUTING_HEADERS = ("mcp-protocol-version", "mcp-method", "mcp-name")
_COMMIT_AFTER = 1.0
"""Seconds a tools/call may take before its answer turns into an event stream."""
_KEEP_ALIVE = 15.0
_decoder = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder()
logger = logging.getLogger("mcp_gateway")


class _Answer(Exception):
    """Ends a request early with ``response`` (each rung of a validation ladder may raise it)."""

    def __init__(self, response: Response[Any]) -> None:
        super().__init__()
        self.response = response


def _fail(request_id: Any, failure: RpcFailure) -> _Answer:
    return _Answer(_rpc_error(request_id, failure))


def _rpc_error(request_id: Any, failure: RpcFailure, headers: dict[str, str] | None = None) -> Response[Any]:
    body = {"jsonrpc": "2.0", "id": request_id, "error": failure.as_error()}
    return Response(body, status_code=failure.http_status, media_type=_JSON, headers=headers)


def _plain(status: int, text: str, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(text, status_code=status, media_type="text/plain", headers=headers)


@route(
    "/mcp",
    http_method=["GET", "POST", "DELETE"],
    status_code=200,
    summary="MCP endpoint (Streamable HTTP; 2024-11-05 … 2025-11-25 handshake and 2026-07-28 stateless)",
    tags=["mcp"],
)
async def mcp_endpoint(
    request: Request[Any, Any, Any],
    mcp_handler: NamedDependency[GatewayMcpServer],
    sessions: NamedDependency[SessionCodec],
    settings: NamedDependency[Settings],
) -> Response[Any] | Stream:
    try:
        return await _serve(request, mcp_handler, sessions, settings)
    except _Answer as answer:
        return answer.response


async def _serve(
    request: Request[Any, Any, Any], mcp_server: GatewayMcpServer, sessions: SessionCodec, settings: Settings
) -> Response[Any] | Stream:
    headers = request.headers
    if not origin_allowed(headers.get("origin"), settings.mcp_allowed_origins):
        raise _Answer(_plain(403, "Forbidden: origin not allowed"))
    if request.method == "GET" and headers.get("mcp-protocol-version") not in MODERN_VERSIONS:
        return _server_stream(request, mcp_server, sessions)
    if request.method != "POST":
        # Sessions end by expiry (DELETE is optional in the handshake era); GET/DELETE are 405 at 2026-07-28.
        raise _Answer(_plain(405, "Method Not Allowed", {"Allow": "POST"}))
    modern_header = headers.get("mcp-protocol-version") in MODERN_VERSIONS
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != _JSON:
        raise _Answer(_plain(400 if modern_header else 415, "Content-Type must be application/json"))
    accept = headers.get("accept", "")
    if not (_JSON in accept or "*/*" in accept) or (modern_header and _SSE not in accept and "*/*" not in accept):
        raise _Answer(_plain(406, "Accept must include application/json and text/event-stream"))
    body = await request.body()  # bounded by MAX_REQUEST_BODY_BYTES (413 above it)
    try:
        message = _decoder.decode(body)
    except msgspec.DecodeError:
        raise _fail(None, RpcFailure(PARSE_ERROR, "Parse error: body is not JSON", http_status=400)) from None
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        kind = "batches are not supported" if isinstance(message, list) else "not a JSON-RPC 2.0 message"
        raise _fail(None, RpcFailure(INVALID_REQUEST, f"Invalid Request: {kind}", http_status=400))
    params = message.get("params")
    body_meta = params.get("_meta") if isinstance(params, dict) else None
    if modern_header or (isinstance(body_meta, dict) and META_PROTOCOL_VERSION in body_meta):
        return await _modern(request, message, mcp_server)
    return await _handshake(request, message, mcp_server, sessions)


async def _modern(
    request: Request[Any, Any, Any], message: dict[str, Any], server: GatewayMcpServer
) -> Response[Any] | Stream:
    """The 2026-07-28 validation ladder, in the SDK's order; the first failing rung answers."""
    method, request_id = message.get("method"), message.get("id")
    if "id" not in message:  # a notification
        version = request.headers.get("mcp-protocol-version")
        if not isinstance(method, str) or (version is not None and version not in MODERN_VERSIONS + HANDSHAKE_VERSIONS):
            code = INVALID_REQUEST if not isinstance(method, str) else UNSUPPORTED_PROTOCOL_VERSION
            raise _fail(None, RpcFailure(code, "Invalid notification", http_status=400))
        return Response(b"", status_code=202)
    if not isinstance(method, str) or not isinstance(request_id, (str, int)) or isinstance(request_id, bool):
        raise _fail(None, RpcFailure(INVALID_REQUEST, "Invalid Request: needs method and id", http_status=400))
    for name in _ROUTING_HEADERS:
        if len(request.headers.getall(name, [])) > 1:
            raise _fail(request_id, RpcFailure(HEADER_MISMATCH, f"{name} sent more than once", http_status=400))
    params = _checked_envelope(request, method, message.get("params", {}), request_id)
    if method == "tools/call" and isinstance(params.get("name"), str):
        problem = param_header_problem(
            request.headers, await server.param_header_rules(params["name"]), params.get("arguments")
        )
        if problem:
            raise _fail(request_id, RpcFailure(HEADER_MISMATCH, problem, http_status=400))
    if method == "subscriptions/listen":
        if _SSE not in request.headers.get("accept", ""):
            raise _Answer(_plain(406, "subscriptions/listen needs Accept: text/event-stream"))
        return _subscription(server, params, request_id)
    return await _dispatch(server, method, params, request_id, "modern", request.headers.get("accept", ""))


def _checked_envelope(request: Request[Any, Any, Any], method: str, params: Any, request_id: Any) -> dict[str, Any]:
    """Rungs 8-11: ``_meta`` present and well formed, routing headers agree with the body, version served."""
    meta = params.get("_meta") if isinstance(params, dict) else None
    if (
        not isinstance(params, dict)
        or not isinstance(meta, dict)
        or not {META_PROTOCOL_VERSION, "io.modelcontextprotocol/clientCapabilities"} <= meta.keys()
    ):
        failure = RpcFailure(
            INVALID_PARAMS, "params._meta must carry protocolVersion and clientCapabilities", http_status=400
        )
        raise _fail(request_id, failure)
    version = meta[META_PROTOCOL_VERSION]
    mismatch = _header_mismatch(request, method, params, version)
    if mismatch:
        raise _fail(request_id, RpcFailure(HEADER_MISMATCH, mismatch, http_status=400))
    if not isinstance(version, str):
        raise _fail(request_id, RpcFailure(INVALID_PARAMS, "protocolVersion must be a string", http_status=400))
    if version not in MODERN_VERSIONS:
        data = {"supported": list(MODERN_VERSIONS), "requested": version}
        failure = RpcFailure(UNSUPPORTED_PROTOCOL_VERSION, "Unsupported protocol version", data, http_status=400)
        raise _fail(request_id, failure)
    return params


def _header_mismatch(request: Request[Any, Any, Any], method: str, params: dict[str, Any], version: Any) -> str | None:
    headers = request.headers
    if headers.get("mcp-protocol-version") != version:
        return "MCP-Protocol-Version header is missing or differs from params._meta"
    if headers.get("mcp-method") != method:
        return "Mcp-Method header is missing or differs from the method"
    key = NAME_BEARING_METHODS.get(method)
    if key is not None:
        sent = headers.get("mcp-name")
        if sent is None or decode_header_value(sent) != params.get(key):
            return f"Mcp-Name header is missing or differs from params.{key}"
    return None


async def _handshake(
    request: Request[Any, Any, Any], message: dict[str, Any], server: GatewayMcpServer, sessions: SessionCodec
) -> Response[Any] | Stream:
    method, request_id = message.get("method"), message.get("id")
    if not isinstance(method, str):
        if "result" in message or "error" in message:
            return Response(b"", status_code=202)  # a response to a server request: nothing is waiting for it
        raise _fail(None, RpcFailure(INVALID_REQUEST, "Invalid Request: no method", http_status=400))
    params = message.get("params") or {}
    if not isinstance(params, dict):
        raise _fail(request_id, RpcFailure(INVALID_PARAMS, "params must be an object", http_status=400))
    if method == "initialize":
        result = server.initialize(params.get("protocolVersion"))
        client, capabilities = params.get("clientInfo"), params.get("capabilities")
        name = str(client.get("name", "")) if isinstance(client, dict) else ""
        session_id = sessions.issue(
            result["protocolVersion"], capabilities if isinstance(capabilities, dict) else {}, name
        )
        body = {"jsonrpc": "2.0", "id": request_id, "result": result}
        return Response(body, media_type=_JSON, headers={"Mcp-Session-Id": session_id})
    sent_session = request.headers.get("mcp-session-id")
    if sent_session is None:
        raise _fail(request_id, RpcFailure(INVALID_REQUEST, "Bad Request: missing Mcp-Session-Id", http_status=400))
    state = sessions.open(sent_session)
    if state is None:
        raise _fail(request_id, RpcFailure(INVALID_REQUEST, "Session not found", http_status=404))
    version = request.headers.get("mcp-protocol-version")
    if version is not None and version != state.protocol_version:
        failure = RpcFailure(
            INVALID_REQUEST, f"Bad Request: unsupported MCP-Protocol-Version {version}", http_status=400
        )
        raise _fail(request_id, failure)
    if "id" not in message:
        return Response(b"", status_code=202)
    return await _dispatch(server, method, params, request_id, "handshake", request.headers.get("accept", ""))


async def _dispatch(
    server: GatewayMcpServer, method: str, params: dict[str, Any], request_id: Any, era: str, accept: str = ""
) -> Response[Any] | Stream:
    if method == "tools/call" and _SSE in accept:
        # Streamed, so progress can be relayed and a caller that goes away cancels the backend call.
        meta = params.get("_meta")
        token = meta.get("progressToken") if isinstance(meta, dict) else None
        return await _streamed_call(server, params, request_id, "modern" if era == "modern" else "handshake", token)
    try:
        result = await server.handle(method, params, "modern" if era == "modern" else "handshake")
    except RpcFailure as failure:
        return _rpc_error(request_id, failure)
    except Exception:
        import logging

        logging.getLogger("mcp_gateway").exception("internal error in %s", method)
        return _rpc_error(request_id, RpcFailure(INTERNAL_ERROR, "Internal error"))
    return Response({"jsonrpc": "2.0", "id": request_id, "result": result}, media_type=_JSON)


async def _streamed_call(
    server: GatewayMcpServer, params: dict[str, Any], request_id: Any, era: Era, token: Any
) -> Response[Any] | Stream:
    """``tools/call`` for a caller that accepts an event stream.

    A call that ends within ``_COMMIT_AFTER`` without progress is answered as plain JSON with the status
    its outcome calls for. Otherwise the answer becomes an event stream: the backend's progress (under the
    caller's token), keep-alive comments, then the response; if the caller goes away the stream ends,
    which cancels the backend call.
    """
    queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
    status = 200

    def on_progress(update: dict[str, Any]) -> None:
        relayed = {key: value for key, value in update.items() if key != "progressToken"}
        note = {"jsonrpc": "2.0", "method": "notifications/progress", "params": {**relayed, "progressToken": token}}
        queue.put_nowait(note)

    async def run() -> None:
        nonlocal status
        try:
            result = await server.handle("tools/call", params, era, on_progress if token is not None else None)
            queue.put_nowait({"jsonrpc": "2.0", "id": request_id, "result": result})
        except RpcFailure as failure:
            status = failure.http_status
            queue.put_nowait({"jsonrpc": "2.0", "id": request_id, "error": failure.as_error()})
        except Exception:
            logger.exception("internal error in tools/call")
            error = {"code": INTERNAL_ERROR, "message": "Internal error"}
            queue.put_nowait({"jsonrpc": "2.0", "id": request_id, "error": error})
        finally:
            queue.put_nowait(None)

    task = asyncio.create_task(run())
    first = asyncio.ensure_future(queue.get())
    await asyncio.wait({first}, timeout=_COMMIT_AFTER)
    if first.done() and (message := first.result()) is not None and "method" not in message:
        await task
        return Response(message, status_code=status, media_type=_JSON)

    async def events() -> AsyncIterator[bytes]:
        getter = first
        try:
            while True:
                while not (await asyncio.wait({getter}, timeout=_KEEP_ALIVE))[0]:
                    yield b": keep-alive\n\n"
                item = getter.result()
                if item is None:
                    return
                yield b"event: message\ndata: " + _encoder.encode(item) + b"\n\n"
                getter = asyncio.ensure_future(queue.get())
        finally:
            getter.cancel()
            task.cancel()

    return Stream(events(), media_type=_SSE, headers={"X-Accel-Buffering": "no", "Cache-Control": "no-cache"})


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


def _server_stream(request: Request[Any, Any, Any], server: GatewayMcpServer, sessions: SessionCodec) -> Stream:
    """The handshake-era GET stream of a session: ``notifications/tools/list_changed`` as it happens."""
    if _SSE not in request.headers.get("accept", ""):
        raise _Answer(_plain(406, "GET needs Accept: text/event-stream"))
    session_id = request.headers.get("mcp-session-id")
    if session_id is None:
        raise _Answer(_plain(400, "Bad Request: missing Mcp-Session-Id"))
    if sessions.open(session_id) is None:
        raise _Answer(_plain(404, "Session not found"))
    note = {"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}
    return Stream(
        _changes(server, note), media_type=_SSE, headers={"X-Accel-Buffering": "no", "Cache-Control": "no-cache"}
    )


def _subscription(server: GatewayMcpServer, params: dict[str, Any], request_id: Any) -> Stream:
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

    return Stream(events(), media_type=_SSE, headers={"X-Accel-Buffering": "no", "Cache-Control": "no-cache"})
