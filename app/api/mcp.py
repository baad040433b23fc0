"""``/mcp``: the gateway as an MCP server over Streamable HTTP, both protocol eras on one endpoint.

Era per request (mcp-protocol-notes §1): a 2026-07-28 ``MCP-Protocol-Version`` header or a
``params._meta`` protocol version means the stateless envelope, checked rung by rung (§2 table);
anything else is the handshake era, whose ``initialize`` issues a self-contained session id that
every later request must echo. Answers are JSON (both eras allow it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Request, Response, asgi
from litestar.exceptions import ClientException
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.response import Stream
from litestar.types import Receive, Scope, Send

from app.adapters.mcp_client.protocol import (
    HANDSHAKE_VERSIONS,
    META_PROTOCOL_VERSION,
    MODERN_VERSIONS,
    NAME_BEARING_METHODS,
)
from app.adapters.mcp_client.session_base import ServerRequestHandler
from app.api.mcp_answers import JSON, SSE, Answer, fail, plain, rpc_error
from app.api.mcp_client_requests import ClientRequests
from app.api.mcp_headers import decode_header_value, origin_allowed, param_header_problem
from app.api.mcp_sessions import answer_batch, end_session, session_state, session_stream
from app.api.mcp_streams import listen_stream, streamed_call
from app.domain.caller import current_call
from app.domain.mcp import GatewayMcpServer, RpcFailure, SessionCodec
from app.domain.mcp.ended_sessions import EndedSessions
from app.domain.mcp.errors import (
    HEADER_MISMATCH,
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    PARSE_ERROR,
    UNSUPPORTED_PROTOCOL_VERSION,
)
from app.settings import Settings

__all__ = ("McpParts", "mcp_endpoint")

_ROUTING_HEADERS = ("mcp-protocol-version", "mcp-method", "mcp-name")
_decoder = msgspec.json.Decoder()
logger = logging.getLogger("mcp_gateway")


class McpParts(msgspec.Struct, frozen=True, kw_only=True):
    """What ``/mcp`` works with: built once at start-up (``ApplicationCore``) and read from the app state
    by the ASGI handler, which has no dependency injection."""

    server: GatewayMcpServer
    sessions: SessionCodec
    settings: Settings
    client_requests: ClientRequests
    ended_sessions: EndedSessions


@asgi("/mcp", copy_scope=False)
async def mcp_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    """``GET``/``POST``/``DELETE /mcp``. An ASGI handler: on a hop every tool call makes, Litestar's
    per-request parameter parsing and response pipeline cost more than the endpoint's own checks; the
    answers are still Litestar responses, and failures still go to the app's exception handlers."""
    request: Request[Any, Any, Any] = Request(scope, receive, send)
    try:
        response = await _serve(request, scope["app"].state.mcp_parts)
    except Answer as answer:
        response = answer.response
    await response.to_asgi_response(None, request)(scope, receive, send)


