"""A backend's elicitation during a tool call reaches the agent that declared the capability (handshake era,
official SDK client and SDK backend), and is declined cleanly for agents that did not."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp import Client
from mcp.server.mcpserver import Context
from pydantic import BaseModel

from app.asgi import create_app
from app.settings import Settings
from tests.mcp_backends import Backend
from tests.servers import serve_asgi


class Approval(BaseModel):
    approve: bool
    reason: str = ""


async def deploy(service: str, ctx: Context) -> str:
    """Asks the user to approve before deploying ``service``."""
    answer = await ctx.elicit(f"Deploy {service} to production?", schema=Approval)
    if answer.action == "accept" and answer.data is not None:
        return f"{service}: approved={answer.data.approve} ({answer.data.reason})"
    return f"{service}: {answer.action}"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'gateway.db'}"


@pytest.fixture
def gateway_url(
    make_settings: Callable[..., Settings],
    write_servers_file: Callable[[dict[str, Any]], Path],
    backends: Callable[..., Backend],
) -> Callable[..., Any]:
    @asynccontextmanager
    async def run() -> AsyncIterator[str]:
        backend = backends("deployer", kind="legacy", extra_tools={"deploy": deploy})
        path = write_servers_file({"servers": {"deployer": {"url": backend.url}}})
        with serve_asgi(create_app(make_settings(mcp_servers_file=str(path)))) as base:
            yield f"{base}/mcp"

    return run


async def test_elicitation_is_relayed_to_the_agent_and_its_answer_back(gateway_url: Callable[..., Any]) -> None:
    asked: list[types.ElicitRequestParams] = []

    async def on_elicit(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params)
        return types.ElicitResult(action="accept", content={"approve": True, "reason": "change window open"})

    async with gateway_url() as url, Client(url, mode="legacy", elicitation_callback=on_elicit) as client:
        result = await client.call_tool("deploy", {"service": "billing"})
    assert result.content[0].text == "billing: approved=True (change window open)"
    assert len(asked) == 1
    assert asked[0].message == "Deploy billing to production?"
    assert "approve" in asked[0].requested_schema["properties"]


async def test_a_declined_elicitation_comes_back_as_declined(gateway_url: Callable[..., Any]) -> None:
    async def on_elicit(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        return types.ElicitResult(action="decline")

    async with gateway_url() as url, Client(url, mode="legacy", elicitation_callback=on_elicit) as client:
        result = await client.call_tool("deploy", {"service": "billing"})
    assert result.content[0].text == "billing: decline"


async def test_agent_without_the_capability_gets_a_clean_tool_error(gateway_url: Callable[..., Any]) -> None:
    async with gateway_url() as url, Client(url, mode="legacy") as client:
        result = await client.call_tool("deploy", {"service": "billing"})
    assert result.is_error
    assert "did not declare the elicitation capability" in result.content[0].text
