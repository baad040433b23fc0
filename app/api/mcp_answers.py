"""How ``/mcp`` answers early: a JSON-RPC error or a plain HTTP status, raised from any validation rung."""

from __future__ import annotations

from typing import Any

from litestar import Response

from app.domain.mcp import RpcFailure

__all__ = ("JSON", "SSE", "Answer", "fail", "plain", "rpc_error")

JSON = "application/json"
SSE = "text/event-stream"


class Answer(Exception):
    """Ends a request early with ``response`` (each rung of a validation ladder may raise it)."""

    def __init__(self, response: Response[Any]) -> None:
        super().__init__()
        self.response = response


def fail(request_id: Any, failure: RpcFailure) -> Answer:
    return Answer(rpc_error(request_id, failure))


def rpc_error(request_id: Any, failure: RpcFailure, headers: dict[str, str] | None = None) -> Response[Any]:
    body = {"jsonrpc": "2.0", "id": request_id, "error": failure.as_error()}
    return Response(
        body, status_code=failure.http_status, media_type=JSON, headers={**failure.headers, **(headers or {})}
    )


def plain(status: int, text: str, headers: dict[str, str] | None = None) -> Response[Any]:
    return Response(text, status_code=status, media_type="text/plain", headers=headers)