async def _serve(request: Request[Any, Any, Any], parts: McpParts) -> Response[Any] | Stream:
    mcp_server, sessions, settings = parts.server, parts.sessions, parts.settings
    client_requests, ended_sessions = parts.client_requests, parts.ended_sessions
    headers = request.headers
    if not origin_allowed(headers.get("origin"), settings.mcp_allowed_origins):
        raise Answer(plain(403, "Forbidden: origin not allowed"))
    modern_header = headers.get("mcp-protocol-version") in MODERN_VERSIONS
    if request.method == "GET" and not modern_header:
        return session_stream(request, mcp_server, sessions)
    if request.method == "DELETE" and not modern_header:
        raise Answer(await end_session(request, sessions, ended_sessions))
    if request.method != "POST":  # GET and DELETE are 405 at 2026-07-28, other methods in both eras
        raise Answer(plain(405, "Method Not Allowed", {"Allow": "POST" if modern_header else "GET, POST, DELETE"}))
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != JSON:
        raise Answer(plain(400 if modern_header else 415, "Content-Type must be application/json"))
    accept = headers.get("accept", "")
    if not (JSON in accept or "*/*" in accept) or (modern_header and SSE not in accept and "*/*" not in accept):
        raise Answer(plain(406, "Accept must include application/json and text/event-stream"))
    body = await _read_body(request, settings.max_request_body_bytes)
    try:
        message = _decoder.decode(body)
    except msgspec.DecodeError:
        raise fail(None, RpcFailure(PARSE_ERROR, "Parse error: body is not JSON", http_status=400)) from None
    if isinstance(message, list) and not modern_header:
        return await answer_batch(request, message, mcp_server, sessions, client_requests)
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        kind = "batches are not supported" if isinstance(message, list) else "not a JSON-RPC 2.0 message"
        raise fail(None, RpcFailure(INVALID_REQUEST, f"Invalid Request: {kind}", http_status=400))
    params = message.get("params")
    body_meta = params.get("_meta") if isinstance(params, dict) else None
    if modern_header or (isinstance(body_meta, dict) and META_PROTOCOL_VERSION in body_meta):
        return await _modern(request, message, mcp_server)
    return await _handshake(request, message, mcp_server, sessions, client_requests)


