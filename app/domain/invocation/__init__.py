"""Calling tools: the backend pool, one-server invocation and many-server broadcast."""

from __future__ import annotations

from app.domain.invocation.invoker import Broadcaster, Invoker
from app.domain.invocation.results import BroadcastOutcome, CallOutcome, payload_of
from app.domain.invocation.router import ToolRouter, broadcast_tool_result, results_uri

__all__ = (
    "BroadcastOutcome",
    "Broadcaster",
    "CallOutcome",
    "Invoker",
    "ToolRouter",
    "broadcast_tool_result",
    "payload_of",
    "results_uri",
)
