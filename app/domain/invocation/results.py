"""What one call and one fan-out produced."""

from __future__ import annotations

from typing import Any

import msgspec

from app.adapters.mcp_client import CallResult
from app.errors import GatewayError

__all__ = ("BroadcastOutcome", "CallOutcome", "payload_of")


class CallOutcome(msgspec.Struct, kw_only=True):
    """One ``tools/call`` on one server: its result, or the error that stood in its way."""

    server: str
    tool: str
    duration_ms: float
    result: CallResult | None = None
    raw: msgspec.Raw | None = None
    """The backend's result exactly as received (for lossless forwarding)."""
    error: GatewayError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.result is not None and not self.result.isError

    @property
    def failure(self) -> str | None:
        """Why this call did not succeed (a gateway error or the tool's own ``isError`` text)."""
        if self.error is not None:
            return self.error.message
        if self.result is not None and self.result.isError:
            texts = [c.get("text", "") for c in self.result.content if c.get("type") == "text"]
            return "; ".join(t for t in texts if t) or "the tool reported an error"
        return None


class BroadcastOutcome(msgspec.Struct, kw_only=True):
    """The same call on several servers: every leg, keyed by server, and the wall time of the whole."""

    tool: str
    legs: dict[str, CallOutcome]
    duration_ms: float
    excluded: int = 0
    """Servers left out because the caller may not use them."""

    @property
    def successful(self) -> int:
        return sum(1 for leg in self.legs.values() if leg.ok)

    @property
    def failed(self) -> int:
        return len(self.legs) - self.successful


def payload_of(result: CallResult) -> Any:
    """The value a REST caller wants from a tool result: structured content, else parsed text, else content."""
    if result.structuredContent is not None:
        return result.structuredContent
    texts = [c.get("text") for c in result.content if c.get("type") == "text"]
    if len(texts) == 1 and len(result.content) == 1 and isinstance(texts[0], str):
        try:
            return msgspec.json.decode(texts[0])
        except msgspec.DecodeError:
            return texts[0]
    return result.content