async def _read_body(request: Request[Any, Any, Any], limit: int) -> bytes:
    """The request body, refused with 413 once it passes ``limit`` (announced or actually sent)."""
    announced = request.headers.get("content-length")
    if announced is not None and announced.isdigit() and int(announced) > limit:
        raise RequestEntityTooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await request.receive()
        if message["type"] != "http.request":  # http.disconnect
            raise ClientException("client disconnected before sending its whole body")
        chunk = message["body"]
        size += len(chunk)
        if size > limit:
            raise RequestEntityTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _modern(
    request: Request[Any, Any, Any], message: dict[str, Any], server: GatewayMcpServer
) -> Response[Any] | Stream:
    """The 2026-07-28 validation ladder, in the SDK's order; the first failing rung answers."""
    method, request_id = message.get("method"), message.get("id")
    if "id" not in message:  # a notification
        version = request.headers.get("mcp-protocol-version")
        if not isinstance(method, str) or (version is not None and version not in MODERN_VERSIONS + HANDSHAKE_VERSIONS):
            code = INVALID_REQUEST if not isinstance(method, str) else UNSUPPORTED_PROTOCOL_VERSION
            raise fail(None, RpcFailure(code, "Invalid notification", http_status=400))
        return Response(b"", status_code=202)
    if not isinstance(method, str) or not isinstance(request_id, (str, int)) or isinstance(request_id, bool):
        raise fail(None, RpcFailure(INVALID_REQUEST, "Invalid Request: needs method and id", http_status=400))
    for name in _ROUTING_HEADERS:
        if len(request.headers.getall(name, [])) > 1:
            raise fail(request_id, RpcFailure(HEADER_MISMATCH, f"{name} sent more than once", http_status=400))
    params = _checked_envelope(request, method, message.get("params", {}), request_id)
    if method == "tools/call" and isinstance(params.get("name"), str):
        problem = param_header_problem(
            request.headers, await server.param_header_rules(params["name"]), params.get("arguments")
        )
        if problem:
            raise fail(request_id, RpcFailure(HEADER_MISMATCH, problem, http_status=400))
    if method == "subscriptions/listen":
        if SSE not in request.headers.get("accept", ""):
            raise Answer(plain(406, "subscriptions/listen needs Accept: text/event-stream"))
        return listen_stream(server, params, request_id)
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
        raise fail(request_id, failure)
    version = meta[META_PROTOCOL_VERSION]
    mismatch = _header_mismatch(request, method, params, version)
    if mismatch:
        raise fail(request_id, RpcFailure(HEADER_MISMATCH, mismatch, http_status=400))
    if not isinstance(version, str):
        raise fail(request_id, RpcFailure(INVALID_PARAMS, "protocolVersion must be a string", http_status=400))
    if version not in MODERN_VERSIONS:
        data = {"supported": list(MODERN_VERSIONS), "requested": version}
        failure = RpcFailure(UNSUPPORTED_PROTOCOL_VERSION, "Unsupported protocol version", data, http_status=400)
        raise fail(request_id, failure)
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
    request: Request[Any, Any, Any],
    message: dict[str, Any],
    server: GatewayMcpServer,
    sessions: SessionCodec,
    client_requests: ClientRequests,
) -> Response[Any] | Stream:
    method, request_id = message.get("method"), message.get("id")
    is_response = not isinstance(method, str) and ("result" in message or "error" in message)
    if not isinstance(method, str) and not is_response:
        raise fail(None, RpcFailure(INVALID_REQUEST, "Invalid Request: no method", http_status=400))
    params = message.get("params") or {}
    if not isinstance(params, dict):
        raise fail(request_id, RpcFailure(INVALID_PARAMS, "params must be an object", http_status=400))
    if method == "initialize":
        result = server.initialize(params.get("protocolVersion"))
        client, capabilities = params.get("clientInfo"), params.get("capabilities")
        name = str(client.get("name", "")) if isinstance(client, dict) else ""
        session_id = sessions.issue(
            result["protocolVersion"],
            capabilities if isinstance(capabilities, dict) else {},
            name,
            current_call().principal.subject,
        )
        body = {"jsonrpc": "2.0", "id": request_id, "result": result}
        return Response(body, media_type=JSON, headers={"Mcp-Session-Id": session_id})
    sent_session = request.headers.get("mcp-session-id")
    if sent_session is None:
        raise fail(request_id, RpcFailure(INVALID_REQUEST, "Bad Request: missing Mcp-Session-Id", http_status=400))
    state = session_state(sessions, sent_session)
    if state is None:
        raise fail(request_id, RpcFailure(INVALID_REQUEST, "Session not found", http_status=404))
    version = request.headers.get("mcp-protocol-version")
    if version is not None and version != state.protocol_version:
        failure = RpcFailure(
            INVALID_REQUEST, f"Bad Request: unsupported MCP-Protocol-Version {version}", http_status=400
        )
        raise fail(request_id, failure)
    if is_response:
        # The agent's answer to a request the gateway relayed (elicitation): wake the call waiting for it.
        client_requests.answer(sent_session, message)
        return Response(b"", status_code=202)
    if "id" not in message:
        if method == "notifications/cancelled":
            client_requests.cancel(sent_session, params.get("requestId"))
        return Response(b"", status_code=202)
    assert isinstance(method, str)
    asker = client_requests.asker(sent_session, state.capabilities)

    def started(task: asyncio.Task[None]) -> None:
        client_requests.track(sent_session, request_id, task)

    accept = request.headers.get("accept", "")
    return await _dispatch(server, method, params, request_id, "handshake", accept, asker, started)


async def _dispatch(
    server: GatewayMcpServer,
    method: str,
    params: dict[str, Any],
    request_id: Any,
    era: str,
    accept: str = "",
    asker: Callable[[Callable[[dict[str, Any]], None]], ServerRequestHandler] | None = None,
    on_started: Callable[[asyncio.Task[None]], None] | None = None,
) -> Response[Any] | Stream:
    if method == "tools/call" and SSE in accept:
        # Streamed, so progress can be relayed and a caller that goes away cancels the backend call.
        meta = params.get("_meta")
        token = meta.get("progressToken") if isinstance(meta, dict) else None
        return await streamed_call(
            server, params, request_id, "modern" if era == "modern" else "handshake", token, asker, on_started
        )
    try:
        result = await server.handle(method, params, "modern" if era == "modern" else "handshake")
    except RpcFailure as failure:
        return rpc_error(request_id, failure)
    except Exception:
        logger.exception("internal error in %s", method)
        return rpc_error(request_id, RpcFailure(INTERNAL_ERROR, "Internal error"))
    return Response({"jsonrpc": "2.0", "id": request_id, "result": result}, media_type=JSON)
