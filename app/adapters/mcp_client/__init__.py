"""The gateway's MCP client: Streamable HTTP (both protocol eras) and legacy HTTP+SSE, over httpx."""

from __future__ import annotations

from app.adapters.mcp_client.client import BackendClient, BackendObserver, BackendTarget, CallResult
from app.adapters.mcp_client.jsonrpc import Message
from app.adapters.mcp_client.session_base import CredentialsProvider, NotificationHandler

__all__ = (
    "BackendClient",
    "BackendObserver",
    "BackendTarget",
    "CallResult",
    "CredentialsProvider",
    "Message",
    "NotificationHandler",
)
