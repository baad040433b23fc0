"""JSON-RPC batches on ``/mcp``, accepted in 2025-03-26 sessions (the one revision that requires them).

Each element is handled as if sent alone (requests answered as JSON, never streamed); the answer is the
array of responses in request order, or 202 when the batch held only notifications and responses. Other
revisions and the 2026-07-28 envelope take one message per request, so a batch there is ``-32600``.
"""

from __future__ import annotations

from typing import Any

from app.api.mcp_client_requests import ClientRequests
from app.domain.mcp import GatewayMcpServer, RpcFailure
from app.domain.mcp.errors import INTERNAL_ERROR, INVALID_REQUEST

__all__ = ("BATCH_VERSION", "run_batch")

BATCH_VERSION = "2025-03-26"


async def run_batch(
    server: GatewayMcpServer, session_id: str, messages: list[Any], client_requests: ClientRequests
) -> list[dict[str, Any]]:
    """The responses to the requests of ``messages`` (empty when none needs one)."""
    responses: list[dict[str, Any]] = []
    for message in messages:
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            responses.append(_error(None, INVALID_REQUEST, "Invalid Request: not a JSON-RPC 2.0 message"))
            continue
        method, request_id = message.get("method"), message.get("id")
        if not isinstance(method, str):
            if "result" in message or "error" in message:
                client_requests.answer(session_id, message)
            else:
                responses.append(_error(request_id, INVALID_REQUEST, "Invalid Request: no method"))
            continue
        if "id" not in message:
            continue  # a notification
        if method == "initialize":
            responses.append(_error(request_id, INVALID_REQUEST, "initialize must not be part of a batch"))
            continue
        params = message.get("params") or {}
        if not isinstance(params, dict):
            responses.append(_error(request_id, INVALID_REQUEST, "params must be an object"))
            continue
        try:
            result = await server.handle(method, params, "handshake")
        except RpcFailure as failure:
            responses.append({"jsonrpc": "2.0", "id": request_id, "error": failure.as_error()})
        except Exception:
            responses.append(_error(request_id, INTERNAL_ERROR, "Internal error"))
        else:
            responses.append({"jsonrpc": "2.0", "id": request_id, "result": result})
    return responses


def _error(request_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}
