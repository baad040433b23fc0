"""The gateway as an MCP server: JSON-RPC methods, sessions and errors for the ``/mcp`` endpoint."""

from __future__ import annotations

from app.domain.mcp.errors import RpcFailure
from app.domain.mcp.server import GatewayMcpServer
from app.domain.mcp.sessions import SessionCodec, SessionState

__all__ = ("GatewayMcpServer", "RpcFailure", "SessionCodec", "SessionState")
