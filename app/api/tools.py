"""The seed's proxy endpoints: ``/mcp/list-tools``, ``/mcp/invoke``, ``/mcp/invoke-broadcast``."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, QueryParameter

from app.audit import audited
from app.domain.invocation import BroadcastOutcome, Invoker, ToolRouter, payload_of

__all__ = ("BroadcastRequest", "BroadcastResponse", "InvokeRequest", "InvokeResponse", "ProxyController")


class ToolSummary(msgspec.Struct, omit_defaults=True):
    name: str
    description: str | None = None
    title: str | None = None
    inputSchema: dict[str, Any] | None = None  # noqa: N815
    outputSchema: dict[str, Any] | None = None  # noqa: N815
    annotations: dict[str, Any] | None = None


class ToolListResponse(msgspec.Struct):
    mcp_server: str
    tools: list[ToolSummary]
    count: int


class InvokeRequest(msgspec.Struct, forbid_unknown_fields=True):
    tool_name: str
    """The backend tool to run."""
    parameters: dict[str, Any] = msgspec.field(default_factory=dict)
    """Its arguments."""


class InvokeResponse(msgspec.Struct, omit_defaults=True):
    success: bool
    tool_name: str
    mcp_server: str
    result: Any
    execution_time_ms: float
    error: str | None = None
    """The tool's own error text when it reported ``isError``."""


class BroadcastRequest(msgspec.Struct, forbid_unknown_fields=True):
    tool_name: str
    parameters: dict[str, Any] = msgspec.field(default_factory=dict)
    tags: list[str] | None = None
    """Only servers carrying any of these tags."""
    mcp_servers: list[str] | None = None
    """Exactly these servers (default: every server offering the tool)."""


class BroadcastResponse(msgspec.Struct):
    tool_name: str
    total_servers: int
    successful: int
    failed: int
    execution_time_ms: float
    results: dict[str, Any]
    errors: dict[str, str]
    excluded_servers: int = 0
    """Servers offering the tool that the caller may not use (left out, not called)."""


def broadcast_response(outcome: BroadcastOutcome) -> BroadcastResponse:
    results = {s: payload_of(leg.result) for s, leg in outcome.legs.items() if leg.ok and leg.result is not None}
    errors = {s: leg.failure or "failed" for s, leg in outcome.legs.items() if not leg.ok}
    return BroadcastResponse(
        tool_name=outcome.tool,
        total_servers=len(outcome.legs),
        successful=outcome.successful,
        failed=outcome.failed,
        execution_time_ms=outcome.duration_ms,
        results=results,
        errors=errors,
        excluded_servers=outcome.excluded,
    )


ServerQuery = Annotated[str, QueryParameter(name="mcp_server", description="Name of a registered MCP server.")]


class ProxyController(Controller):
    path = "/mcp"
    tags = ["proxy"]

    @get("/list-tools", summary="Tools of one server")
    async def list_tools(self, router: NamedDependency[ToolRouter], mcp_server: ServerQuery) -> ToolListResponse:
        async with audited("list_tools", mcp_server=mcp_server):
            name, listed = await router.server_tools(mcp_server)
            tools = [msgspec.convert(t, ToolSummary) for t in listed]
        return ToolListResponse(mcp_server=name, tools=tools, count=len(tools))

    @post("/invoke", summary="Call a tool on one server", status_code=200)
    async def invoke(
        self, invoker: NamedDependency[Invoker], mcp_server: ServerQuery, data: JSONBody[InvokeRequest]
    ) -> InvokeResponse:
        async with audited(
            "invoke_tool", mcp_server=mcp_server, tool_name=data.tool_name, parameters=data.parameters
        ) as operation:
            outcome = await invoker.call(mcp_server, data.tool_name, data.parameters)
            if not outcome.ok:
                operation.fail(outcome.failure or "the tool reported an error")
        assert outcome.result is not None
        return InvokeResponse(
            success=outcome.ok,
            tool_name=data.tool_name,
            mcp_server=mcp_server,
            result=payload_of(outcome.result),
            execution_time_ms=outcome.duration_ms,
            error=outcome.failure,
        )

    @post("/invoke-broadcast", summary="Call a tool on many servers at once", status_code=200)
    async def invoke_broadcast(
        self, router: NamedDependency[ToolRouter], data: JSONBody[BroadcastRequest]
    ) -> BroadcastResponse:
        async with audited("broadcast", tool_name=data.tool_name, parameters=data.parameters):
            outcome = await router.broadcast(data.tool_name, data.parameters, tags=data.tags, servers=data.mcp_servers)
        return broadcast_response(outcome)
