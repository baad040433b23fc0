"""Handshake-era session checks on ``/mcp``: the session's stream (GET), ending it (DELETE), batches."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response
from litestar.response import Stream

from app.api.mcp_answers import JSON, SSE, Answer, fail, plain
from app.api.mcp_batch import BATCH_VERSION, run_batch
from app.api.mcp_client_requests import ClientRequests
from app.api.mcp_streams import server_stream
from app.domain.caller import current_call
from app.domain.mcp import GatewayMcpServer, RpcFailure, SessionCodec, SessionState
from app.domain.mcp.ended_sessions import EndedSessions
from app.domain.mcp.errors import INVALID_REQUEST

__all__ = ("answer_batch", "end_session", "session_state", "session_stream")


def session_state(sessions: SessionCodec, session_id: str) -> SessionState | None:
    """The session's state if the id is genuine, current and was opened by this same caller (else 404)."""
    state = sessions.open(session_id)
    if state is None or state.subject != current_call().principal.subject:
        return None
    return state


def session_stream(request: Request[Any, Any, Any], server: GatewayMcpServer, sessions: SessionCodec) -> Stream:
    """GET in the handshake era: the session's server-to-client stream (``list_changed`` notifications)."""
    if SSE not in request.headers.get("accept", ""):
        raise Answer(plain(406, "GET needs Accept: text/event-stream"))
    session_id = request.headers.get("mcp-session-id")
    if session_id is None:
        raise Answer(plain(400, "Bad Request: missing Mcp-Session-Id"))
    if session_state(sessions, session_id) is None:
        raise Answer(plain(404, "Session not found"))
    return server_stream(server)


async def end_session(request: Request[Any, Any, Any], sessions: SessionCodec, ended: EndedSessions) -> Response[Any]:
    """DELETE: the session is refused from now on here, and on every replica within the refresh interval."""
    session_id = request.headers.get("mcp-session-id")
    if session_id is None:
        return plain(400, "Bad Request: missing Mcp-Session-Id")
    state = session_state(sessions, session_id)
    if state is None:
        return plain(404, "Session not found")
    await ended.end(state.nonce, datetime.fromtimestamp(sessions.expires_at(state), UTC))
    return Response(b"", status_code=204)


async def answer_batch(
    request: Request[Any, Any, Any],
    messages: list[Any],
    server: GatewayMcpServer,
    sessions: SessionCodec,
    client_requests: ClientRequests,
) -> Response[Any]:
    session_id = request.headers.get("mcp-session-id")
    state = session_state(sessions, session_id) if session_id is not None else None
    if session_id is None or state is None or state.protocol_version != BATCH_VERSION or not messages:
        problem = "batches are accepted only in 2025-03-26 sessions" if messages else "empty batch"
        raise fail(None, RpcFailure(INVALID_REQUEST, f"Invalid Request: {problem}", http_status=400))
    responses = await run_batch(server, session_id, messages, client_requests)
    return Response(responses, media_type=JSON) if responses else Response(b"", status_code=202)
