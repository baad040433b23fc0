"""JSON-RPC errors of the ``/mcp`` endpoint, with the HTTP status each travels with."""

from __future__ import annotations

from typing import Any, Final

__all__ = (
    "FORBIDDEN",
    "HEADER_MISMATCH",
    "INTERNAL_ERROR",
    "INVALID_PARAMS",
    "INVALID_REQUEST",
    "METHOD_NOT_FOUND",
    "PARSE_ERROR",
    "UNSUPPORTED_PROTOCOL_VERSION",
    "RpcFailure",
)

PARSE_ERROR: Final = -32700
INVALID_REQUEST: Final = -32600
METHOD_NOT_FOUND: Final = -32601
INVALID_PARAMS: Final = -32602
INTERNAL_ERROR: Final = -32603
FORBIDDEN: Final = -32003
"""Implementation code (the -32000…-32019 range): the caller may not use what it asked for; HTTP 403."""
HEADER_MISMATCH: Final = -32020
UNSUPPORTED_PROTOCOL_VERSION: Final = -32022


class RpcFailure(Exception):
    """A request that ends in a JSON-RPC error (``code``, ``message``, optional ``data``)."""

    def __init__(
        self,
        code: int,
        message: str,
        data: Any = None,
        *,
        http_status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data
        self.http_status = http_status
        """The status of the HTTP answer carrying this error (the 2026-07-28 table, or the handshake-era rules)."""
        self.headers = headers or {}
        """Headers for that HTTP answer, e.g. the ``WWW-Authenticate`` challenge of a 403."""

    def as_error(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error
