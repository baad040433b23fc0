"""The standard endpoints: ``GET /tools`` (aggregated) and ``POST /tools/{tool_name}/invoke`` (MCP results)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from app.audit import audited
from app.domain.catalog import ToolCatalog
from app.domain.invocation import ToolRouter

__all__ = ("StandardController",)


class StandardController(Controller):
    path = "/tools"
    tags = ["standard"]

    @get("/", summary="Every tool of every enabled server, plus broadcast tools")
    async def list_tools(self, catalog: NamedDependency[ToolCatalog]) -> dict[str, Any]:
        async with audited("list_tools"):
            return {"tools": (await catalog.view()).tools()}

    @post(
        "/{tool_name:str}/invoke",
        summary="Call a tool by its listed name",
        description="Body: the tool's arguments. A tool on several servers (or a broadcast__ tool) runs on all of "
        "them; the result is MCP content with a summary text and a gateway://results/<tool> resource.",
        status_code=200,
    )
    async def invoke(
        self, router: NamedDependency[ToolRouter], tool_name: FromPath[str], data: JSONBody[dict[str, Any]]
    ) -> dict[str, Any]:
        async with audited("invoke_tool", tool_name=tool_name, parameters=data) as operation:
            result = await router.call(tool_name, data)
            operation.note_tool_result(result)
            return result
